// Tokeniser for N1QL. Tokens remember their offset, line and column so parse errors can point
// at the offending token the way Couchbase does ("line 1, column 10, near '...', at: FRM").
import { syntaxError } from './errors';
import { fromInteger } from './int64';

export type TokenKind =
  | 'ident' // bare identifier or keyword (keyword-ness is decided by the parser)
  | 'qident' // `quoted identifier`
  | 'string'
  | 'number'
  | 'param' // $1 / $name
  | 'op'
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** Identifier/keyword text, decoded string, operator text, or parameter name without `$`. */
  text: string;
  /** Upper-case text of bare identifiers, for keyword matching. */
  upper: string;
  num?: number | bigint;
  /** `name`i: a case-insensitive identifier. */
  ci?: boolean;
  offset: number;
  end: number;
  line: number;
  column: number;
}

const OPERATORS = ['||', '<=', '>=', '!=', '<>', '==', '=', '<', '>', '+', '-', '*', '/', '%', '.', ',', '(', ')', '[', ']', '{', '}', ':', ';', '?'];

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c > '\x7f';
}

function isIdentPart(c: string): boolean {
  return isIdentStart(c) || (c >= '0' && c <= '9') || c === '$';
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const n = src.length;

  const fail = (msg: string, at: number): never => {
    throw syntaxError(`syntax error - line ${line}, column ${at - lineStart + 1}, near '${near(src, at)}', at: ${msg}`);
  };

  while (i < n) {
    const c = src[i];
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if (c === '-' && src[i + 1] === '-') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const close = src.indexOf('*/', i + 2);
      if (close < 0) fail('unterminated comment', i);
      for (let j = i; j < close; j++) {
        if (src[j] === '\n') {
          line++;
          lineStart = j + 1;
        }
      }
      i = close + 2;
      continue;
    }
    const start = i;
    const tok = (kind: TokenKind, text: string, extra?: Partial<Token>): void => {
      tokens.push({ kind, text, upper: kind === 'ident' ? text.toUpperCase() : text, offset: start, end: i, line, column: start - lineStart + 1, ...extra });
    };
    if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentPart(src[i])) i++;
      tok('ident', src.slice(start, i));
      continue;
    }
    if (c === '`') {
      let text = '';
      i++;
      for (;;) {
        if (i >= n) fail('unterminated quoted identifier', start);
        if (src[i] === '`') {
          if (src[i + 1] === '`') {
            text += '`';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += src[i++];
      }
      // `name`i matches the field name without regard to case.
      if ((src[i] === 'i' || src[i] === 'I') && !isIdentPart(src[i + 1] ?? '')) {
        i++;
        tok('qident', text, { ci: true });
        continue;
      }
      tok('qident', text);
      continue;
    }
    if (c === '"' || c === "'") {
      const quote = c;
      let text = '';
      i++;
      for (;;) {
        if (i >= n) fail('unterminated string', start);
        const ch = src[i];
        if (ch === quote) {
          if (src[i + 1] === quote) {
            text += quote;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (ch === '\\') {
          const e = src[i + 1];
          i += 2;
          switch (e) {
            case 'n': text += '\n'; break;
            case 't': text += '\t'; break;
            case 'r': text += '\r'; break;
            case 'b': text += '\b'; break;
            case 'f': text += '\f'; break;
            case '/': text += '/'; break;
            case '\\': text += '\\'; break;
            case '"': text += '"'; break;
            case "'": text += "'"; break;
            case '`': text += '`'; break;
            case 'u': {
              const hex = src.slice(i, i + 4);
              if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape', i);
              text += String.fromCharCode(parseInt(hex, 16));
              i += 4;
              break;
            }
            default:
              // Couchbase keeps unknown escapes' backslash (so LIKE patterns can use \% and \_).
              text += '\\' + (e ?? '');
          }
          continue;
        }
        if (ch === '\n') {
          line++;
          lineStart = i + 1;
        }
        text += ch;
        i++;
      }
      tok('string', text);
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(src[i + 1] ?? ''))) {
      while (i < n && isDigit(src[i])) i++;
      if (src[i] === '.' && isDigit(src[i + 1] ?? '')) {
        i++;
        while (i < n && isDigit(src[i])) i++;
      } else if (src[i] === '.' && !isIdentStart(src[i + 1] ?? '')) {
        i++;
      }
      if ((src[i] === 'e' || src[i] === 'E') && (isDigit(src[i + 1] ?? '') || ((src[i + 1] === '+' || src[i + 1] === '-') && isDigit(src[i + 2] ?? '')))) {
        i += 2;
        while (i < n && isDigit(src[i])) i++;
      }
      const text = src.slice(start, i);
      // An integer keeps all its digits while it fits int64 (as the server's parser reads it).
      tok('number', text, { num: /^\d+$/.test(text) ? fromInteger(text) : Number(text) });
      continue;
    }
    if (c === '$') {
      i++;
      while (i < n && isIdentPart(src[i])) i++;
      if (i === start + 1) fail('$', start);
      tok('param', src.slice(start + 1, i));
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) fail(c, i);
    i += op!.length;
    tok('op', op!);
  }
  tokens.push({ kind: 'eof', text: '', upper: '', offset: n, end: n, line, column: n - lineStart + 1 });
  return tokens;
}

/** The statement text just before `offset`, as Couchbase quotes it in syntax errors. */
export function near(src: string, offset: number): string {
  const from = Math.max(0, offset - 20);
  return (from > 0 ? '...' : '') + src.slice(from, offset).replace(/\s+/g, ' ');
}
