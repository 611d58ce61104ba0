// The contract between the embedded cluster's data service (lib/server) and the services that
// sit on top of it in the same process (N1QL in lib/server/n1ql, views in lib/server/views).
// Only types live here, so every side can be built against it independently.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Permission } from './rbac/permission';
import type { CollectionsOp, CollectionsResult } from './collections/manifest';
import type { QuerySettings } from './query-settings';

/** The server's time source. Expiry, lock timeouts and metrics read it; tests drive it. */
export interface ServerClock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** One live document as the data service holds it. `value` must be treated as read-only. */
export interface StoredDoc {
  readonly id: string;
  readonly value: Buffer;
  readonly flags: number;
  /** memcached datatype bits: 0x01 JSON (set when the value parses as JSON). */
  readonly datatype: number;
  readonly cas: bigint;
  /** Absolute expiry, Unix seconds; 0 = never. */
  readonly expiry: number;
  readonly seqno: bigint;
  readonly vbucket: number;
  /** Extended attributes, key -> JSON text (the embedded cluster's xattrs); absent when there are none. */
  readonly xattrs?: ReadonlyMap<string, string>;
}

export type MutationEvent =
  | { readonly kind: 'set'; readonly doc: StoredDoc; readonly previous: StoredDoc | undefined }
  | { readonly kind: 'delete'; readonly id: string; readonly vbucket: number; readonly seqno: bigint; readonly previous: StoredDoc };

export type StoreWriteMode = 'upsert' | 'insert' | 'replace';

export interface StoreWriteOptions {
  flags?: number;
  /** Defaults to JSON detection on the value. */
  datatype?: number;
  /** Expiry as the memcached protocol gives it (0 never, <= 30 days relative seconds, else absolute). */
  expiry?: number;
  /** Non-zero: the write only happens if the document's CAS matches. */
  cas?: bigint;
}

/**
 * Thrown by BucketStore writes. `status` is the memcached status a KV client would get
 * (0x01 KEY_ENOENT, 0x02 KEY_EEXISTS, 0x09 LOCKED, 0x03 E2BIG, 0x04 EINVAL, ...).
 */
export interface StoreErrorLike extends Error {
  readonly status: number;
}

/**
 * Small named JSON values a service keeps about one bucket (design documents, index
 * definitions): the definitions real Couchbase keeps across restarts. Kept in memory; when the
 * cluster has a `dataDir` every `set` is on disk (atomically, all names together) before it
 * returns, and the values are back after a restart before any service starts.
 */
export interface BucketMetadata {
  /** A copy of the value stored under `name`, or undefined. */
  get(name: string): unknown | undefined;
  /** Stores a JSON-serialisable value (copied); undefined removes it. Throws when it cannot be made durable. */
  set(name: string, value: unknown | undefined): void;
}

/**
 * One collection's documents, shared by every node of the embedded cluster. What `bucket(name)`
 * gives is the bucket's default collection, through which its other collections are found.
 */
export interface BucketStore {
  /** The bucket's name (for every collection of it). */
  readonly name: string;
  /** The collection's scope and name (`_default`, `_default` for the bucket itself). */
  readonly scopeName?: string;
  readonly collectionName?: string;
  /** The collection `scope.name` of this store's bucket, or undefined when there is none. */
  collectionNamed?(scope: string, name: string): BucketStore | undefined;
  /** Every collection of this store's bucket that exists, the default one first (when it does). */
  collections?(): BucketStore[];
  /** The bucket's scopes and their collections' names, in manifest order. */
  scopes?(): ReadonlyArray<{ readonly name: string; readonly collections: readonly string[] }>;
  readonly uuid: string;
  /** Number of live (unexpired, undeleted) documents. */
  readonly size: number;
  /** The live document, or undefined when missing, deleted or expired. Never copies the value. */
  get(id: string): StoredDoc | undefined;
  /** Every live document, in no particular order; safe against mutation during iteration. */
  docs(): IterableIterator<StoredDoc>;
  /** Writes exactly as the KV SET/ADD/REPLACE do (CAS bumped, seqno bumped, listeners told). */
  write(id: string, value: Buffer, mode: StoreWriteMode, options?: StoreWriteOptions): StoredDoc;
  /** Deletes exactly as KV DELETE does; throws a StoreErrorLike with status KEY_ENOENT when missing. */
  remove(id: string, options?: { cas?: bigint }): void;
  /** Called synchronously after every committed mutation, expiry included. Returns an unsubscribe. */
  onMutation(listener: (event: MutationEvent) => void): () => void;
  /** Highest seqno handed out so far in this bucket (all vBuckets); request_plus waits use it. */
  readonly highSeqno: bigint;
  /** Service definitions kept with the bucket (durable with the bucket's documents). */
  readonly metadata: BucketMetadata;
  /** The deleted document `id` and the xattrs it keeps (an SDK transaction stages inserts there), or undefined. */
  tombstone?(id: string): { readonly cas: bigint; readonly flags: number; readonly xattrs?: ReadonlyMap<string, string> } | undefined;
  /**
   * Makes `id` exactly `next`, live or deleted, body and xattrs, as a sub-document mutation does
   * (what the query service needs to finish an SDK transaction's staging); `cas` non-zero: only
   * if it is the CAS of what `id` is now, live or deleted.
   */
  putDocument?(id: string, next: StoredDocumentState, cas: bigint): { readonly cas: bigint };
}

