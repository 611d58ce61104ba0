// A bucket's collections manifest as ns_server keeps it (collections.erl): scopes holding
// collections, each with a unique id, and a uid that grows with every change. The 7.6 shape: the
// `_default` scope with the `_default` collection (id 0), the `_system` scope (id 8) with `_mobile`
// and `_query`, user scopes and collections numbered from the next free id (ids are never reused),
// per-collection maxTTL (0: the bucket's, -1: none, n: at most n seconds) and history (magma only).
//
// This module is the model only: what exists and what a change may do (ns_server's checks and
// counters). The store holds the documents (store.ts), the REST API and N1QL phrase the errors.

export const DEFAULT_SCOPE = '_default';
export const DEFAULT_COLLECTION = '_default';
export const SYSTEM_SCOPE = '_system';
/** The `_system` scope's collections, created with every bucket (7.6, not serverless). */
export const SYSTEM_COLLECTIONS: readonly string[] = ['_mobile', '_query'];
/** ns_server's MAX_SCOPES_SUPPORTED / MAX_COLLECTIONS_SUPPORTED: per bucket and per cluster. */
export const MAX_SCOPES = 1000;
export const MAX_COLLECTIONS = 1000;
/** The largest maxTTL, seconds (a signed 32-bit int). */
export const MAX_TTL_LIMIT = 2147483647;
/** maxTTL values with a meaning of their own. */
export const USE_BUCKET_MAX_TTL = 0;
export const NO_EXPIRY = -1;

export interface CollectionDef {
  readonly name: string;
  readonly uid: number;
  /** 0: the bucket's maxTTL applies; -1: no maxTTL; n > 0: documents live at most n seconds. */
  readonly maxTTL: number;
  /** History retention (magma buckets); undefined where ns_server keeps no value (the default collection of a couchstore bucket). */
  readonly history: boolean | undefined;
}

export interface ScopeDef {
  readonly name: string;
  readonly uid: number;
  readonly collections: readonly CollectionDef[];
}

/** Why a change was refused, as ns_server's collections module names it. */
export type ManifestError =
  | { readonly kind: 'scope_already_exists'; readonly scope: string }
  | { readonly kind: 'collection_already_exists'; readonly scope: string; readonly collection: string }
  | { readonly kind: 'scope_not_found'; readonly scope: string }
  | { readonly kind: 'collection_not_found'; readonly scope: string; readonly collection: string }
  | { readonly kind: 'cannot_drop_default_scope' }
  | { readonly kind: 'cannot_drop_system_scope' }
  | { readonly kind: 'cannot_create_default_collection'; readonly scope: string }
  | { readonly kind: 'cannot_create_collection_in_system_scope' }
  | { readonly kind: 'cannot_drop_system_collection'; readonly scope: string; readonly collection: string }
  | { readonly kind: 'cannot_modify_properties'; readonly collection: string; readonly props: ReadonlyArray<readonly [string, number | boolean]> }
  | { readonly kind: 'bucket_limit'; readonly counter: 'num_scopes' | 'num_collections'; readonly max: number }
  | { readonly kind: 'uid_mismatch' }
  | { readonly kind: 'cluster_limit'; readonly counter: 'num_scopes' | 'num_collections' };

export type CollectionsOp =
  | { readonly op: 'createScope'; readonly scope: string }
  | { readonly op: 'dropScope'; readonly scope: string }
  | { readonly op: 'createCollection'; readonly scope: string; readonly collection: string; readonly props: CollectionProps }
  | { readonly op: 'modifyCollection'; readonly scope: string; readonly collection: string; readonly props: CollectionProps }
  | { readonly op: 'dropCollection'; readonly scope: string; readonly collection: string }
  | { readonly op: 'setManifest'; readonly scopes: readonly RequiredScope[]; readonly validOnUid: number | undefined };

/** A scope as a whole-manifest PUT lists it: its collections and the properties given for each. */
export interface RequiredScope {
  readonly name: string;
  readonly collections: ReadonlyArray<{ readonly name: string; readonly props: CollectionProps }>;
}

