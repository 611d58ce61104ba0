// Design document validation, with the reasons Couchbase's view engine gives when it refuses a
// PUT (couch_set_view_mapreduce's checks: view names, map/reduce presence and types, built-in
// reduce names, and whether each function compiles).
import { invalidDesignDocument, badRequest } from './errors';
import { isBuiltinReduce } from './reduce';
import { checkFunctionSyntax } from './sandbox';

export interface ViewDefinition {
  readonly name: string;
  readonly map: string;
  readonly reduce: string | undefined;
}

/** A validated design document: the body as stored plus its views in definition order. */
export interface DesignDocument {
  /** Name without the `_design/` prefix (`dev_` kept). */
  readonly name: string;
  readonly body: Record<string, unknown>;
  readonly views: readonly ViewDefinition[];
}

export const DESIGN_PREFIX = '_design/';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates a design document body; throws ViewHttpError (400) with Couchbase's reason. Function
 * sources are only parsed here, never run: whether each evaluates to a function is checked in
 * the design document's sandbox (see ViewSandbox.ready).
 */
export function validateDesignDocument(name: string, body: unknown): DesignDocument {
  if (!isObject(body)) throw badRequest('Document must be a JSON object');
  const viewsField = body.views === undefined ? {} : body.views;
  if (!isObject(viewsField)) throw invalidDesignDocument("The field `views' is not a json object.");
  const views: ViewDefinition[] = [];
  for (const [viewName, def] of Object.entries(viewsField)) {
    if (viewName === '') throw invalidDesignDocument('View name cannot be an empty string');
    if (/^[ \t\n\r]|[ \t\n\r]$/.test(viewName)) {
      throw invalidDesignDocument(`View name \`${viewName}\` cannot have leading or trailing whitespace`);
    }
    if (!isObject(def)) throw invalidDesignDocument(`Value for view \`${viewName}' is not a json object.`);
    const map = def.map;
    if (map === undefined) throw invalidDesignDocument(`The \`map' field for the view \`${viewName}' is missing.`);
    if (typeof map !== 'string') throw invalidDesignDocument(`The \`map' field of the view \`${viewName}' is not a json string.`);
    const mapError = checkFunctionSyntax(map);
    if (mapError) throw invalidDesignDocument(`Syntax error in the map function of the view \`${viewName}': ${mapError}`);
    const reduce = def.reduce;
    if (reduce !== undefined) {
      if (typeof reduce !== 'string') throw invalidDesignDocument(`The \`reduce' field of the view \`${viewName}' is not a json string.`);
      if (reduce.startsWith('_')) {
        if (!isBuiltinReduce(reduce)) throw invalidDesignDocument(`Invalid built-in reduce function for view \`${viewName}': ${reduce}`);
      } else {
        const reduceError = checkFunctionSyntax(reduce);
        if (reduceError) throw invalidDesignDocument(`Syntax error in the reduce function of the view \`${viewName}': ${reduceError}`);
      }
    }
    views.push({ name: viewName, map, reduce: typeof reduce === 'string' ? reduce : undefined });
  }
  return { name, body, views };
}

/** Whether two design documents define the same views (then the index can be kept). */
export function sameViews(a: DesignDocument, b: DesignDocument): boolean {
  if (a.views.length !== b.views.length) return false;
  return a.views.every((v, i) => v.name === b.views[i].name && v.map === b.views[i].map && v.reduce === b.views[i].reduce);
}

/**
 * The views a stored body defines, read without validation: a design document kept from an
 * earlier run that no longer validates is still listed and queryable (as failed) under its views.
 */
export function storedViews(body: unknown): ViewDefinition[] {
  const views = isObject(body) && isObject(body.views) ? body.views : {};
  const out: ViewDefinition[] = [];
  for (const [name, def] of Object.entries(views)) {
    if (!isObject(def)) continue;
    out.push({ name, map: typeof def.map === 'string' ? def.map : '', reduce: typeof def.reduce === 'string' ? def.reduce : undefined });
  }
  return out;
}
