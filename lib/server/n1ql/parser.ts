// Recursive-descent parser for N1QL statements, with a Pratt parser for expressions. Binding
// powers follow the precedence table of Couchbase's yacc grammar (n1ql.y).
import type * as A from './ast';
import { sourcePos } from './ast';
import { QueryError, syntaxError } from './errors';
import { isNumeric, negate } from './int64';
import { near, tokenize, type Token } from './lexer';
import { parseCollectionDdl } from './collections';

// Words that can never be an unquoted identifier (a subset of Couchbase's reserved list that
// covers everything the grammar below gives meaning to, plus the common rest).
const RESERVED = new Set(
  (
    'ADVISE ALL ALTER ANALYZE AND ANY ARRAY AS ASC AT BEGIN BETWEEN BINARY BOOLEAN BREAK BUCKET BUILD BY CALL CASE CAST CLUSTER ' +
    'COLLATE COLLECTION COMMIT COMMITTED CONNECT CONTINUE CORRELATED COVER CREATE CURRENT DATABASE DATASET DATASTORE DECLARE ' +
    'DECREMENT DELETE DERIVED DESC DESCRIBE DISTINCT DO DROP EACH ELEMENT ELSE END EVERY EXCEPT EXCLUDE EXECUTE EXISTS EXPLAIN ' +
    'FALSE FETCH FILTER FIRST FLATTEN FLUSH FOLLOWING FOR FORCE FROM FTS FUNCTION GOLANG GRANT GROUP GROUPS GSI HASH HAVING IF ' +
    'IGNORE ILIKE IN INCLUDE INCREMENT INDEX INFER INLINE INNER INSERT INTERSECT INTO IS ISOLATION JAVASCRIPT JOIN KEY KEYS ' +
    'KEYSPACE KNOWN LANGUAGE LAST LEFT LET LETTING LEVEL LIKE LIMIT LSM MAP MAPPING MATCHED MATERIALIZED MERGE MINUS MISSING ' +
    'NAMESPACE NEST NL NO NOT NTH_VALUE NULL NULLS NUMBER OBJECT OFFSET ON OPTION OPTIONS OR ORDER OTHERS OUTER OVER PARSE ' +
    'PARTITION PASSWORD PATH POOL PRECEDING PREPARE PRIMARY PRIVATE PRIVILEGE PROBE PROCEDURE PUBLIC RANGE RAW REALM REDUCE ' +
    'RENAME RESPECT RETURN RETURNING REVOKE RIGHT ROLE ROLLBACK ROW ROWS SATISFIES SCHEMA SCOPE SELECT SELF SEMI SET SHOW SOME ' +
    'START STATISTICS STRING SYSTEM THEN TIES TO TRANSACTION TRIGGER TRUE TRUNCATE UNBOUNDED UNDER UNION UNIQUE UNKNOWN UNNEST ' +
    'UNSET UPDATE UPSERT USE USER USING VALIDATE VALUE VALUED VALUES VIA VIEW WHEN WHERE WHILE WINDOW WITH WITHIN WORK XOR'
  ).split(' '),
);

// Reserved words that are still allowed as function names.
const RESERVED_FUNCTIONS = new Set(['ARRAY', 'OBJECT', 'FIRST', 'KEYS', 'LAST', 'STRING', 'NUMBER', 'BOOLEAN', 'BINARY', 'REPLACE', 'NTH_VALUE']);

const BP = {
  OR: 1,
  AND: 2,
  NOT: 3,
  EQ: 4,
  CMP: 5,
  LIKE: 6,
  BETWEEN: 7,
  IN: 8,
  IS: 10,
  CONCAT: 11,
  ADD: 12,
  MUL: 13,
  UNARY: 14,
  POSTFIX: 15,
} as const;

/** Statements with a FROM term that is a query parameter (FROM $ks): bound to their values when run. */
const withParamSources = new WeakSet<A.Statement>();

export function parse(src: string): A.Statement {
  const ddl = parseCollectionDdl(src);
  if (ddl !== undefined) return ddl;
  const p = new Parser(src);
  let stmt: A.Statement;
  try {
    stmt = p.parseStatementText();
  } catch (err) {
    // The parser descends recursively: a few thousand nested brackets exhaust the call stack.
    if (err instanceof RangeError) throw syntaxError('syntax error - the statement nests expressions too deeply to parse (keep nesting under 1,000 levels)');
    throw err;
  }
  if (p.paramSources) {
    // EXPLAIN and PREPARE hold the statement that runs: it carries the mark too.
    for (let s: A.Statement = stmt; ; s = s.stmt) {
      withParamSources.add(s);
      if (s.type !== 'explain' && s.type !== 'prepare') break;
    }
  }
  return stmt;
}

/** Whether a parsed statement has a FROM $param term (see ./keyspace-params). */
export function hasParamSources(stmt: A.Statement): boolean {
  return withParamSources.has(stmt);
}

/** Parses a standalone expression (index keys stored as text, tests). */
export function parseExpression(src: string): A.Expr {
  const p = new Parser(src);
  const e = p.expr();
  p.expectEof();
  return e;
}

/**
 * A recursive CTE's anchor and step: the left and right arms of the UNION [ALL] its SELECT ends
 * with. Without a UNION the CTE is an ordinary one (undefined).
 */
function recursiveArms(q: A.SelectStatement): A.RecursiveCte | undefined {
  if (q.body.kind !== 'setop' || q.body.op !== 'union') return undefined;
  const cte: A.RecursiveCte = {
    anchor: { type: 'select', with: q.with, body: q.body.left },
    step: { type: 'select', with: [], body: q.body.right },
    all: q.body.all,
  };
  if (q.orderBy || q.limit || q.offset) cte.ordered = true;
  return cte;
}

/** NO MAXVALUE, NO MINVALUE, NO CYCLE, NO CACHE: the clause each removes. */
const NO_SEQUENCE_CLAUSE = { MAXVALUE: 'max', MINVALUE: 'min', CYCLE: 'cycle', CACHE: 'cache' } as const;

class Parser {
  /** Set when a FROM term is a query parameter. */
  paramSources = false;
  private readonly toks: Token[];
  private pos = 0;
  private positional = 0;
  private aggCount = 0;

  constructor(private readonly src: string) {
    this.toks = tokenize(src);
  }

  // ---- token helpers ----
  private get t(): Token {
    return this.toks[this.pos];
  }

  private peek(n = 1): Token {
    return this.toks[Math.min(this.pos + n, this.toks.length - 1)];
  }

