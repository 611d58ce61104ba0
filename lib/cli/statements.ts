// Splits shell input into N1QL statements: a statement ends at a `;` that is outside string
// literals, quoted identifiers and comments, wherever the line breaks fall.

export class StatementBuffer {
  private text = '';
  /** Open quote character, or '' outside quotes. */
  private quote = '';
  private blockComment = false;

  /** True while a statement has been started but not ended. */
  get pending(): boolean {
    return this.text.trim().length > 0;
  }

  /** Drops the unfinished statement. */
  clear(): void {
    this.text = '';
    this.quote = '';
    this.blockComment = false;
  }

  /** Adds one line; returns the statements it completed (without their `;`), in order. */
  push(line: string): string[] {
    const done: string[] = [];
    let start = 0;
    let lineComment = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (lineComment) break;
      if (this.blockComment) {
        if (c === '*' && line[i + 1] === '/') {
          this.blockComment = false;
          i++;
        }
        continue;
      }
      if (this.quote !== '') {
        if (c === '\\' && this.quote !== '`') i++;
        else if (c === this.quote) {
          // A doubled quote is an escaped quote inside the literal.
          if (line[i + 1] === this.quote) i++;
          else this.quote = '';
        }
        continue;
      }
      if (c === '"' || c === "'" || c === '`') this.quote = c;
      else if (c === '-' && line[i + 1] === '-') lineComment = true;
      else if (c === '/' && line[i + 1] === '*') {
        this.blockComment = true;
        i++;
      } else if (c === ';') {
        const stmt = (this.text + line.slice(start, i)).trim();
        this.text = '';
        start = i + 1;
        if (stmt.length > 0) done.push(stmt);
      }
    }
    const rest = line.slice(start);
    if (rest.trim().length > 0 || this.text.length > 0) this.text += rest + '\n';
    return done;
  }

  /** What is left unfinished (for -e / end of file, where a final `;` may be omitted). */
  takeRest(): string | undefined {
    const rest = this.text.trim();
    this.clear();
    return rest.length > 0 ? rest : undefined;
  }
}
