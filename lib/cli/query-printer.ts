// Runs one N1QL statement and prints its response as pretty JSON in the manner of cbq: rows are
// written as they arrive (the result set is never held whole), then the request id, signature,
// status and metrics; a failed statement prints its errors with their codes.
import { N1QLQuery, type Engine, type StreamControl } from '../engine';
import { N1QLError } from '../engine/errors';
import { errorJson, stringifyJson, toJsonValue, type Writable } from './output';
import { renderTable } from './table';

export interface StatementParams {
  /** Positional parameters ($1, $2, ...). */
  args?: unknown[];
  /** Named parameters, with or without the leading `$`. */
  named?: Record<string, unknown>;
  consistency?: 'not_bounded' | 'request_plus';
  /** Seconds the query service may take (the shell's \SET -timeout). */
  timeout?: number;
  /** 'json' (cbq's pretty response, rows streamed) or 'table' (rows, then status and metrics). */
  format?: 'json' | 'table';
}

export interface StatementOutcome {
  ok: boolean;
  rows: number;
  meta: Record<string, unknown> | undefined;
  error: Error | undefined;
}

const IND = '    ';

function indented(v: unknown, depth: number): string {
  const pad = IND.repeat(depth);
  return pad + stringifyJson(v, 4).split('\n').join('\n' + pad);
}

export function buildQuery(statement: string, params: StatementParams): N1QLQuery {
  const q = new N1QLQuery(statement);
  if (params.args && params.args.length > 0) q.positionalParams(params.args);
  if (params.named && Object.keys(params.named).length > 0) q.namedParams(params.named);
  if (params.consistency) q.consistency = params.consistency;
  if (params.timeout !== undefined) q.timeout = params.timeout;
  return q;
}

/**
 * Runs `statement` and writes the pretty response to `out`. Resolves when the response is done
 * (never rejects: a failure is printed and reported in the outcome). `onControl` receives the
 * stream control so a caller can cancel (Ctrl-C in the shell).
 */
export function runAndPrint(
  engine: Engine,
  statement: string,
  params: StatementParams,
  out: Writable,
  onControl?: (c: StreamControl) => void,
): Promise<StatementOutcome> {
  return params.format === 'table' ? runAndPrintTable(engine, statement, params, out, onControl) : runAndPrintJson(engine, statement, params, out, onControl);
}

/**
 * The table format: rows are collected (a table needs every row to size its columns), then
 * printed with the status, the metrics and any errors with their codes.
 */
function runAndPrintTable(engine: Engine, statement: string, params: StatementParams, out: Writable, onControl?: (c: StreamControl) => void): Promise<StatementOutcome> {
  return new Promise((resolve) => {
    const rows: unknown[] = [];
    const finish = (meta: Record<string, unknown> | undefined, errors: Array<{ code?: unknown; msg?: unknown }> | undefined, error: Error | undefined): void => {
      let text = rows.length > 0 || errors === undefined ? renderTable(rows) : '';
      for (const e of errors ?? []) text += `error ${e.code ?? ''}: ${e.msg ?? ''}\n`;
      const metrics = (meta?.metrics ?? {}) as Record<string, unknown>;
      text += [`status: ${(meta?.status as string | undefined) ?? (errors ? 'fatal' : 'success')}`, ...Object.entries(metrics).map(([k, v]) => `${k}: ${v}`)].join('  ') + '\n';
      out.write(text);
      resolve({ ok: errors === undefined, rows: rows.length, meta, error });
    };
    let query: N1QLQuery;
    try {
      query = buildQuery(statement, params);
    } catch (err) {
      return finish(undefined, [errorJson(err) as { code?: unknown; msg?: unknown }], err as Error);
    }
    const control = engine.n1ql(query, {
      onRows: (batch: unknown[]) => {
        for (const r of batch) rows.push(toJsonValue(r));
      },
      onDone: (meta: Record<string, unknown>) => finish(meta, undefined, undefined),
      onError: (err: Error) => {
        if (err instanceof N1QLError) finish(err.meta, err.errors.length > 0 ? err.errors : [{ code: err.code, msg: err.msg || err.message }], err);
        else finish(undefined, [errorJson(err) as { code?: unknown; msg?: unknown }], err);
      },
    });
    onControl?.(control);
  });
}

function runAndPrintJson(
  engine: Engine,
  statement: string,
  params: StatementParams,
  out: Writable,
  onControl?: (c: StreamControl) => void,
): Promise<StatementOutcome> {
  return new Promise((resolve) => {
    let rows = 0;
    let opened = false;
    const open = (): void => {
      if (!opened) out.write('{\n' + IND + '"results": [');
      opened = true;
    };
    const tail = (meta: Record<string, unknown> | undefined, errors: unknown[] | undefined, status: string): void => {
      open();
      out.write(rows > 0 ? '\n' + IND + '],\n' : '],\n');
      const fields: Array<[string, unknown]> = [];
      if (meta?.requestID !== undefined) fields.push(['requestID', meta.requestID]);
      if (meta?.signature !== undefined) fields.push(['signature', meta.signature]);
      if (errors !== undefined) fields.push(['errors', errors]);
      if (meta?.warnings !== undefined) fields.push(['warnings', meta.warnings]);
      fields.push(['status', (meta?.status as string | undefined) ?? status]);
      if (meta?.metrics !== undefined) fields.push(['metrics', meta.metrics]);
      if (meta?.profile !== undefined) fields.push(['profile', meta.profile]);
      out.write(fields.map(([k, v]) => `${IND}${JSON.stringify(k)}: ${indented(v, 1).trimStart()}`).join(',\n') + '\n}\n');
    };
    let query: N1QLQuery;
    try {
      query = buildQuery(statement, params);
    } catch (err) {
      tail(undefined, [errorJson(err)], 'fatal');
      return resolve({ ok: false, rows: 0, meta: undefined, error: err as Error });
    }
    const control = engine.n1ql(query, {
      onRows(batch: unknown[]) {
        open();
        let text = '';
        for (const row of batch) {
          text += (rows++ === 0 ? '\n' : ',\n') + indented(toJsonValue(row), 2);
        }
        out.write(text);
      },
      onDone(meta: Record<string, unknown>) {
        tail(meta, undefined, 'success');
        resolve({ ok: true, rows, meta, error: undefined });
      },
      onError(err: Error) {
        let errors: unknown[];
        let meta: Record<string, unknown> | undefined;
        if (err instanceof N1QLError) {
          errors = err.errors.length > 0 ? err.errors : [{ code: err.code, msg: err.msg || err.message }];
          meta = err.meta;
        } else errors = [errorJson(err)];
        tail(meta, errors, 'fatal');
        resolve({ ok: false, rows, meta, error: err });
      },
    });
    onControl?.(control);
  });
}
