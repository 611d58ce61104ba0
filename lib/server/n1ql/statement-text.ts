// Statements back to text as Couchbase writes them after formalizing (FORMALIZE): keyspaces with
// their full path (`default`:`travel-sample`.`inventory`.`landmark`), every field qualified with
// its keyspace alias, `*` as self.*, keywords in lower case, expressions as EXPLAIN prints them.
import type * as A from './ast';
import { formatExpr, qualifyDoc } from './format';
import { splitKeyspacePath } from './keyspace-path';

const q = (name: string): string => '`' + name.replace(/`/g, '``') + '`';

/** The full path of a keyspace, completed from a query context (`default:bucket.scope`). */
function keyspacePath(ks: A.KeyspaceRef, context: { bucket: string; scope?: string } | undefined): string {
  let { bucket, scope, collection } = ks;
  if (context?.scope !== undefined && scope === undefined && ks.namespace === 'default') {
    collection = bucket;
    bucket = context.bucket;
    scope = context.scope;
  }
  return `${q(ks.namespace)}:${q(bucket)}${scope !== undefined ? `.${q(scope)}.${q(collection!)}` : ''}`;
}

function source(src: A.FromSource, context: { bucket: string; scope?: string } | undefined, fmt: (e: A.Expr) => string): string {
  if (src.kind === 'keyspace') return keyspacePath(src.ks, context) + (src.aliasGiven ? ` as ${q(src.alias)}` : '');
  if (src.kind === 'subquery') return `(${selectText(src.query, context)}) as ${q(src.alias)}`;
  return `${fmt(src.expr)}${src.alias ? ` as ${q(src.alias)}` : ''}`;
}

function block(b: A.SelectBlock, context: { bucket: string; scope?: string } | undefined): string {
  const from = b.from;
  const lets = new Set([...b.let.map((l) => l.name), ...b.letting.map((l) => l.name)]);
  // One FROM term: bare names are its fields.
  const only = from && from.joins.length === 0 && from.source.kind !== 'expr' ? from.source.alias : undefined;
  const fmt = (e: A.Expr): string => formatExpr(only !== undefined ? qualifyDoc(e, only, lets) : e);
  let out = 'select ';
  if (b.distinct) out += 'distinct ';
  if (b.raw) out += 'raw ';
  out += b.terms
    .map((t) => {
      if (t.star) return t.expr ? `${fmt(t.expr)}.*` : 'self.*';
      return fmt(t.expr!) + (t.alias !== undefined ? ` as ${q(t.alias)}` : '');
    })
    .join(', ');
  if (from) {
    out += ' from ' + source(from.source, context, fmt);
    for (const j of from.joins) {
      if (j.kind === 'unnest') out += ` ${j.outer ? 'left outer ' : ''}unnest ${fmt(j.expr)} as ${q(j.alias)}`;
      else if (j.kind === 'lookup') out += ` ${j.outer ? 'left outer ' : ''}${j.nest ? 'nest' : 'join'} ${source(j.right, context, fmt)} on keys ${fmt(j.onKeys)}`;
      else if (j.comma) out += `, ${source(j.right, context, fmt)}`;
      else out += ` ${j.outer ? 'left outer ' : ''}${j.nest ? 'nest' : 'join'} ${source(j.right, context, fmt)} on ${fmt(j.on)}`;
    }
  }
  if (b.let.length) out += ' let ' + b.let.map((l) => `${q(l.name)} = ${fmt(l.expr)}`).join(', ');
  if (b.where) out += ' where ' + fmt(b.where);
  if (b.groupBy) out += ' group by ' + b.groupBy.map(fmt).join(', ') + (b.groupAs ? ` group as ${q(b.groupAs)}` : '');
  if (b.letting.length) out += ' letting ' + b.letting.map((l) => `${q(l.name)} = ${fmt(l.expr)}`).join(', ');
  if (b.having) out += ' having ' + fmt(b.having);
  return out;
}

function body(b: A.SelectBody, context: { bucket: string; scope?: string } | undefined): string {
  if (b.kind === 'block') return block(b, context);
  if (b.kind === 'paren') return `(${selectText(b.query, context)})`;
  return `${body(b.left, context)} ${b.op}${b.all ? ' all' : ''} ${body(b.right, context)}`;
}

/** A query_context value (`default:`travel-sample`.inventory`, `b.s`, `b`) as bucket and scope. */
export function contextOf(text: string): { bucket: string; scope?: string } | undefined {
  const parts = splitKeyspacePath(text.trim().replace(/^[A-Za-z_]\w*:/, ''));
  if (parts === undefined || parts.length === 0 || parts.length > 2) return undefined;
  return { bucket: parts[0], scope: parts[1] };
}

/** A SELECT statement as Couchbase formalizes it. */
export function selectText(s: A.SelectStatement, context?: { bucket: string; scope?: string }): string {
  let out = '';
  if (s.with.length) out += 'with ' + s.with.map((w) => `${q(w.name)} as (${formatExpr(w.expr)})`).join(', ') + ' ';
  out += body(s.body, context);
  const only = s.body.kind === 'block' && s.body.from && s.body.from.joins.length === 0 ? s.body.from.source.alias : undefined;
  const aliases = new Set(s.body.kind === 'block' ? s.body.terms.flatMap((t) => (t.alias ? [t.alias] : [])) : []);
  const fmt = (e: A.Expr): string => formatExpr(only !== undefined ? qualifyDoc(e, only, aliases) : e);
  if (s.orderBy) out += ' order by ' + s.orderBy.map((t) => fmt(t.expr) + (t.desc ? ' desc' : '') + (t.nulls ? ` nulls ${t.nulls}` : '')).join(', ');
  if (s.offset) out += ' offset ' + formatExpr(s.offset);
  if (s.limit) out += ' limit ' + formatExpr(s.limit);
  return out;
}