/** A change refused before the manifest is asked: no such bucket, or one without collections (memcached). */
export type CollectionsError = ManifestError | { readonly kind: 'bucket_not_found'; readonly bucket: string } | { readonly kind: 'not_supported' };

export type CollectionsResult = { readonly ok: { readonly uid: number } } | { readonly error: CollectionsError };

/** A change that was made: the manifest's new uid, and what it did to the collections. */
export interface ManifestChange {
  readonly uid: number;
  /** Collections the change created, dropped or changed, with their scope's name (the store follows it). */
  readonly created: readonly PlacedCollection[];
  readonly dropped: readonly PlacedCollection[];
  readonly modified: readonly PlacedCollection[];
}

export interface PlacedCollection {
  readonly scope: string;
  readonly collection: CollectionDef;
}

/** Whether a reader sees a collection (`collection` undefined: some collection of the scope, or the scope as such). */
export type Visibility = (scope: string, collection: string | undefined) => boolean;

export type ChangeResult = { readonly ok: ManifestChange } | { readonly error: ManifestError };

/** Properties a create or modify request gives (undefined: not given). */
export interface CollectionProps {
  readonly maxTTL?: number;
  readonly history?: boolean;
}

/** What a change is checked against beyond the manifest itself. */
export interface ChangeContext {
  /** New collections get history retention by default (magma buckets). */
  readonly historyDefault: boolean;
  /** Scopes and collections the other buckets of the cluster count (the cluster-wide limits). */
  readonly otherScopes: number;
  readonly otherCollections: number;
}

/** The manifest as it is kept on disk (JSON). */
export interface SavedManifest {
  readonly uid: number;
  readonly nextUid: number;
  readonly nextScopeUid: number;
  readonly nextCollUid: number;
  readonly numScopes: number;
  readonly numCollections: number;
  readonly scopes: ReadonlyArray<{ name: string; uid: number; collections: ReadonlyArray<{ name: string; uid: number; maxTTL: number; history?: boolean }> }>;
}

/** A user-given scope or collection name's problem (ns_server's validators, in their order), or undefined. */
export function nameProblem(name: string): string | undefined {
  const length = [...name].length;
  if (length < 1 || length > 251) return `Name length (${length}) must be in the range from 1 to 251, inclusive`;
  if (!/^[0-9A-Za-z_%-]+$/.test(name)) return `Invalid value ${erlangString(name)} : "Can only contain characters A-Z, a-z, 0-9 and the following symbols _ - %"`;
  if (name[0] === '_' || name[0] === '%') return 'First character must not be _ or %';
  return undefined;
}

/** A string as Erlang's `~p` prints it (ns_server's messages quote names so). */
export function erlangString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The manifest uid (or a scope / collection id) as ns_server and memcached write it: lowercase hex. */
export function hexUid(n: number): string {
  return n.toString(16);
}

export class Manifest {
  private constructor(
    private uidValue: number,
    private nextUid: number,
    private nextScopeUid: number,
    private nextCollUid: number,
    private numScopes: number,
    private numCollections: number,
    private scopeList: ScopeDef[],
  ) {}

  /** A new bucket's manifest (7.6: uid 1, `_default` and `_system`). */
  static fresh(ctx: { historyDefault: boolean }): Manifest {
    const dflt: CollectionDef = { name: DEFAULT_COLLECTION, uid: 0, maxTTL: USE_BUCKET_MAX_TTL, history: ctx.historyDefault ? true : undefined };
    // ns_server folds the system collections into its list head first: the last created is listed first.
    const system = SYSTEM_COLLECTIONS.map((name, i): CollectionDef => ({ name, uid: 8 + i, maxTTL: NO_EXPIRY, history: false })).reverse();
    const scopes: ScopeDef[] = [
      { name: DEFAULT_SCOPE, uid: 0, collections: [dflt] },
      { name: SYSTEM_SCOPE, uid: 8, collections: system },
    ];
    return new Manifest(1, 2, 9, 8 + SYSTEM_COLLECTIONS.length, 0, 0, scopes);
  }

