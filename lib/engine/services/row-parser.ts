// Incremental parser for `{"...": ..., "results": [row, row, ...], "...": ...}` bodies (N1QL
// "results", views "rows"). Bytes are scanned once as they arrive; rows that lie whole inside a
// chunk are parsed together with one JSON.parse per chunk, a row straddling chunks is stitched
// from its pieces. Every other top-level field is kept and parsed at the end (meta). Nothing
// else is retained, so memory stays flat however many rows stream through.

export class RowParseError extends Error {}

const enum S {
  Before,
  KeyOrEnd,
  Key,
  Colon,
  ValueStart,
  Value,
  RowsElemOrEnd,
  Row,
  AfterValue,
  Done,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export class RowStreamParser {
  /** Rows handed over so far. */
  rowCount = 0;
  private state = S.Before;
  private readonly rowsKey: string;
  private readonly onRows: (rows: unknown[]) => void;
  private keyParts: Buffer[] = [];
  private currentKey = '';
  private inRows = false;
  // value scanner
  private vDepth = 0;
  private vInStr = false;
  private vEsc = false;
  private vScalar = false;
  /** Pieces of a value (meta field or row) that began in an earlier chunk. */
  private parts: Buffer[] = [];
  private readonly meta: Record<string, unknown> = {};
  private sawRows = false;

  constructor(rowsKey: string, onRows: (rows: unknown[]) => void) {
    this.rowsKey = rowsKey;
    this.onRows = onRows;
  }

  /** Scans a chunk; calls onRows once with the rows completed in it (if any). */
  push(buf: Buffer): void {
    const len = buf.length;
    let i = 0;
    // Rows completed entirely inside this chunk: [batchStart, batchEnd)
    let batchStart = -1;
    let batchEnd = -1;
    let stitched: unknown = undefined;
    let hasStitched = false;
    let valueStart = -1;
    while (i < len) {
      switch (this.state) {
        case S.Before: {
          const c = buf[i++];
          if (c === LBRACE) this.state = S.KeyOrEnd;
          else if (!isWs(c)) throw new RowParseError(`response body does not start with a JSON object (byte 0x${c.toString(16)})`);
          break;
        }
        case S.KeyOrEnd: {
          const c = buf[i++];
          if (c === QUOTE) {
            this.state = S.Key;
            this.keyParts = [];
            this.vEsc = false;
            valueStart = i;
          } else if (c === RBRACE) this.state = S.Done;
          else if (!isWs(c) && c !== COMMA) throw new RowParseError('expected a field name in the response object');
          break;
        }
        case S.Key: {
          // keys are short and plain; an escaped quote inside a key is handled via vEsc
          const start = valueStart >= 0 ? valueStart : i;
          let j = i;
          let end = -1;
          for (; j < len; j++) {
            const c = buf[j];
            if (this.vEsc) this.vEsc = false;
            else if (c === BACKSLASH) this.vEsc = true;
            else if (c === QUOTE) {
              end = j;
              break;
            }
          }
          if (end < 0) {
            this.keyParts.push(buf.subarray(start, len));
            i = len;
            valueStart = -1;
            break;
          }
          this.keyParts.push(buf.subarray(start, end));
          this.currentKey = JSON.parse('"' + Buffer.concat(this.keyParts).toString('utf8') + '"') as string;
          this.keyParts = [];
          valueStart = -1;
          i = end + 1;
          this.state = S.Colon;
          break;
        }
        case S.Colon: {
          const c = buf[i++];
          if (c === COLON) this.state = S.ValueStart;
          else if (!isWs(c)) throw new RowParseError(`expected ":" after field "${this.currentKey}"`);
          break;
        }
        case S.ValueStart: {
          const c = buf[i];
          if (isWs(c)) {
            i++;
            break;
          }
          if (c === LBRACKET && this.currentKey === this.rowsKey) {
            this.inRows = true;
            this.sawRows = true;
            this.state = S.RowsElemOrEnd;
            i++;
            break;
          }
          this.beginValue(c);
          this.parts = [];
          valueStart = i;
          i = this.vScalar ? i : i + 1;
          this.state = S.Value;
          break;
        }
        case S.Value: {
          const from = valueStart >= 0 ? valueStart : 0;
          const end = this.scanValue(buf, i);
          if (end < 0) {
            this.parts.push(buf.subarray(from, len));
            valueStart = -1;
            i = len;
            break;
          }
          this.parts.push(buf.subarray(from, end));
          const text = this.parts.length === 1 ? this.parts[0].toString('utf8') : Buffer.concat(this.parts).toString('utf8');
          this.parts = [];
          try {
            this.meta[this.currentKey] = JSON.parse(text);
          } catch {
            throw new RowParseError(`field "${this.currentKey}" of the response is not valid JSON`);
          }
          valueStart = -1;
          i = end;
          this.state = S.AfterValue;
          break;
        }
        case S.RowsElemOrEnd: {
          const c = buf[i];
          if (isWs(c) || c === COMMA) {
            i++;
            break;
          }
          if (c === RBRACKET) {
            i++;
            this.inRows = false;
            this.state = S.AfterValue;
            break;
          }
          this.beginValue(c);
          this.parts = [];
          valueStart = i;
          if (batchStart < 0) batchStart = i;
          i = this.vScalar ? i : i + 1;
          this.state = S.Row;
          break;
        }
        case S.Row: {
          const end = this.scanValue(buf, i);
          if (end < 0) {
            // Row continues in the next chunk: keep its piece, close the batch before it.
            const from = valueStart >= 0 ? valueStart : 0;
            this.parts.push(buf.subarray(from, len));
            if (valueStart >= 0 && batchStart === valueStart) batchStart = -1;
            valueStart = -1;
            i = len;
            break;
          }
          if (valueStart >= 0) {
            batchEnd = end; // whole row inside this chunk: part of the batch
          } else {
            // First row of this chunk finishes a row that began earlier.
            this.parts.push(buf.subarray(0, end));
            const text = Buffer.concat(this.parts).toString('utf8');
            this.parts = [];
            try {
              stitched = JSON.parse(text);
            } catch {
              throw new RowParseError(`row ${this.rowCount + 1} of the response is not valid JSON`);
            }
            hasStitched = true;
          }
          valueStart = -1;
          i = end;
          this.state = S.RowsElemOrEnd;
          break;
        }
        case S.AfterValue: {
          const c = buf[i++];
          if (c === COMMA) this.state = S.KeyOrEnd;
          else if (c === RBRACE) this.state = S.Done;
          else if (!isWs(c)) throw new RowParseError(`expected "," or "}" after field "${this.currentKey}"`);
          break;
        }
        case S.Done: {
          const c = buf[i++];
          if (!isWs(c)) throw new RowParseError('unexpected bytes after the end of the response object');
          break;
        }
      }
    }
    if (valueStart >= 0 && (this.state === S.Value || this.state === S.Row)) {
      // The value's first byte was the chunk's last: keep it for the next chunk.
      this.parts.push(buf.subarray(valueStart, len));
      if (batchStart === valueStart) batchStart = -1;
    }
    let rows: unknown[] | null = null;
    if (batchStart >= 0 && batchEnd > batchStart) {
      try {
        rows = JSON.parse('[' + buf.toString('utf8', batchStart, batchEnd) + ']') as unknown[];
      } catch {
        throw new RowParseError(`a row near row ${this.rowCount + 1} of the response is not valid JSON`);
      }
      if (hasStitched) rows.unshift(stitched);
    } else if (hasStitched) {
      rows = [stitched];
    }
    if (rows !== null && rows.length > 0) {
      this.rowCount += rows.length;
      this.onRows(rows);
    }
  }

  /** True once the closing brace of the response object was seen. */
  get complete(): boolean {
    return this.state === S.Done;
  }

  /** True while the parser is inside the rows array (a cut here is a cut mid-rows). */
  get insideRows(): boolean {
    return this.inRows;
  }

  get sawRowsField(): boolean {
    return this.sawRows;
  }

  /** Every field but the rows; throws if the body ended before the object closed. */
  finish(): Record<string, unknown> {
    if (this.state !== S.Done) {
      throw new RowParseError(this.state === S.Row ? `the response was cut off in the middle of row ${this.rowCount + 1}` : 'the response ended before its JSON object was complete');
    }
    return this.meta;
  }

  /** Fields seen so far (for errors on incomplete bodies). */
  partialMeta(): Record<string, unknown> {
    return this.meta;
  }

  private beginValue(c: number): void {
    this.vDepth = 0;
    this.vInStr = false;
    this.vEsc = false;
    this.vScalar = false;
    if (c === QUOTE) this.vInStr = true;
    else if (c === LBRACE || c === LBRACKET) this.vDepth = 1;
    else this.vScalar = true;
  }

  /** Continues scanning the current value from buf[i]; returns its end (exclusive) or -1. */
  private scanValue(buf: Buffer, i: number): number {
    const len = buf.length;
    if (this.vScalar) {
      for (; i < len; i++) {
        const c = buf[i];
        if (c === COMMA || c === RBRACKET || c === RBRACE || isWs(c)) {
          this.vScalar = false;
          return i;
        }
      }
      return -1;
    }
    let d = this.vDepth;
    let s = this.vInStr;
    let e = this.vEsc;
    for (; i < len; i++) {
      const c = buf[i];
      if (s) {
        if (e) e = false;
        else if (c === BACKSLASH) e = true;
        else if (c === QUOTE) {
          s = false;
          if (d === 0) {
            this.vDepth = 0;
            this.vInStr = false;
            this.vEsc = false;
            return i + 1;
          }
        }
        continue;
      }
      if (c === QUOTE) s = true;
      else if (c === LBRACE || c === LBRACKET) d++;
      else if (c === RBRACE || c === RBRACKET) {
        d--;
        if (d === 0) {
          this.vDepth = 0;
          this.vInStr = false;
          this.vEsc = false;
          return i + 1;
        }
      }
    }
    this.vDepth = d;
    this.vInStr = s;
    this.vEsc = e;
    return -1;
  }
}