  private next(): Token {
    const t = this.toks[this.pos];
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private isKw(word: string, tok: Token = this.t): boolean {
    return tok.kind === 'ident' && tok.upper === word;
  }

  private acceptKw(word: string): boolean {
    if (this.isKw(word)) {
      this.pos++;
      return true;
    }
    return false;
  }

  private expectKw(word: string): void {
    if (!this.acceptKw(word)) this.fail();
  }

  private isOp(op: string, tok: Token = this.t): boolean {
    return tok.kind === 'op' && tok.text === op;
  }

  private acceptOp(op: string): boolean {
    if (this.isOp(op)) {
      this.pos++;
      return true;
    }
    return false;
  }

  private expectOp(op: string): void {
    if (!this.acceptOp(op)) this.fail();
  }

  fail(tok: Token = this.t): never {
    // At the end of input the query service's lexer has no token left to point at, so its
    // message carries no position: "syntax error - at end of input".
    if (tok.kind === 'eof') throw syntaxError('syntax error - at end of input');
    let at = this.src.slice(tok.offset, tok.end);
    if (tok.kind === 'ident' && RESERVED.has(tok.upper)) at += ' (reserved word)';
    throw syntaxError(`syntax error - line ${tok.line}, column ${tok.column}, near '${near(this.src, tok.offset)}', at: ${at}`);
  }

  expectEof(): void {
    this.acceptOp(';');
    if (this.t.kind !== 'eof') this.fail();
  }

  private isIdentTok(tok: Token = this.t): boolean {
    return tok.kind === 'qident' || (tok.kind === 'ident' && !RESERVED.has(tok.upper));
  }

  private ident(): string {
    if (!this.isIdentTok()) this.fail();
    return this.next().text;
  }

  // ---- statements ----
  parseStatementText(): A.Statement {
    const stmt = this.statement();
    this.expectEof();
    return stmt;
  }

  private statement(): A.Statement {
    const t = this.t;
    if (t.kind === 'op' && t.text === '(') return this.selectStatement();
    if (t.kind !== 'ident') this.fail();
    switch (t.upper) {
      case 'SELECT':
      case 'WITH':
        return this.selectStatement();
      case 'INSERT':
      case 'UPSERT':
        return this.insert();
      case 'UPDATE':
        if (this.isKw('STATISTICS', this.peek())) return this.updateStatistics();
        return this.update();
      case 'DELETE':
        return this.deleteStmt();
      case 'MERGE':
        return this.merge();
      case 'CREATE':
        if (this.isKw('SEQUENCE', this.peek())) return this.sequenceDdl();
        if (this.isKw('FUNCTION', this.peek()) || (this.isKw('OR', this.peek()) && this.isKw('REPLACE', this.peek(2)))) return this.createFunction();
        return this.createIndex();
      case 'DROP':
        if (this.isKw('SEQUENCE', this.peek())) return this.sequenceDdl();
        if (this.isKw('FUNCTION', this.peek())) return this.dropFunction();
        return this.dropIndex();
      case 'BUILD':
        return this.buildIndex();
      case 'ALTER':
        if (this.isKw('SEQUENCE', this.peek())) return this.sequenceDdl();
        if (this.isKw('INDEX', this.peek())) return this.alterIndex();
        this.fail();
      case 'GRANT':
      case 'REVOKE':
        return this.grant();
      case 'BEGIN':
      case 'START':
      case 'COMMIT':
      case 'ROLLBACK':
      case 'SAVEPOINT':
      case 'SET':
        return this.transaction();
      case 'EXPLAIN': {
        this.next();
        const start = this.t.offset;
        const stmt = this.statement();
        return { type: 'explain', stmt, text: this.src.slice(start, this.t.offset).trim() };
      }
      case 'PREPARE':
        return this.prepare();
      case 'EXECUTE': {
        this.next();
        if (this.acceptKw('FUNCTION')) {
          const name = this.functionName();
          this.expectOp('(');
          const args: A.Expr[] = [];
          if (!this.isOp(')')) {
            do args.push(this.expr());
            while (this.acceptOp(','));
          }
          this.expectOp(')');
          return { type: 'executeFunction', name, args };
        }
        const name = this.isIdentTok() ? ({ kind: 'lit', value: this.next().text } as A.Expr) : this.expr();
        const using = this.acceptKw('USING') ? this.expr() : undefined;
        return { type: 'execute', name, using };
      }
      case 'ANALYZE':
        return this.updateStatistics();
      case 'INFER':
        return this.infer();
      case 'ADVISE': {
        this.next();
        this.acceptKw('INDEX');
        const start = this.t.offset;
        const stmt = this.statement();
        return { type: 'advise', stmt, text: this.src.slice(start, this.t.offset).trim() };
      }
      default:
        this.fail();
    }
  }

  /** (UPDATE STATISTICS | ANALYZE) [FOR] ks (exprs) | ks INDEX (names) | ks INDEX ALL | ks DELETE (...) | ALL, or FOR INDEX name ON ks. */
  private updateStatistics(): A.UpdateStatisticsStatement {
    if (this.next().upper === 'UPDATE') this.expectKw('STATISTICS');
    const hasFor = this.acceptKw('FOR');
    let stmt: A.UpdateStatisticsStatement;
    if (hasFor && this.isKw('INDEX')) {
      this.next();
      const name = this.t.kind === 'string' ? this.next().text : this.ident();
      this.expectKw('ON');
      stmt = { type: 'updateStatistics', ks: this.keyspaceRef(), indexes: { names: [{ kind: 'lit', value: name }] } };
    } else {
      const ks = this.keyspaceRef();
      stmt = { type: 'updateStatistics', ks };
      const list = (): A.Expr[] => {
        this.expectOp('(');
        const out: A.Expr[] = [];
        do out.push(this.expr());
        while (this.acceptOp(','));
        this.expectOp(')');
        return out;
      };
      if (this.acceptKw('INDEX')) {
        if (this.acceptKw('ALL')) stmt.indexes = 'all';
        else {
          // Names as identifiers or strings, or one expression (a subquery) giving an array of them.
          this.expectOp('(');
          const names: A.Expr[] = [];
          do names.push(this.isIdentTok() && (this.isOp(',', this.peek()) || this.isOp(')', this.peek())) ? { kind: 'lit', value: this.next().text } : this.expr());
          while (this.acceptOp(','));
          this.expectOp(')');
          stmt.indexes = { names };
        }
      } else if (this.acceptKw('DELETE')) {
        stmt.delete = this.acceptKw('ALL') ? 'all' : list();
      } else stmt.exprs = list();
    }
    if (stmt.indexes && this.acceptKw('USING')) {
      const using = this.next();
      if (using.upper !== 'GSI') throw new QueryError(3270, 'UPDATE STATISTICS (ANALYZE) supports GSI indexes only for INDEX option.');
    }
    if (this.acceptKw('WITH')) stmt.with = this.expr();
    return stmt;
  }

  /** INFER [COLLECTION | KEYSPACE] ks [WITH options] | INFER expression [WITH options]. */
  private infer(): A.InferStatement {
    this.expectKw('INFER');
    const kw = this.acceptKw('COLLECTION') || this.acceptKw('KEYSPACE');
    const stmt: A.InferStatement = { type: 'infer' };
    if (!kw && !this.isIdentTok()) stmt.expr = this.expr();
    else stmt.ks = this.keyspaceRef();
    if (this.acceptKw('WITH')) stmt.with = this.expr();
    return stmt;
  }

  private prepare(): A.PrepareStatement {
    this.expectKw('PREPARE');
    const force = this.acceptKw('FORCE');
    let name: string | undefined;
    if ((this.isIdentTok() || this.t.kind === 'string') && (this.isKw('FROM', this.peek()) || this.isKw('AS', this.peek()))) {
      name = this.next().text;
      this.next();
    }
    const start = this.t.offset;
    const stmt = this.statement();
    return { type: 'prepare', name, stmt, force, text: this.src.slice(start, this.t.offset).trim() };
  }

  selectStatement(): A.SelectStatement {
    const withs: A.LetBinding[] = [];
    if (this.acceptKw('WITH')) {
      // WITH RECURSIVE (7.6); `WITH recursive AS (...)` names a CTE "recursive".
      const recursive = this.isKw('RECURSIVE') && !this.isKw('AS', this.peek()) && this.acceptKw('RECURSIVE');
      do {
        const at = sourcePos(this.t.line, this.t.column);
        const name = this.ident();
        this.expectKw('AS');
        this.expectOp('(');
        const query = this.isKw('SELECT') || this.isKw('WITH') ? this.selectStatement() : undefined;
        const expr = query ? ({ kind: 'subquery', query } as A.Expr) : this.expr();
        this.expectOp(')');
        const binding: A.LetBinding = { name, expr, at };
        if (recursive) {
          binding.inRecursiveClause = true;
          const cte = query ? recursiveArms(query) : undefined;
          if (this.acceptKw('CYCLE')) {
            const cycle = [this.expr()];
            while (this.acceptOp(',')) cycle.push(this.expr());
            this.expectKw('RESTRICT');
            if (cte) cte.cycle = cycle;
          }
          if (this.acceptKw('OPTIONS')) {
            const options = this.expr();
            if (cte) cte.options = options;
          }
          if (cte) binding.recursive = cte;
        }
        withs.push(binding);
      } while (this.acceptOp(','));
    }
    let body = this.subselect();
    for (;;) {
      let op: A.SetOp['op'] | undefined;
      if (this.acceptKw('UNION')) op = 'union';
      else if (this.acceptKw('INTERSECT')) op = 'intersect';
      else if (this.acceptKw('EXCEPT') || this.acceptKw('MINUS')) op = 'except';
      else break;
      const all = this.acceptKw('ALL');
      if (!all) this.acceptKw('DISTINCT');
      body = { kind: 'setop', op, all, left: body, right: this.subselect() };
    }
    const stmt: A.SelectStatement = { type: 'select', with: withs, body };
    if (this.isKw('ORDER')) stmt.orderBy = this.orderBy();
    for (;;) {
      if (!stmt.limit && this.acceptKw('LIMIT')) stmt.limit = this.expr();
      else if (!stmt.offset && this.acceptKw('OFFSET')) stmt.offset = this.expr();
      else break;
    }
    return stmt;
  }

  /** ORDER BY term [ASC|DESC] [NULLS FIRST|LAST], ... */
  private orderBy(): A.OrderTerm[] {
    this.expectKw('ORDER');
    this.expectKw('BY');
    const terms: A.OrderTerm[] = [];
    do {
      const expr = this.expr();
      let desc = false;
      if (this.acceptKw('DESC')) desc = true;
      else this.acceptKw('ASC');
      let nulls: 'first' | 'last' | undefined;
      if (this.acceptKw('NULLS')) {
        if (this.acceptKw('FIRST')) nulls = 'first';
        else {
          this.expectKw('LAST');
          nulls = 'last';
        }
      }
      terms.push({ expr, desc, nulls });
    } while (this.acceptOp(','));
    return terms;
  }

  private subselect(): A.SelectBody {
    if (this.isOp('(')) {
      this.next();
      const query = this.selectStatement();
      this.expectOp(')');
      return { kind: 'paren', query };
    }
    if (this.isKw('FROM')) {
      // FROM-first form: FROM ... [LET] [WHERE] [GROUP BY] SELECT ...
      this.next();
      const from = this.fromClause();
      const block = this.blockTail(from, true);
      return block;
    }
    this.expectKw('SELECT');
    const proj = this.projection();
    let from: A.FromClause | undefined;
    if (this.acceptKw('FROM')) from = this.fromClause();
    return this.blockTail(from, false, proj);
  }

  private blockTail(from: A.FromClause | undefined, selectLast: boolean, proj?: { distinct: boolean; raw: boolean; terms: A.ResultTerm[]; exclude?: A.Expr[] }): A.SelectBlock {
    const block: A.SelectBlock = { kind: 'block', distinct: false, raw: false, terms: [], from, let: [], letting: [] };
    if (this.acceptKw('LET')) block.let = this.letBindings();
    if (this.acceptKw('WHERE')) block.where = this.expr();
    if (this.isKw('GROUP')) {
      this.next();
      this.expectKw('BY');
      block.groupBy = [];
      do {
        const e = this.expr();
        block.groupBy.push(e);
        if (this.acceptKw('AS')) block.letting.push({ name: this.ident(), expr: e });
      } while (this.acceptOp(','));
      if (this.isKw('GROUP') && this.isKw('AS', this.peek())) {
        this.pos += 2;
        block.groupAs = this.ident();
      }
      if (this.acceptKw('LETTING')) block.letting.push(...this.letBindings());
      if (this.acceptKw('HAVING')) block.having = this.expr();
    } else if (this.acceptKw('LETTING')) {
      // LETTING without GROUP BY groups the whole input; HAVING needs GROUP BY (Couchbase's grammar).
      block.letting = this.letBindings();
    }
    if (this.acceptKw('WINDOW')) {
      block.windows = Object.create(null) as Record<string, A.WindowSpec>;
      do {
        const name = this.ident();
        this.expectKw('AS');
        if (Object.hasOwn(block.windows, name)) throw new QueryError(6500, `Duplicate window clause alias ${name}.`);
        block.windows[name] = this.windowSpec();
      } while (this.acceptOp(','));
    }
    if (selectLast) {
      this.expectKw('SELECT');
      proj = this.projection();
    }
    Object.assign(block, proj);
    return block;
  }

  private letBindings(): A.LetBinding[] {
    const out: A.LetBinding[] = [];
    do {
      const at = sourcePos(this.t.line, this.t.column);
      const name = this.ident();
      this.expectOp('=');
      out.push({ name, expr: this.expr(), at });
    } while (this.acceptOp(','));
    return out;
  }

  private projection(): { distinct: boolean; raw: boolean; terms: A.ResultTerm[]; exclude?: A.Expr[] } {
    let distinct = false;
    if (this.acceptKw('DISTINCT')) distinct = true;
    else this.acceptKw('ALL');
    let raw = false;
    let terms: A.ResultTerm[];
    if (this.acceptKw('RAW') || this.acceptKw('ELEMENT') || this.acceptKw('VALUE')) {
      raw = true;
      const expr = this.expr();
      const alias = this.optionalAlias();
      terms = [{ expr, star: false, alias }];
    } else terms = this.resultTerms();
    if (!this.acceptKw('EXCLUDE')) return { distinct, raw, terms };
    // EXCLUDE path, "path, path", ...: fields taken out of each result.
    const exclude: A.Expr[] = [];
    do {
      if (this.t.kind === 'string') {
        const text = this.next().text;
        for (const part of text.split(',')) if (part.trim()) exclude.push(parseExpression(part.trim()));
      } else exclude.push(this.expr());
    } while (this.acceptOp(','));
    return { distinct, raw, terms, exclude };
  }

  private resultTerms(): A.ResultTerm[] {
    const terms: A.ResultTerm[] = [];
    do {
      if (this.acceptOp('*')) {
        terms.push({ star: true });
        continue;
      }
      const expr = this.expr();
      if (this.isOp('.') && this.isOp('*', this.peek())) {
        this.pos += 2;
        terms.push({ expr, star: true });
        continue;
      }
      // The name's position: the AS (or the alias itself), else the path's last name, as the server reports a duplicate.
      const named = this.isKw('AS') || this.isIdentTok() ? this.t : this.toks[this.pos - 1];
      terms.push({ expr, star: false, alias: this.optionalAlias(), at: sourcePos(named.line, named.column) });
    } while (this.acceptOp(','));
    return terms;
  }

  private optionalAlias(): string | undefined {
    if (this.acceptKw('AS')) return this.ident();
    if (this.isIdentTok()) return this.next().text;
    return undefined;
  }

  private fromClause(): A.FromClause {
    let source = this.fromSource();
    const joins: A.JoinClause[] = [];
    if (this.isKw('RIGHT')) [source] = this.rightJoin(source, joins);
    for (;;) {
      let outer = false;
      const save = this.pos;
      if (this.acceptKw('LEFT')) {
        this.acceptKw('OUTER');
        outer = true;
      } else if (this.acceptKw('INNER')) {
        outer = false;
      } else if (this.isKw('RIGHT')) {
        this.fail();
      }
      if (this.isKw('JOIN') || this.isKw('NEST')) {
        const nest = this.next().upper === 'NEST';
        const right = this.fromSource();
        this.expectKw('ON');
        if (this.acceptKw('KEYS') || (this.isKw('PRIMARY') && this.isKw('KEYS', this.peek()) && (this.pos += 2))) {
          if (right.kind !== 'keyspace') this.fail();
          joins.push({ kind: 'lookup', outer, nest, right, onKeys: this.expr() });
        } else if (this.acceptKw('KEY') || (this.isKw('PRIMARY') && this.isKw('KEY', this.peek()) && (this.pos += 2))) {
          // Index join: ON KEY right.fk FOR left — right's documents whose fk is left's document key.
          const key = this.expr();
          this.expectKw('FOR');
          const forAlias = this.ident();
          const on: A.Expr = { kind: 'binary', op: '=', left: key, right: { kind: 'field', target: { kind: 'call', name: 'meta', args: [{ kind: 'ident', name: forAlias }] }, name: 'id' } };
          joins.push({ kind: 'ansi', outer, nest, right, on, indexFor: forAlias });
        } else {
          joins.push({ kind: 'ansi', outer, nest, right, on: this.expr() });
        }
        continue;
      }
      if (this.acceptKw('UNNEST') || this.acceptKw('FLATTEN')) {
        const expr = this.expr();
        const last = this.toks[this.pos - 1];
        if (this.isKw('AS')) this.next();
        const named = this.isIdentTok() ? this.t : last;
        const alias = this.optionalAlias() ?? defaultAlias(expr);
        if (!alias) this.fail();
        joins.push({ kind: 'unnest', outer, expr, alias, at: sourcePos(named.line, named.column) });
        continue;
      }
      if (this.pos !== save) this.fail();
      if (this.acceptOp(',')) {
        // FROM a, b: an inner join whose condition is in WHERE.
        joins.push({ kind: 'ansi', outer: false, nest: false, right: this.fromSource(), on: { kind: 'lit', value: true }, comma: true });
        continue;
      }
      break;
    }
    return { source, joins };
  }

  /**
   * `a RIGHT [OUTER] JOIN b ON c`, only as the first join of a FROM clause (the grammar's
   * simple_from_term RIGHT JOIN rule; a RIGHT JOIN later in the chain stays a syntax error): read
   * as `b LEFT OUTER JOIN a ON c`, a join hint written on b moving to a with build and probe swapped.
   */
  private rightJoin(left: A.FromSource, joins: A.JoinClause[]): [A.FromSource] {
    this.expectKw('RIGHT');
    this.acceptKw('OUTER');
    this.expectKw('JOIN');
    const right = this.fromSource();
    this.expectKw('ON');
    const on = this.expr();
    if (right.hint) {
      const swapped: Record<A.JoinHint, A.JoinHint> = { hash: 'hash', 'hash-build': 'hash-probe', 'hash-probe': 'hash-build', nl: 'nl' };
      left.hint = swapped[right.hint];
      delete right.hint;
    }
    joins.push({ kind: 'ansi', outer: true, nest: false, right: left, on });
    return [right];
  }

  private fromSource(): A.FromSource {
    if (this.isOp('(') && (this.isKw('SELECT', this.peek()) || this.isKw('WITH', this.peek()) || this.isOp('(', this.peek()))) {
      this.next();
      const query = this.selectStatement();
      this.expectOp(')');
      // Without an alias the term is refused when planned (4010), as the server refuses it.
      const sub: A.FromSource & { kind: 'subquery' } = { kind: 'subquery', query, alias: this.optionalAlias() ?? '' };
      this.termHints(sub);
      return sub;
    }
    // A keyspace path: name, ns:name, name.scope.coll, ns:name.scope.coll; a 2-part path is an expression.
    if (this.isIdentTok() || (this.t.kind === 'ident' && this.t.upper === 'SYSTEM')) {
      const save = this.pos;
      const parts: string[] = [this.next().text];
      let namespace = 'default';
      if (this.isOp(':')) {
        this.next();
        namespace = parts[0];
        parts[0] = this.ident();
      }
      while (this.isOp('.') && (this.isIdentTok(this.peek()) || this.peek().kind === 'ident')) {
        this.next();
        parts.push(this.next().text);
      }
      if (!this.isOp('[') && !this.isOp('(') && (parts.length === 1 || parts.length === 3)) {
        const ks: A.KeyspaceRef = { namespace, bucket: parts[0] };
        if (parts.length === 3) {
          ks.scope = parts[1];
          ks.collection = parts[2];
        }
        const given = this.optionalAlias();
        const src: A.FromSource & { kind: 'keyspace' } = { kind: 'keyspace', ks, alias: given ?? parts[parts.length - 1] };
        if (given !== undefined) src.aliasGiven = true;
        this.useClauses(src);
        return src;
      }
      this.pos = save;
    }
    const expr = this.expr();
    // FROM $ks: a parameter naming a keyspace (or holding an array); its alias is settled once its value is known.
    const alias = this.optionalAlias() ?? defaultAlias(expr) ?? (expr.kind === 'param' ? '' : undefined);
    if (expr.kind === 'param') this.paramSources = true;
    if (alias === undefined) this.fail();
    const src: A.FromSource & { kind: 'expr' } = { kind: 'expr', expr, alias };
    const use = this.termHints(src);
    // FROM $ks USE KEYS ...: kept for the keyspace the parameter names (see ./keyspace-params).
    if (expr.kind === 'param' && (use.useKeys || use.useIndex)) src.paramUse = use;
    return src;
  }

  /** USE clauses after a subquery or expression term: only a join hint is theirs; USE KEYS / INDEX are refused when planned (4110). */
  private termHints(src: { hint?: A.JoinHint; useKeysOrIndex?: boolean }): { useKeys?: A.Expr; useIndex?: string[] } {
    const use: { useKeys?: A.Expr; useIndex?: string[]; hint?: A.JoinHint } = {};
    this.useClauses(use);
    if (use.useKeys || use.useIndex) src.useKeysOrIndex = true;
    if (use.hint) src.hint = use.hint;
    return { useKeys: use.useKeys, useIndex: use.useIndex };
  }

  private useClauses(src: { useKeys?: A.Expr; useIndex?: string[]; hint?: A.JoinHint }): void {
    while (this.isKw('USE')) {
      this.next();
      if (this.acceptKw('KEYS') || (this.acceptKw('PRIMARY') && (this.expectKw('KEYS'), true))) {
        src.useKeys = this.expr();
      } else if (this.acceptKw('INDEX')) {
        this.expectOp('(');
        src.useIndex = [];
        do {
          src.useIndex.push(this.t.kind === 'string' ? this.next().text : this.ident());
          if (this.acceptKw('USING')) this.next();
        } while (this.acceptOp(','));
        this.expectOp(')');
      } else if (this.acceptKw('HASH')) {
        this.expectOp('(');
        const side = this.next().upper;
        if (side !== 'BUILD' && side !== 'PROBE') this.fail(this.toks[this.pos - 1]);
        this.expectOp(')');
        src.hint = side === 'BUILD' ? 'hash-build' : 'hash-probe';
      } else if (this.acceptKw('NL')) {
        src.hint = 'nl';
      } else this.fail();
    }
  }

  // ---- DML ----
  private keyspaceRef(): A.KeyspaceRef {
    const parts: string[] = [this.isKw('SYSTEM') ? this.next().text : this.ident()];
    let namespace = 'default';
    if (this.acceptOp(':')) {
      namespace = parts[0];
      parts[0] = this.ident();
    }
    while (this.isOp('.') && !this.isOp('*', this.peek())) {
      this.next();
      parts.push(this.ident());
    }
    if (parts.length === 2 || parts.length > 3) this.fail();
    const ks: A.KeyspaceRef = { namespace, bucket: parts[0] };
    if (parts.length === 3) {
      ks.scope = parts[1];
      ks.collection = parts[2];
    }
    return ks;
  }

  /** `$ks [AS alias]` as a DML target: the keyspace a query parameter names when the statement runs. */
  private paramTarget(): A.KeyspaceTarget {
    const param = this.next().text.replace(/^\$/, '');
    this.paramSources = true;
    const alias = this.acceptKw('AS') ? this.ident() : this.isIdentTok() ? this.next().text : '';
    return { ks: { namespace: 'default', bucket: '' }, alias, param };
  }

  /**
   * A keyspace that is a parameter has no index to plan with: UPDATE / DELETE must give its keys
   * (the query engine's semantic check, with its "<placeholder>" wording).
   */
  private checkParamTarget(use: { useKeys?: A.Expr; useIndex?: string[] }): void {
    if (!use.useKeys) throw new QueryError(3261, '<placeholder> term must have USE KEYS');
    if (use.useIndex) throw new QueryError(3262, '<placeholder> term should not have USE INDEX');
  }

  private target(): A.KeyspaceTarget {
    const ks = this.keyspaceRef();
    const alias = this.acceptKw('AS') ? this.ident() : this.isIdentTok() ? this.next().text : (ks.collection ?? ks.bucket);
    return { ks, alias };
  }

  private returning(): A.ReturningClause | undefined {
    if (!this.acceptKw('RETURNING')) return undefined;
    if (this.acceptKw('RAW') || this.acceptKw('ELEMENT') || this.acceptKw('VALUE')) {
      return { raw: true, terms: [{ expr: this.expr(), star: false }] };
    }
    return { raw: false, terms: this.resultTerms() };
  }

  private insert(): A.InsertStatement {
    const upsert = this.next().upper === 'UPSERT';
    this.expectKw('INTO');
    const target = this.t.kind === 'param' ? this.paramTarget() : this.target();
    const stmt: A.InsertStatement = { type: 'insert', upsert, target };
    if (this.isKw('VALUES')) {
      // INSERT INTO ks VALUES (key, value[, options]), ...: the (KEY, VALUE, OPTIONS) list left out.
      stmt.values = this.valuesList(true);
      stmt.returning = this.returning();
      return stmt;
    }
    this.expectOp('(');
    this.expectKw('KEY');
    if (this.isOp(',') || this.isOp(')')) {
      // (KEY, VALUE[, OPTIONS]) VALUES (...), ...
      let withOptions = false;
      if (this.acceptOp(',')) {
        this.expectKw('VALUE');
        if (this.acceptOp(',')) {
          this.expectKw('OPTIONS');
          withOptions = true;
        }
      }
      this.expectOp(')');
      stmt.values = this.valuesList(withOptions);
    } else {
      const spec = this.keyValueSpec();
      stmt.select = { ...spec, query: this.selectStatement() };
    }
    stmt.returning = this.returning();
    return stmt;
  }

  /** `key [, VALUE value [, OPTIONS options]] )`, after `( KEY`. */
  private keyValueSpec(): { key: A.Expr; value?: A.Expr; options?: A.Expr } {
    const key = this.expr();
    let value: A.Expr | undefined;
    let options: A.Expr | undefined;
    if (this.acceptOp(',')) {
      this.expectKw('VALUE');
      value = this.expr();
      if (this.acceptOp(',')) {
        this.expectKw('OPTIONS');
        options = this.expr();
      }
    }
    this.expectOp(')');
    return { key, value, options };
  }

  /** VALUES (key, value[, options]), [VALUES] (...), ... */
  private valuesList(withOptions: boolean): NonNullable<A.InsertStatement['values']> {
    this.expectKw('VALUES');
    const out: NonNullable<A.InsertStatement['values']> = [];
    do {
      this.acceptKw('VALUES');
      this.expectOp('(');
      const key = this.expr();
      let value: A.Expr | undefined;
      let options: A.Expr | undefined;
      if (this.acceptOp(',')) value = this.expr();
      if (withOptions && this.acceptOp(',')) options = this.expr();
      this.expectOp(')');
      out.push({ key, value, options });
    } while (this.acceptOp(','));
    return out;
  }

  private forClause(): { for: A.ForBinding[]; when?: A.Expr } {
    this.expectKw('FOR');
    const bindings = this.forBindings();
    const when = this.acceptKw('WHEN') ? this.expr() : undefined;
    this.expectKw('END');
    return { for: bindings, when };
  }

  private setClause(): A.SetItem[] {
    const items: A.SetItem[] = [];
    do {
      const path = this.expr(BP.EQ);
      this.expectOp('=');
      const value = this.expr();
      const item: A.SetItem = { path, value };
      if (this.isKw('FOR')) Object.assign(item, this.forClause());
      items.push(item);
    } while (this.acceptOp(','));
    return items;
  }

  private unsetClause(): A.UnsetItem[] {
    const items: A.UnsetItem[] = [];
    do {
      const item: A.UnsetItem = { path: this.expr(BP.EQ) };
      if (this.isKw('FOR')) Object.assign(item, this.forClause());
      items.push(item);
    } while (this.acceptOp(','));
    return items;
  }

  private update(): A.UpdateStatement {
    this.expectKw('UPDATE');
    const target = this.t.kind === 'param' ? this.paramTarget() : this.target();
    const stmt: A.UpdateStatement = { type: 'update', target, set: [], unset: [] };
    const use: { useKeys?: A.Expr; useIndex?: string[] } = {};
    this.useClauses(use);
    stmt.useKeys = use.useKeys;
    if (target.param !== undefined) this.checkParamTarget(use);
    if (this.acceptKw('SET')) stmt.set = this.setClause();
    if (this.acceptKw('UNSET')) stmt.unset = this.unsetClause();
    if (!stmt.set.length && !stmt.unset.length) this.fail();
    if (this.acceptKw('WHERE')) stmt.where = this.expr();
    if (this.acceptKw('LIMIT')) stmt.limit = this.expr();
    stmt.returning = this.returning();
    return stmt;
  }

  private deleteStmt(): A.DeleteStatement {
    this.expectKw('DELETE');
    this.expectKw('FROM');
    const target = this.t.kind === 'param' ? this.paramTarget() : this.target();
    const stmt: A.DeleteStatement = { type: 'delete', target };
    const use: { useKeys?: A.Expr; useIndex?: string[] } = {};
    this.useClauses(use);
    stmt.useKeys = use.useKeys;
    // A keyspace that is a parameter has no index to plan with: its keys must be given (the
    // query engine's semantic check, with its "<placeholder>" wording).
    if (target.param !== undefined) this.checkParamTarget(use);
    if (this.acceptKw('WHERE')) stmt.where = this.expr();
    if (this.acceptKw('LIMIT')) stmt.limit = this.expr();
    stmt.returning = this.returning();
    return stmt;
  }

  private merge(): A.MergeStatement {
    this.expectKw('MERGE');
    this.expectKw('INTO');
    const target: A.MergeStatement['target'] = this.target();
    const targetUse: { useKeys?: A.Expr; useIndex?: string[]; hint?: A.JoinHint } = {};
    this.useClauses(targetUse);
    // USE INDEX is the only hint a merge target takes.
    if (targetUse.useKeys) throw syntaxError('Keyspace reference cannot have USE KEYS hint in MERGE statement. - at USING');
    if (targetUse.hint) this.fail(this.toks[this.pos - 1]);
    if (targetUse.useIndex) target.useIndex = targetUse.useIndex;
    this.expectKw('USING');
    const source = this.fromSource();
    this.expectKw('ON');
    const stmt: A.MergeStatement = { type: 'merge', target, source };
    if (this.acceptKw('KEY') || (this.isKw('PRIMARY') && this.isKw('KEY', this.peek()) && (this.pos += 2))) stmt.onKey = this.expr();
    else stmt.on = this.expr();
    if (this.acceptKw('LET')) stmt.let = this.letBindings();
    while (this.acceptKw('WHEN')) {
      if (this.acceptKw('NOT')) {
        this.expectKw('MATCHED');
        this.expectKw('THEN');
        this.expectKw('INSERT');
        stmt.insert = this.mergeInsert(stmt.onKey !== undefined);
        if (this.acceptKw('WHERE')) stmt.insert.where = this.expr();
      } else {
        this.expectKw('MATCHED');
        this.expectKw('THEN');
        if (this.acceptKw('UPDATE')) {
          const u: NonNullable<A.MergeStatement['update']> = { set: [], unset: [] };
          if (this.acceptKw('SET')) u.set = this.setClause();
          if (this.acceptKw('UNSET')) u.unset = this.unsetClause();
          if (this.acceptKw('WHERE')) u.where = this.expr();
          stmt.update = u;
        } else {
          this.expectKw('DELETE');
          stmt.delete = {};
          if (this.acceptKw('WHERE')) stmt.delete.where = this.expr();
        }
      }
    }
    if (this.acceptKw('LIMIT')) stmt.limit = this.expr();
    stmt.returning = this.returning();
    return stmt;
  }

  /**
   * The INSERT action of a MERGE. A lookup merge (ON KEY) inserts a value under the ON KEY key;
   * an ANSI merge gives the key: `(KEY k, VALUE v, OPTIONS o)` or `(k[, v[, o]])`. The form
   * that does not fit the merge is kept, for the semantic check to report (3150 / 3160).
   */
  private mergeInsert(lookup: boolean): NonNullable<A.MergeStatement['insert']> {
    if (this.isOp('(') && this.isKw('KEY', this.peek())) {
      this.pos += 2;
      const { key, value, options } = this.keyValueSpec();
      return { key, value: value ?? { kind: 'object', entries: [] }, options };
    }
    if (!this.isOp('(')) return { value: this.expr() };
    const at = this.pos;
    this.next();
    const key = this.expr();
    let value: A.Expr = { kind: 'object', entries: [] };
    let options: A.Expr | undefined;
    if (this.acceptOp(',')) {
      value = this.expr();
      if (this.acceptOp(',')) options = this.expr();
    } else if (lookup) {
      // A parenthesised value, not a key list.
      this.pos = at;
      return { value: this.expr() };
    }
    this.expectOp(')');
    return { key, value, options };
  }

  // ---- DDL ----
  private createIndex(): A.CreateIndexStatement {
    this.expectKw('CREATE');
    const primary = this.acceptKw('PRIMARY');
    this.expectKw('INDEX');
    let ifNotExists = false;
    const ifNot = (): void => {
      if (this.isKw('IF')) {
        this.next();
        this.expectKw('NOT');
        this.expectKw('EXISTS');
        ifNotExists = true;
      }
    };
    ifNot();
    let name = '#primary';
    if (!this.isKw('ON')) name = this.t.kind === 'string' ? this.next().text : this.ident();
    ifNot();
    this.expectKw('ON');
    const target = this.keyspaceRef();
    const stmt: A.CreateIndexStatement = { type: 'createIndex', primary, name, ifNotExists, target, keys: [] };
    if (!primary) {
      this.expectOp('(');
      do {
        let expr: A.Expr;
        const w = this.t.kind === 'ident' ? this.t.upper : '';
        if ((w === 'ALL' || w === 'DISTINCT') && !this.isKw('ARRAY', this.peek()) && !this.isOp('(', this.peek())) {
          // `ALL arr` / `DISTINCT arr`: every element of the array, as ARRAY v FOR v IN arr END.
          this.next();
          const source = this.expr();
          expr = { kind: 'collect', collect: 'array', value: { kind: 'ident', name: 'v' }, bindings: [{ name: 'v', expr: source, within: false }], distinct: w === 'DISTINCT' };
        } else expr = this.expr();
        let includeMissing = false;
        if (this.isKw('INCLUDE') && this.isKw('MISSING', this.peek())) {
          this.pos += 2;
          includeMissing = true;
        }
        let desc = false;
        if (this.acceptKw('DESC')) desc = true;
        else this.acceptKw('ASC');
        if (!includeMissing && this.isKw('INCLUDE') && this.isKw('MISSING', this.peek())) {
          this.pos += 2;
          includeMissing = true;
        }
        if (expr.kind === 'ident' && expr.name === 'self') expr = { kind: 'ident', name: 'self' };
        stmt.keys.push(includeMissing ? { expr, desc, includeMissing } : { expr, desc });
      } while (this.acceptOp(','));
      this.expectOp(')');
      if (this.acceptKw('PARTITION')) {
        this.expectKw('BY');
        this.expectKw('HASH');
        this.expectOp('(');
        stmt.partition = [];
        do stmt.partition.push(this.expr());
        while (this.acceptOp(','));
        this.expectOp(')');
      }
      if (this.acceptKw('WHERE')) stmt.where = this.expr();
    }
    if (this.acceptKw('USING')) {
      if (!this.acceptKw('GSI') && !this.acceptKw('VIEW')) this.fail();
    }
    if (this.acceptKw('WITH')) stmt.with = this.expr();
    return stmt;
  }

  private dropIndex(): A.DropIndexStatement {
    this.expectKw('DROP');
    const primary = this.acceptKw('PRIMARY');
    this.expectKw('INDEX');
    let ifExists = false;
    if (this.acceptKw('IF')) {
      this.expectKw('EXISTS');
      ifExists = true;
    }
    if (primary) {
      let name: string | undefined;
      if (!this.isKw('ON')) name = this.ident();
      this.expectKw('ON');
      const target = this.keyspaceRef();
      if (this.acceptKw('USING')) this.next();
      return { type: 'dropIndex', primary, name, ifExists, target };
    }
    // DROP INDEX ks.name | DROP INDEX name ON ks
    const first = this.ident();
    if (this.acceptKw('ON')) {
      const target = this.keyspaceRef();
      if (this.acceptKw('USING')) this.next();
      return { type: 'dropIndex', primary, name: first, ifExists, target };
    }
    let namespace = 'default';
    let bucket = first;
    if (this.acceptOp(':')) {
      namespace = first;
      bucket = this.ident();
    }
    const parts = [bucket];
    while (this.acceptOp('.')) parts.push(this.ident());
    if (parts.length !== 2 && parts.length !== 4) this.fail();
    const name = parts.pop()!;
    const target: A.KeyspaceRef = { namespace, bucket: parts[0] };
    if (parts.length > 1) {
      target.scope = parts[1];
      target.collection = parts[2];
    }
    if (this.acceptKw('USING')) this.next();
    return { type: 'dropIndex', primary, name, ifExists, target };
  }

  private buildIndex(): A.BuildIndexStatement {
    this.expectKw('BUILD');
    this.expectKw('INDEX');
    this.expectKw('ON');
    const target = this.keyspaceRef();
    this.expectOp('(');
    const names: A.Expr[] = [];
    do {
      if (this.isIdentTok() && (this.isOp(',', this.peek()) || this.isOp(')', this.peek()))) names.push({ kind: 'lit', value: this.next().text });
      else names.push(this.expr());
    } while (this.acceptOp(','));
    this.expectOp(')');
    if (this.acceptKw('USING')) this.next();
    return { type: 'buildIndex', target, names };
  }

  /** ALTER INDEX name ON keyspace [USING GSI] WITH expr, or ALTER INDEX keyspace.name ... */
  private alterIndex(): A.AlterIndexStatement {
    this.expectKw('ALTER');
    this.expectKw('INDEX');
    let name: string;
    let target: A.KeyspaceRef;
    const first = this.ident();
    if (this.acceptKw('ON')) {
      name = first;
      target = this.keyspaceRef();
    } else {
      let namespace = 'default';
      let head = first;
      if (this.acceptOp(':')) {
        namespace = first;
        head = this.ident();
      }
      const parts = [head];
      while (this.acceptOp('.')) parts.push(this.ident());
      // bucket.index, collection.index (under a query_context), or bucket.scope.collection.index
      if (parts.length !== 2 && parts.length !== 4) this.fail();
      name = parts[parts.length - 1];
      target = parts.length === 4 ? { namespace, bucket: parts[0], scope: parts[1], collection: parts[2] } : { namespace, bucket: parts[0] };
    }
    if (this.acceptKw('USING')) this.expectKw('GSI');
    this.expectKw('WITH');
    return { type: 'alterIndex', name, target, with: this.expr() };
  }

  /** GRANT role[, ...] [ON keyspace[, ...]] TO user[, ...]; REVOKE ... FROM ... */
  private grant(): A.GrantStatement {
    const type = this.next().upper === 'GRANT' ? 'grant' : 'revoke';
    const roles: string[] = [];
    // Role names may be words the grammar reserves (SELECT, INSERT, ...: the legacy query_* names).
    do {
      if (this.t.kind !== 'ident' && this.t.kind !== 'qident') this.fail();
      roles.push(this.next().text);
    } while (this.acceptOp(','));
    const keyspaces: A.KeyspaceRef[] = [];
    if (this.acceptKw('ON')) {
      do keyspaces.push(this.grantKeyspace());
      while (this.acceptOp(','));
    }
    this.expectKw(type === 'grant' ? 'TO' : 'FROM');
    const users: string[] = [];
    do {
      const user = this.userName();
      users.push(this.acceptOp(':') ? `${user}:${this.userName()}` : user);
    } while (this.acceptOp(','));
    return { type, roles, keyspaces, users };
  }

  private userName(): string {
    return this.t.kind === 'string' ? this.next().text : this.ident();
  }

  /** A keyspace a role is granted on: bucket, bucket.scope or bucket.scope.collection (with an optional namespace). */
  private grantKeyspace(): A.KeyspaceRef {
    let namespace = 'default';
    let first = this.ident();
    if (this.acceptOp(':')) {
      namespace = first;
      first = this.ident();
    }
    const ks: A.KeyspaceRef = { namespace, bucket: first };
    if (this.acceptOp('.')) {
      ks.scope = this.ident();
      if (this.acceptOp('.')) ks.collection = this.ident();
    }
    return ks;
  }

  /** The transaction statements of the SQL++ reference (Transactions). */
  private transaction(): A.TransactionStatement {
    const word = this.next().upper;
    const workOrTransaction = (): boolean => this.acceptKw('WORK') || this.acceptKw('TRANSACTION') || this.acceptKw('TRAN');
    const isolation = (): void => {
      this.expectKw('ISOLATION');
      this.expectKw('LEVEL');
      this.expectKw('READ');
      this.expectKw('COMMITTED');
    };
    switch (word) {
      case 'BEGIN':
      case 'START':
        if (!workOrTransaction()) this.fail();
        if (this.isKw('ISOLATION')) isolation();
        return { type: 'transaction', action: 'begin' };
      case 'COMMIT':
        workOrTransaction();
        return { type: 'transaction', action: 'commit' };
      case 'ROLLBACK': {
        workOrTransaction();
        if (this.acceptKw('TO')) {
          this.acceptKw('SAVEPOINT');
          return { type: 'transaction', action: 'rollback', savepoint: this.ident() };
        }
        return { type: 'transaction', action: 'rollback' };
      }
      case 'SAVEPOINT':
        return { type: 'transaction', action: 'savepoint', savepoint: this.ident() };
      default:
        this.expectKw('TRANSACTION');
        isolation();
        return { type: 'transaction', action: 'isolation' };
    }
  }

  // ---- expressions ----
  expr(minBp = 0): A.Expr {
    let left = this.prefix();
    for (;;) {
      const t = this.t;
      if (t.kind === 'op') {
        const op = t.text;
        if (op === '.') {
          if (this.isOp('*', this.peek())) break; // alias.* in a projection
          this.next();
          if (this.acceptOp('[')) {
            const index = this.expr();
            this.expectOp(']');
            left = { kind: 'index', target: left, index };
          } else {
            const nameTok = this.t;
            if (nameTok.kind !== 'ident' && nameTok.kind !== 'qident') this.fail();
            this.next();
            // `.name` after a dot may be a reserved word (doc.type, doc.value are common)
            left = nameTok.ci ? { kind: 'field', target: left, name: nameTok.text, ci: true } : { kind: 'field', target: left, name: nameTok.text };
            // `bucket.scope.fn(...)`: a scoped user-defined function.
            if (this.isOp('(')) left = this.pathCall(left);
          }
          continue;
        }
        if (op === '[') {
          this.next();
          if (this.acceptOp('*')) {
            this.expectOp(']');
            left = { kind: 'star', target: left };
            continue;
          }
          let from: A.Expr | undefined;
          if (!this.isOp(':')) from = this.expr();
          if (this.acceptOp(':')) {
            const to = this.isOp(']') ? undefined : this.expr();
            this.expectOp(']');
            left = { kind: 'slice', target: left, from, to };
          } else {
            this.expectOp(']');
            left = { kind: 'index', target: left, index: from! };
          }
          continue;
        }
        const bin = BINARY_OPS[op];
        if (bin && bin.bp > minBp) {
          this.next();
          const right = this.expr(bin.bp);
          left = { kind: 'binary', op: bin.op, left, right };
          continue;
        }
        break;
      }
      if (t.kind !== 'ident') break;
      const word = t.upper;
      if (word === 'AND' && BP.AND > minBp) {
        this.next();
        const right = this.expr(BP.AND);
        left = left.kind === 'and' ? { kind: 'and', args: [...left.args, right] } : { kind: 'and', args: [left, right] };
        continue;
      }
      if (word === 'OR' && BP.OR > minBp) {
        this.next();
        const right = this.expr(BP.OR);
        left = left.kind === 'or' ? { kind: 'or', args: [...left.args, right] } : { kind: 'or', args: [left, right] };
        continue;
      }
      let not = false;
      let look = t;
      if (word === 'NOT') {
        look = this.peek();
        if (look.kind !== 'ident' || !['LIKE', 'IN', 'BETWEEN', 'WITHIN'].includes(look.upper)) break;
        not = true;
      }
      const w = look.upper;
      if (w === 'LIKE' && BP.LIKE > minBp) {
        this.pos += not ? 2 : 1;
        const pattern = this.expr(BP.LIKE);
        const escape = this.acceptKw('ESCAPE') ? this.expr(BP.LIKE) : undefined;
        left = { kind: 'like', arg: left, pattern, escape, not };
        continue;
      }
      if ((w === 'IN' || w === 'WITHIN') && BP.IN > minBp) {
        this.pos += not ? 2 : 1;
        left = { kind: 'in', arg: left, list: this.expr(BP.IN), not, within: w === 'WITHIN' };
        continue;
      }
      if (w === 'BETWEEN' && BP.BETWEEN > minBp) {
        this.pos += not ? 2 : 1;
        const low = this.expr(BP.BETWEEN);
        this.expectKw('AND');
        const high = this.expr(BP.BETWEEN);
        left = { kind: 'between', arg: left, low, high, not };
        continue;
      }
      if (word === 'IS' && BP.IS > minBp) {
        this.next();
        const isNot = this.acceptKw('NOT');
        let what: 'null' | 'missing' | 'valued';
        if (this.acceptKw('NULL')) what = 'null';
        else if (this.acceptKw('MISSING')) what = 'missing';
        else if (this.acceptKw('VALUED') || this.acceptKw('KNOWN')) what = 'valued';
        else this.fail();
        left = { kind: 'is', arg: left, what, not: isNot };
        continue;
      }
      break;
    }
    return left;
  }

  private prefix(): A.Expr {
    const t = this.t;
    switch (t.kind) {
      case 'number':
        this.next();
        return { kind: 'lit', value: t.num! };
      case 'string':
        this.next();
        return { kind: 'lit', value: t.text };
      case 'param':
        this.next();
        return { kind: 'param', name: t.text };
      case 'qident':
        // An escaped identifier before `(` names a function: `LOWER`("A") is LOWER("A").
        if (this.isOp('(', this.peek())) return this.call();
        this.next();
        return t.ci ? { kind: 'ident', name: t.text, ci: true, at: sourcePos(t.line, t.column) } : { kind: 'ident', name: t.text, at: sourcePos(t.line, t.column) };
      case 'op':
        switch (t.text) {
          case '(': {
            this.next();
            if (this.isKw('SELECT') || this.isKw('WITH')) {
              const query = this.selectStatement();
              this.expectOp(')');
              return { kind: 'subquery', query };
            }
            const e = this.expr();
            this.expectOp(')');
            return e;
          }
          case '[': {
            this.next();
            const items: A.Expr[] = [];
            if (!this.isOp(']')) {
              do items.push(this.expr());
              while (this.acceptOp(','));
            }
            this.expectOp(']');
            return { kind: 'array', items };
          }
          case '{': {
            this.next();
            const entries: { key: A.Expr; value: A.Expr }[] = [];
            if (!this.isOp('}')) {
              do {
                const k = this.expr();
                if (this.acceptOp(':')) entries.push({ key: k, value: this.expr() });
                else {
                  const name = defaultAlias(k);
                  if (!name) this.fail();
                  entries.push({ key: { kind: 'lit', value: name }, value: k });
                }
              } while (this.acceptOp(','));
            }
            this.expectOp('}');
            return { kind: 'object', entries };
          }
          case '-': {
            this.next();
            const arg = this.expr(BP.UNARY);
            if (arg.kind === 'lit' && isNumeric(arg.value)) return { kind: 'lit', value: negate(arg.value) };
            return { kind: 'neg', arg };
          }
          case '+':
            this.next();
            return this.expr(BP.UNARY);
          case '?':
            this.next();
            return { kind: 'param', name: String(++this.positional) };
        }
        this.fail();
      // eslint-disable-next-line no-fallthrough
      case 'ident':
        return this.identPrefix(t);
      default:
        this.fail();
    }
  }

  private identPrefix(t: Token): A.Expr {
    const w = t.upper;
    const sequence = this.sequenceOperator(w);
    if (sequence) return sequence;
    switch (w) {
      case 'TRUE':
        this.next();
        return { kind: 'lit', value: true };
      case 'FALSE':
        this.next();
        return { kind: 'lit', value: false };
      case 'NULL':
        this.next();
        return { kind: 'lit', value: null };
      case 'MISSING':
        this.next();
        return { kind: 'lit', value: undefined };
      case 'NOT':
        this.next();
        return { kind: 'not', arg: this.expr(BP.NOT) };
      case 'EXISTS':
        this.next();
        return { kind: 'exists', arg: this.expr(BP.IN) };
      case 'CASE':
        return this.caseExpr();
      case 'ANY':
      case 'SOME':
      case 'EVERY': {
        this.next();
        let quant: 'any' | 'every' | 'anyevery' = w === 'EVERY' ? 'every' : 'any';
        if (quant === 'any' && this.isKw('AND') && this.isKw('EVERY', this.peek())) {
          this.pos += 2;
          quant = 'anyevery';
        }
        const bindings = this.forBindings();
        this.expectKw('SATISFIES');
        const satisfies = this.expr();
        this.expectKw('END');
        return { kind: 'quant', quant, bindings, satisfies };
      }
      case 'DISTINCT':
      case 'ALL':
        if (this.isKw('ARRAY', this.peek())) {
          this.next();
          const e = this.collect();
          if (e.kind === 'collect') e.distinct = w === 'DISTINCT';
          return e;
        }
        // `(distinct (array ... end))`: the form system:indexes shows (and index definitions are kept in).
        if (this.isOp('(', this.peek())) {
          const at = this.pos;
          this.next();
          this.next();
          const e = this.expr();
          this.expectOp(')');
          if (e.kind !== 'collect' || e.collect !== 'array' || e.distinct !== undefined) {
            this.pos = at;
            this.fail();
          }
          e.distinct = w === 'DISTINCT';
          return e;
        }
        break;
      case 'ARRAY':
      case 'FIRST':
      case 'OBJECT':
        if (!this.isOp('(', this.peek())) return this.collect();
        {
          // `array (x) for x in ... end` (as formatExpr writes it) versus a call: try the former.
          const at = this.pos;
          const positional = this.positional;
          try {
            return this.collect();
          } catch {
            this.pos = at;
            this.positional = positional;
          }
        }
        break;
      case 'SELECT':
        break;
    }
    if (this.isOp('(', this.peek()) && (!RESERVED.has(w) || RESERVED_FUNCTIONS.has(w))) return this.call();
    // default:f(...) / default:b.s.f(...): a user-defined function named with its namespace.
    if ((w === 'DEFAULT' || w === 'SYSTEM') && this.isOp(':', this.peek())) {
      const fn = this.functionName();
      const call = this.callArgs(fn.name, t);
      call.fn = fn;
      return call;
    }
    if (RESERVED.has(w)) this.fail();
    this.next();
    return { kind: 'ident', name: t.text, at: sourcePos(t.line, t.column) };
  }

  private call(): A.Expr {
    const tok = this.next();
    return this.callArgs(tok.text, tok);
  }

  /** The argument list and trailing clauses of a call to `fname` (the name already read, at `tok`). */
  private callArgs(fname: string, tok: Token): A.Expr & { kind: 'call' } {
    const name = fname.toLowerCase();
    this.expectOp('(');
    const call: A.Expr & { kind: 'call' } = { kind: 'call', name, args: [], at: sourcePos(tok.line, tok.column), argsAt: sourcePos(this.t.line, this.t.column) };
    if (fname !== name) call.rawName = fname;
    if (this.acceptOp('*')) call.star = true;
    else if (!this.isOp(')')) {
      if (this.acceptKw('DISTINCT')) call.distinct = call.quantified = true;
      else if (this.acceptKw('ALL')) call.quantified = true;
      do {
        call.args.push(this.expr());
        // FLATTEN_KEYS(expr [ASC|DESC], ...): the direction of each flattened index key.
        if (name === 'flatten_keys' && (this.isKw('ASC') || this.isKw('DESC'))) (call.flattenDesc ??= [])[call.args.length - 1] = this.next().upper === 'DESC';
      } while (this.acceptOp(','));
    }
    this.expectOp(')');
    if (this.acceptKw('FILTER')) {
      // aggregate FILTER (WHERE cond): only rows passing cond reach the aggregate
      this.expectOp('(');
      this.expectKw('WHERE');
      call.filter = this.expr();
      this.expectOp(')');
    }
    // NTH_VALUE(...) FROM FIRST|LAST, and [RESPECT|IGNORE] NULLS of the value window functions.
    for (;;) {
      if (this.isKw('FROM') && (this.isKw('FIRST', this.peek()) || this.isKw('LAST', this.peek()))) {
        this.next();
        call.fromLast = this.next().upper === 'LAST';
      } else if ((this.isKw('RESPECT') || this.isKw('IGNORE')) && this.isKw('NULLS', this.peek())) {
        call.ignoreNulls = this.next().upper === 'IGNORE';
        this.next();
      } else break;
    }
    if (this.acceptKw('OVER')) {
      call.over = this.isOp('(') ? this.windowSpec() : { ref: this.ident(), bare: true };
    }
    return call;
  }

  /** `( [name] [PARTITION BY ...] [ORDER BY ...] [frame] )` */
  private windowSpec(): A.WindowSpec {
    this.expectOp('(');
    const spec: A.WindowSpec = {};
    if (this.isIdentTok()) spec.ref = this.ident();
    if (this.acceptKw('PARTITION')) {
      this.expectKw('BY');
      spec.partitionBy = [];
      do spec.partitionBy.push(this.expr());
      while (this.acceptOp(','));
    }
    if (this.isKw('ORDER')) spec.orderBy = this.orderBy();
    const unit = this.isKw('ROWS') ? 'rows' : this.isKw('RANGE') ? 'range' : this.isKw('GROUPS') ? 'groups' : undefined;
    if (unit) {
      this.next();
      let start: A.FrameBound;
      let end: A.FrameBound = { kind: 'current' };
      const between = this.acceptKw('BETWEEN');
      if (between) {
        start = this.frameBound();
        this.expectKw('AND');
        end = this.frameBound();
      } else start = this.frameBound();
      const frame: A.WindowFrame = { unit, between, start, end };
      if (this.acceptKw('EXCLUDE')) {
        if (this.acceptKw('CURRENT')) {
          this.expectKw('ROW');
          frame.exclude = 'current';
        } else if (this.acceptKw('GROUP')) frame.exclude = 'group';
        else if (this.acceptKw('TIES')) frame.exclude = 'ties';
        else {
          this.expectKw('NO');
          this.expectKw('OTHERS');
        }
      }
      spec.frame = frame;
    }
    this.expectOp(')');
    return spec;
  }

  private frameBound(): A.FrameBound {
    if (this.acceptKw('UNBOUNDED')) {
      if (this.acceptKw('PRECEDING')) return { kind: 'unbounded-preceding' };
      this.expectKw('FOLLOWING');
      return { kind: 'unbounded-following' };
    }
    if (this.acceptKw('CURRENT')) {
      this.expectKw('ROW');
      return { kind: 'current' };
    }
    const offset = this.expr();
    if (this.acceptKw('PRECEDING')) return { kind: 'preceding', offset };
    this.expectKw('FOLLOWING');
    return { kind: 'following', offset };
  }

  /** `b.s.f(args)` parsed as fields: the path names a scoped user-defined function. */
  private pathCall(target: A.Expr): A.Expr {
    const path: string[] = [];
    let e: A.Expr = target;
    while (e.kind === 'field') {
      path.unshift(e.name);
      e = e.target;
    }
    if (e.kind !== 'ident' || path.length !== 2) this.fail();
    const call = this.callArgs(path[1], this.toks[this.pos - 1]);
    call.fn = { bucket: e.name, scope: path[0], name: path[1] };
    return call;
  }

  // ---- user-defined functions ----

  /** name | namespace:name | [namespace:]bucket.scope.name */
  /** NEXT VALUE FOR s, NEXTVAL FOR s, PREV[IOUS] VALUE FOR s, PREVVAL FOR s; undefined when `w` starts none of them. */
  private sequenceOperator(w: string): A.Expr | undefined {
    const next = w === 'NEXT' || w === 'NEXTVAL';
    if (!next && w !== 'PREV' && w !== 'PREVIOUS' && w !== 'PREVVAL') return undefined;
    const short = w === 'NEXTVAL' || w === 'PREVVAL';
    if (short ? !this.isKw('FOR', this.peek()) : !(this.isKw('VALUE', this.peek()) && this.isKw('FOR', this.peek(2)))) return undefined;
    this.next();
    if (!short) this.next();
    this.next();
    return { kind: 'sequence', next, name: this.functionName() };
  }

  /** An integer of a sequence clause, with its sign. */
  private sequenceInteger(): bigint {
    const negative = this.acceptOp('-');
    if (!negative) this.acceptOp('+');
    const t = this.t;
    if (t.kind !== 'number' || (typeof t.num === 'number' && !Number.isInteger(t.num))) this.fail();
    this.next();
    const v = BigInt(t.num as number | bigint);
    return negative ? -v : v;
  }

  /** CREATE SEQUENCE, ALTER SEQUENCE, DROP SEQUENCE. */
  private sequenceDdl(): A.CreateSequenceStatement | A.AlterSequenceStatement | A.DropSequenceStatement {
    const verb = this.next().upper;
    this.expectKw('SEQUENCE');
    const ifNot = (): boolean => this.acceptKw('IF') && (this.expectKw('NOT'), this.expectKw('EXISTS'), true);
    if (verb === 'DROP') {
      // IF EXISTS before or after the name (the 7.6 grammar takes both).
      const ifExistsHere = (): boolean => this.acceptKw('IF') && (this.expectKw('EXISTS'), true);
      const before = ifExistsHere();
      const name = this.functionName();
      return { type: 'dropSequence', name, ifExists: before || ifExistsHere() };
    }
    let ifNotExists = verb === 'CREATE' && ifNot();
    const name = this.functionName();
    if (verb === 'CREATE' && !ifNotExists) ifNotExists = ifNot();
    const clauses: A.SequenceClauses = {};
    let withExpr: A.Expr | undefined;
    const once = (key: keyof A.SequenceClauses): void => {
      if (key in clauses) this.fail(this.toks[this.pos - 1]);
    };
    for (;;) {
      if (this.acceptKw('WITH')) {
        if (withExpr || Object.keys(clauses).length) this.fail(this.toks[this.pos - 1]);
        withExpr = this.expr();
      } else if (verb === 'CREATE' && this.acceptKw('START')) {
        once('start');
        this.expectKw('WITH');
        clauses.start = this.sequenceInteger();
      } else if (verb === 'ALTER' && this.acceptKw('RESTART')) {
        once('restart');
        clauses.restart = this.acceptKw('WITH') ? this.sequenceInteger() : true;
      } else if (this.acceptKw('INCREMENT')) {
        once('increment');
        this.expectKw('BY');
        clauses.increment = this.sequenceInteger();
      } else if (this.acceptKw('MAXVALUE')) {
        once('max');
        clauses.max = this.sequenceInteger();
      } else if (this.acceptKw('MINVALUE')) {
        once('min');
        clauses.min = this.sequenceInteger();
      } else if (this.acceptKw('CYCLE')) {
        once('cycle');
        clauses.cycle = true;
      } else if (this.acceptKw('CACHE')) {
        once('cache');
        clauses.cache = Number(this.sequenceInteger());
      } else if (this.acceptKw('NO')) {
        const what = this.next().upper;
        const key = (NO_SEQUENCE_CLAUSE as Record<string, 'max' | 'min' | 'cycle' | 'cache' | undefined>)[what];
        if (!key) this.fail(this.toks[this.pos - 1]);
        once(key);
        if (key === 'cycle') clauses.cycle = false;
        else clauses[key] = null;
      } else break;
    }
    return verb === 'CREATE' ? { type: 'createSequence', name, ifNotExists, clauses, with: withExpr } : { type: 'alterSequence', name, clauses, with: withExpr };
  }

  private functionName(): A.FunctionName {
    const word = (): string => {
      if (this.t.kind !== 'ident' && this.t.kind !== 'qident') this.fail();
      return this.next().text;
    };
    const first = word();
    const out: A.FunctionName = { name: first };
    let parts = [first];
    if (this.acceptOp(':')) {
      out.namespace = first;
      parts = [word()];
    } else if (RESERVED.has(first.toUpperCase()) && this.toks[this.pos - 1].kind === 'ident' && !this.isOp('.')) {
      // An unqualified function name may not be a reserved word.
      this.fail(this.toks[this.pos - 1]);
    }
    while (this.acceptOp('.')) parts.push(word());
    if (parts.length === 3) {
      out.bucket = parts[0];
      out.scope = parts[1];
    } else if (parts.length !== 1) this.fail(this.toks[this.pos - 1]);
    out.name = parts[parts.length - 1];
    return out;
  }

  private createFunction(): A.CreateFunctionStatement {
    this.expectKw('CREATE');
    let replace = false;
    if (this.acceptKw('OR')) {
      this.expectKw('REPLACE');
      replace = true;
    }
    this.expectKw('FUNCTION');
    let ifNotExists = false;
    const ifNot = (): void => {
      if (this.isKw('IF')) {
        if (replace) this.fail(); // OR REPLACE and IF NOT EXISTS exclude each other
        this.next();
        this.expectKw('NOT');
        this.expectKw('EXISTS');
        ifNotExists = true;
      }
    };
    ifNot();
    const name = this.functionName();
    this.expectOp('(');
    let params: string[] | undefined = [];
    if (this.isOp('.') && this.isOp('.', this.peek()) && this.isOp('.', this.peek(2))) {
      this.pos += 3;
      params = undefined;
    } else if (!this.isOp(')')) {
      do params.push(this.ident());
      while (this.acceptOp(','));
    }
    this.expectOp(')');
    ifNot();
    const stmt: A.CreateFunctionStatement = { type: 'createFunction', name, params, replace, ifNotExists };
    const inline = (): void => {
      const start = this.t.offset;
      const expr = this.expr();
      stmt.body = { expr, text: this.src.slice(start, this.toks[this.pos - 1].end).trim() };
    };
    if (this.acceptOp('{')) {
      inline();
      this.expectOp('}');
      return stmt;
    }
    this.expectKw('LANGUAGE');
    if (this.acceptKw('INLINE')) {
      this.expectKw('AS');
      inline();
      return stmt;
    }
    this.expectKw('JAVASCRIPT');
    this.expectKw('AS');
    const text = this.stringLiteral();
    stmt.javascript = this.acceptKw('AT') ? { object: text, library: this.stringLiteral() } : { code: text };
    return stmt;
  }

  private stringLiteral(): string {
    const tok = this.next();
    if (tok.kind !== 'string') this.fail(tok);
    return tok.text;
  }

  private dropFunction(): A.DropFunctionStatement {
    this.expectKw('DROP');
    this.expectKw('FUNCTION');
    let ifExists = false;
    if (this.acceptKw('IF')) {
      this.expectKw('EXISTS');
      ifExists = true;
    }
    return { type: 'dropFunction', name: this.functionName(), ifExists };
  }

  private caseExpr(): A.Expr {
    this.expectKw('CASE');
    const subject = this.isKw('WHEN') ? undefined : this.expr();
    const whens: { when: A.Expr; then: A.Expr }[] = [];
    while (this.acceptKw('WHEN')) {
      const when = this.expr();
      this.expectKw('THEN');
      whens.push({ when, then: this.expr() });
    }
    if (!whens.length) this.fail();
    const elseExpr = this.acceptKw('ELSE') ? this.expr() : undefined;
    this.expectKw('END');
    return { kind: 'case', subject, whens, else: elseExpr };
  }

  private collect(): A.Expr {
    const w = this.next().upper;
    const collect = w === 'ARRAY' ? 'array' : w === 'FIRST' ? 'first' : 'object';
    let key: A.Expr | undefined;
    let value = this.expr();
    if (collect === 'object') {
      this.expectOp(':');
      key = value;
      value = this.expr();
    }
    this.expectKw('FOR');
    const bindings = this.forBindings();
    const when = this.acceptKw('WHEN') ? this.expr() : undefined;
    this.expectKw('END');
    return { kind: 'collect', collect, value, key, bindings, when };
  }

  private forBindings(): A.ForBinding[] {
    const out: A.ForBinding[] = [];
    do {
      let name = this.ident();
      let pos: string | undefined;
      if (this.acceptOp(':')) {
        pos = name;
        name = this.ident();
      }
      let within = false;
      if (this.acceptKw('WITHIN')) within = true;
      else this.expectKw('IN');
      out.push({ name, pos, expr: this.expr(BP.IN), within });
    } while (this.acceptOp(','));
    return out;
  }
}

const BINARY_OPS: Record<string, { op: A.BinaryOp; bp: number } | undefined> = {
  '=': { op: '=', bp: BP.EQ },
  '==': { op: '=', bp: BP.EQ },
  '!=': { op: '!=', bp: BP.EQ },
  '<>': { op: '!=', bp: BP.EQ },
  '<': { op: '<', bp: BP.CMP },
  '<=': { op: '<=', bp: BP.CMP },
  '>': { op: '>', bp: BP.CMP },
  '>=': { op: '>=', bp: BP.CMP },
  '||': { op: '||', bp: BP.CONCAT },
  '+': { op: '+', bp: BP.ADD },
  '-': { op: '-', bp: BP.ADD },
  '*': { op: '*', bp: BP.MUL },
  '/': { op: '/', bp: BP.MUL },
  '%': { op: '%', bp: BP.MUL },
};

/** The name an unaliased expression gets (Couchbase's Expression.Alias()): its last field name. */
export function defaultAlias(e: A.Expr): string | undefined {
  if (e.kind === 'ident') return e.name;
  if (e.kind === 'field') return e.name;
  return undefined;
}