  /** The manifest of a bucket without collections (memcached): `_default._default` only, uid 0. */
  static defaultOnly(): Manifest {
    return new Manifest(0, 1, 8, 8, 0, 0, [{ name: DEFAULT_SCOPE, uid: 0, collections: [{ name: DEFAULT_COLLECTION, uid: 0, maxTTL: USE_BUCKET_MAX_TTL, history: undefined }] }]);
  }

  /** Reads back what `toJSON` wrote; throws a TypeError naming what is wrong. */
  static fromJSON(saved: unknown): Manifest {
    const s = saved as SavedManifest;
    const ints = [s?.uid, s?.nextUid, s?.nextScopeUid, s?.nextCollUid, s?.numScopes, s?.numCollections];
    if (!ints.every((n) => Number.isSafeInteger(n) && (n as number) >= 0) || !Array.isArray(s.scopes)) throw new TypeError('collections manifest: malformed counters or scopes');
    const scopes = s.scopes.map((sc): ScopeDef => {
      if (typeof sc?.name !== 'string' || !Number.isSafeInteger(sc.uid) || !Array.isArray(sc.collections)) throw new TypeError('collections manifest: malformed scope');
      return {
        name: sc.name,
        uid: sc.uid,
        collections: sc.collections.map((c: SavedManifest['scopes'][number]['collections'][number]): CollectionDef => {
          if (typeof c?.name !== 'string' || !Number.isSafeInteger(c.uid) || !Number.isSafeInteger(c.maxTTL)) throw new TypeError(`collections manifest: malformed collection in scope ${sc.name}`);
          return { name: c.name, uid: c.uid, maxTTL: c.maxTTL, history: typeof c.history === 'boolean' ? c.history : undefined };
        }),
      };
    });
    return new Manifest(s.uid, s.nextUid, s.nextScopeUid, s.nextCollUid, s.numScopes, s.numCollections, scopes);
  }

  toJSON(): SavedManifest {
    return {
      uid: this.uidValue,
      nextUid: this.nextUid,
      nextScopeUid: this.nextScopeUid,
      nextCollUid: this.nextCollUid,
      numScopes: this.numScopes,
      numCollections: this.numCollections,
      scopes: this.scopeList.map((s) => ({ name: s.name, uid: s.uid, collections: s.collections.map((c) => ({ name: c.name, uid: c.uid, maxTTL: c.maxTTL, ...(c.history !== undefined ? { history: c.history } : {}) })) })),
    };
  }

  get uid(): number {
    return this.uidValue;
  }

  /** User scopes and collections, as the limits count them (`_default`, `_system` and theirs not included). */
  get counts(): { scopes: number; collections: number } {
    return { scopes: this.numScopes, collections: this.numCollections };
  }

  get scopes(): readonly ScopeDef[] {
    return this.scopeList;
  }

  scope(name: string): ScopeDef | undefined {
    return this.scopeList.find((s) => s.name === name);
  }

  collection(scope: string, name: string): CollectionDef | undefined {
    return this.scope(scope)?.collections.find((c) => c.name === name);
  }

  /** Every collection with its scope's name. */
  *allCollections(): IterableIterator<{ scope: ScopeDef; collection: CollectionDef }> {
    for (const scope of this.scopeList) for (const collection of scope.collections) yield { scope, collection };
  }

  /** The scope and collection with id `uid`, or undefined. */
  byId(uid: number): { scope: ScopeDef; collection: CollectionDef } | undefined {
    for (const entry of this.allCollections()) if (entry.collection.uid === uid) return entry;
    return undefined;
  }

  // ---- changes (each either applies whole, with a new uid, or not at all) -----------------------------------

  createScope(name: string, ctx: ChangeContext): ChangeResult {
    if (this.scope(name) !== undefined) return { error: { kind: 'scope_already_exists', scope: name } };
    const limit = this.checkLimit('num_scopes', this.numScopes + 1, ctx.otherScopes);
    if (limit !== undefined) return { error: limit };
    this.scopeList = [{ name, uid: this.nextScopeUid++, collections: [] }, ...this.scopeList];
    this.numScopes++;
    return this.changed([], [], []);
  }