/** A document's whole next state for BucketStore.putDocument. */
export interface StoredDocumentState {
  readonly value: Buffer;
  readonly datatype: number;
  readonly flags: number;
  readonly xattrs: ReadonlyMap<string, string> | undefined;
  /** As memcached takes it (0, relative seconds, or absolute). */
  readonly expiry: number;
  readonly preserveExpiry?: boolean;
  readonly deleted: boolean;
  /** Fills in what depends on the new CAS and seqno: returns the final xattrs. */
  readonly stamp?: (cas: bigint, seqno: bigint) => ReadonlyMap<string, string> | undefined;
}

/** An authenticated user, and what Couchbase's RBAC lets it do (lib/server/rbac). */
export interface ServiceUser {
  readonly username: string;
  /** Whether the user's roles grant `permission` (build one with the helpers of rbac/permission.ts). */
  allows(permission: Permission): boolean;
}

/** What an HTTP service running inside the embedded cluster can see of it. */
export interface ServiceContext {
  readonly clock: ServerClock;
  bucket(name: string): BucketStore | undefined;
  buckets(): BucketStore[];
  /** Checks an `Authorization: Basic ...` header; null when missing or wrong. */
  authenticate(authorization: string | undefined): ServiceUser | null;
  /** Index (0-based) of the node this handler serves. */
  readonly nodeIndex: number;
  /**
   * Creates or drops a scope or collection (N1QL's CREATE/DROP SCOPE/COLLECTION). Throws a
   * StoreErrorLike (ETMPFAIL) when the change cannot be made durable.
   */
  changeCollections?(bucket: string, op: CollectionsOp): CollectionsResult;
  /**
   * Call before a statement writes; the function returned resolves once every write made since
   * is durable (at once without a `dataDir`), and rejects with a StoreErrorLike (ETMPFAIL) when
   * the disk failed in between and writes not yet durable were undone.
   */
  trackWrites?(): () => Promise<void>;
  /** The cluster's nodes as N1QL's system:nodes lists them (absent outside a Cluster). */
  nodes?(): readonly ServiceNode[];
  /** The cluster's users and roles, the store the RBAC REST API uses (N1QL's GRANT / REVOKE, system:user_info). */
  security?: ServiceSecurity;
  /** The cluster's query settings (CURL()'s access list); absent: CURL() may reach nothing. */
  readonly querySettings?: QuerySettings;
}

/** One node of the cluster: `host:mgmtPort`, its ports by service (as nodesExt names them) and its services. */
export interface ServiceNode {
  readonly name: string;
  readonly ports: Readonly<Record<string, number>>;
  readonly services: readonly string[];
  /** Whether it is the node the service answers on. */
  readonly thisNode: boolean;
}

/** A role with its bucket, scope and collection parameters (`*` for any). */
export interface ServiceRole {
  readonly name: string;
  readonly params: readonly string[];
}

/** What N1QL needs of the cluster's RBAC store (lib/server/rbac). */
export interface ServiceSecurity {
  /** Every user as GET /settings/rbac/users gives it. */
  users(): Array<Record<string, unknown>>;
  /** The user as GET /settings/rbac/users/local/<id> gives it, or undefined. */
  user(id: string): Record<string, unknown> | undefined;
  /** The user's own roles; undefined when there is no such local user. */
  rolesOf(id: string): ServiceRole[] | undefined;
  /** How many parameters a role takes (0 none, 1 bucket, 2 scope, 3 collection); undefined for an unknown role. */
  roleParams(name: string): number | undefined;
  /** Why a role cannot be granted (a bucket, scope or collection that does not exist), or undefined. */
  roleProblem(role: ServiceRole): string | undefined;
  /** Replaces the user's own roles (throws when they cannot be made durable). */
  setRoles(id: string, roles: readonly ServiceRole[]): void;
}

export interface HttpServiceHandler {
  handle(req: IncomingMessage, res: ServerResponse): void;
  close?(): void;
}

/** One per node and per service; the cluster calls it when it starts that node's listener. */
export type HttpServiceFactory = (ctx: ServiceContext) => HttpServiceHandler;