  createCollection(scopeName: string, name: string, props: CollectionProps, ctx: ChangeContext): ChangeResult {
    if (name === DEFAULT_COLLECTION) return { error: { kind: 'cannot_create_default_collection', scope: scopeName } };
    if (scopeName === SYSTEM_SCOPE) return { error: { kind: 'cannot_create_collection_in_system_scope' } };
    const scope = this.scope(scopeName);
    if (scope === undefined) return { error: { kind: 'scope_not_found', scope: scopeName } };
    if (scope.collections.some((c) => c.name === name)) return { error: { kind: 'collection_already_exists', scope: scopeName, collection: name } };
    const limit = this.checkLimit('num_collections', this.numCollections + 1, ctx.otherCollections);
    if (limit !== undefined) return { error: limit };
    const def: CollectionDef = { name, uid: this.nextCollUid++, maxTTL: props.maxTTL ?? USE_BUCKET_MAX_TTL, history: props.history ?? ctx.historyDefault };
    this.replaceScope({ ...scope, collections: [def, ...scope.collections] });
    this.numCollections++;
    return this.changed([{ scope: scopeName, collection: def }], [], []);
  }

  /**
   * PATCH: history may change, and (7.6) maxTTL outside the `_system` scope; anything else given
   * must equal what the collection has. No change at all keeps the uid.
   */
  modifyCollection(scopeName: string, name: string, props: CollectionProps): ChangeResult {
    const scope = this.scope(scopeName);
    if (scope === undefined) return { error: { kind: 'scope_not_found', scope: scopeName } };
    const current = scope.collections.find((c) => c.name === name);
    if (current === undefined) return { error: { kind: 'collection_not_found', scope: scopeName, collection: name } };
    if (props.maxTTL !== undefined && scopeName === SYSTEM_SCOPE && props.maxTTL !== current.maxTTL) {
      return { error: { kind: 'cannot_modify_properties', collection: name, props: [['maxTTL', props.maxTTL]] } };
    }
    const next: CollectionDef = { ...current, maxTTL: props.maxTTL ?? current.maxTTL, history: props.history ?? current.history };
    if (next.maxTTL === current.maxTTL && next.history === current.history) return { ok: { uid: this.uidValue, created: [], dropped: [], modified: [] } };
    this.replaceScope({ ...scope, collections: scope.collections.map((c) => (c === current ? next : c)) });
    return this.changed([], [], [{ scope: scopeName, collection: next }]);
  }

  dropScope(name: string): ChangeResult {
    if (name === DEFAULT_SCOPE) return { error: { kind: 'cannot_drop_default_scope' } };
    if (name === SYSTEM_SCOPE) return { error: { kind: 'cannot_drop_system_scope' } };
    const scope = this.scope(name);
    if (scope === undefined) return { error: { kind: 'scope_not_found', scope: name } };
    this.scopeList = this.scopeList.filter((s) => s !== scope);
    this.numScopes--;
    this.numCollections -= scope.collections.length;
    return this.changed([], scope.collections.map((collection) => ({ scope: name, collection })), []);
  }

  dropCollection(scopeName: string, name: string): ChangeResult {
    if (scopeName === SYSTEM_SCOPE && name.startsWith('_')) return { error: { kind: 'cannot_drop_system_collection', scope: scopeName, collection: name } };
    const scope = this.scope(scopeName);
    if (scope === undefined) return { error: { kind: 'scope_not_found', scope: scopeName } };
    const current = scope.collections.find((c) => c.name === name);
    if (current === undefined) return { error: { kind: 'collection_not_found', scope: scopeName, collection: name } };
    this.replaceScope({ ...scope, collections: scope.collections.filter((c) => c !== current) });
    // The default collection is not counted (it may be dropped, never created again).
    if (!(scopeName === DEFAULT_SCOPE && name === DEFAULT_COLLECTION)) this.numCollections--;
    return this.changed([], [{ scope: scopeName, collection: current }], []);
  }

  /**
   * PUT .../scopes (ns_server's set_manifest): the scopes and collections `required` lists are the
   * bucket's afterwards, the `_system` scope aside (neither listed nor changed). Scopes and
   * collections left out are dropped (the `_default` scope cannot be), new ones created, given
   * properties applied as PATCH applies them; drops first, as ns_server orders them. The whole is
   * one change with one new uid, or nothing at all when a step is refused or nothing differs.
   * `validOnUid`: only while the manifest is at that uid.
   */
  setManifest(required: readonly RequiredScope[], validOnUid: number | undefined, ctx: ChangeContext): ChangeResult {
    if (validOnUid !== undefined && validOnUid !== this.uidValue) return { error: { kind: 'uid_mismatch' } };
    const before = { uid: this.uidValue, next: this.nextUid };
    const created: PlacedCollection[] = [];
    const dropped: PlacedCollection[] = [];
    const modified: PlacedCollection[] = [];
    const wanted = required.filter((s) => s.name !== SYSTEM_SCOPE);
    const steps: Array<() => ChangeResult> = [];
    for (const scope of this.scopeList) {
      if (scope.name !== SYSTEM_SCOPE && !wanted.some((w) => w.name === scope.name)) steps.push(() => this.dropScope(scope.name));
    }
    for (const w of wanted) {
      const current = this.scope(w.name);
      if (current === undefined) steps.push(() => this.createScope(w.name, ctx));
      else for (const c of current.collections) if (!w.collections.some((x) => x.name === c.name)) steps.push(() => this.dropCollection(w.name, c.name));
      for (const c of w.collections) {
        const exists = current?.collections.some((x) => x.name === c.name) === true;
        steps.push(() => (exists ? this.modifyCollection(w.name, c.name, c.props) : this.createCollection(w.name, c.name, c.props, ctx)));
      }
    }
    for (const step of steps) {
      const r = step();
      if ('error' in r) return r;
      created.push(...r.ok.created);
      dropped.push(...r.ok.dropped);
      modified.push(...r.ok.modified);
    }
    // One change, one uid (each step that changed something took one).
    const changedAny = this.uidValue !== before.uid;
    this.uidValue = before.uid;
    this.nextUid = before.next;
    return changedAny ? this.changed(created, dropped, modified) : { ok: { uid: this.uidValue, created, dropped, modified } };
  }

  // ---- the JSON clients read ------------------------------------------------------------------------------------

  /**
   * GET /pools/default/buckets/<b>/scopes: ns_server's own values (maxTTL 0 / -1 / n, history as
   * kept), the scopes and collections `visible` lets through.
   */
  restJson(visible: Visibility = () => true): Record<string, unknown> {
    return {
      uid: hexUid(this.uidValue),
      scopes: this.scopeList
        .map((s) => ({ scope: s, collections: s.collections.filter((c) => visible(s.name, c.name)) }))
        .filter(({ scope, collections }) => collections.length > 0 || visible(scope.name, undefined))
        .map(({ scope, collections }) => ({
          name: scope.name,
          uid: hexUid(scope.uid),
          collections: collections.map((c) => ({ name: c.name, uid: hexUid(c.uid), maxTTL: c.maxTTL, ...(c.history !== undefined ? { history: c.history } : {}) })),
        })),
    };
  }

  /**
   * GET_COLLECTIONS_MANIFEST: the manifest memcached holds (ns_server maps maxTTL for it: the
   * bucket's is left out, "none" becomes 0), filtered to what the connection may see.
   */
  memcachedJson(visible: Visibility): Record<string, unknown> {
    const scopes = [];
    for (const s of this.scopeList) {
      const collections = s.collections.filter((c) => visible(s.name, c.name));
      if (collections.length === 0 && !visible(s.name, undefined)) continue;
      scopes.push({
        name: s.name,
        uid: hexUid(s.uid),
        collections: collections.map((c) => ({
          name: c.name,
          uid: hexUid(c.uid),
          ...(c.maxTTL === NO_EXPIRY ? { maxTTL: 0 } : c.maxTTL > 0 ? { maxTTL: c.maxTTL } : {}),
          ...(c.history === true ? { history: true } : {}),
        })),
      });
    }
    return { uid: hexUid(this.uidValue), scopes };
  }

  // ---- internals ----------------------------------------------------------------------------------------

  private replaceScope(next: ScopeDef): void {
    this.scopeList = this.scopeList.map((s) => (s.name === next.name ? next : s));
  }

  private checkLimit(counter: 'num_scopes' | 'num_collections', mine: number, others: number): ManifestError | undefined {
    const max = counter === 'num_scopes' ? MAX_SCOPES : MAX_COLLECTIONS;
    if (mine > max) return { kind: 'bucket_limit', counter, max };
    if (mine + others > max) return { kind: 'cluster_limit', counter };
    return undefined;
  }

  private changed(created: readonly PlacedCollection[], dropped: readonly PlacedCollection[], modified: readonly PlacedCollection[]): ChangeResult {
    this.uidValue = this.nextUid++;
    return { ok: { uid: this.uidValue, created, dropped, modified } };
  }
}

/** ns_server's message and status for a refused change (menelaus_web_collections:get_err_code_msg). */
export function collectionsErrorText(e: CollectionsError): { message: string; status: number } {
  switch (e.kind) {
    case 'scope_already_exists':
      return { message: `Scope with name ${erlangString(e.scope)} already exists`, status: 400 };
    case 'collection_already_exists':
      return { message: `Collection with name ${erlangString(e.collection)} in scope ${erlangString(e.scope)} already exists`, status: 400 };
    case 'scope_not_found':
      return { message: `Scope with name ${erlangString(e.scope)} is not found`, status: 404 };
    case 'collection_not_found':
      return { message: `Collection with name ${erlangString(e.collection)} in scope ${erlangString(e.scope)} is not found`, status: 404 };
    case 'cannot_drop_default_scope':
      return { message: 'Deleting _default scope is not allowed', status: 400 };
    case 'cannot_drop_system_scope':
      return { message: 'Deleting _system scope is not allowed', status: 400 };
    case 'cannot_create_default_collection':
      return { message: `Cannot create _default collection in scope ${erlangString(e.scope)}. Creation of _default collection is not allowed.`, status: 400 };
    case 'cannot_create_collection_in_system_scope':
      return { message: "cannot create collection in '_system' scope", status: 400 };
    case 'cannot_drop_system_collection':
      return { message: `Cannot drop system collection ${erlangString(e.collection)} for scope ${erlangString(e.scope)}`, status: 400 };
    case 'cannot_modify_properties':
      // ns_server has no words for it: its catch-all prints the term.
      return { message: `Unknown error {cannot_modify_properties,${erlangString(e.collection)},[${e.props.map(([k, v]) => `{${k},${v}}`).join(',')}]}`, status: 400 };
    case 'bucket_limit':
      return { message: `Maximum number of ${e.counter === 'num_scopes' ? 'scopes' : 'collections'} (${e.max}) for this bucket has been reached`, status: 429 };
    case 'cluster_limit':
      return { message: `Maximum number of ${e.counter === 'num_scopes' ? 'scopes' : 'collections'} has been reached`, status: 400 };
    case 'bucket_not_found':
      return { message: `Bucket with name ${erlangString(e.bucket)} not found`, status: 404 };
    case 'not_supported':
      return { message: 'Not allowed on this type of bucket', status: 400 };
    case 'uid_mismatch':
      return { message: "validOnUid doesn't match the current manifest Uid", status: 400 };
  }
}

/** Whether `scope.collection` is a system collection (KV asks for the system privileges there). */
export function isSystemCollection(scope: string, collection: string): boolean {
  return scope === SYSTEM_SCOPE && collection.startsWith('_');
}
