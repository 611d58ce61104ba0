// Collection ids, as the SDKs keep them: a named collection (`scope.collection`) is looked up once
// with GET_COLLECTION_ID on a node, cached by its path, and looked up again when a node answers
// UNKNOWN_COLLECTION (the collection was dropped, or created again with a new id). The default
// collection is id 0 and never asked for. Keys carry the id as an unsigned LEB128 prefix on
// connections that negotiated COLLECTIONS (withCollectionPrefix moves a built frame between the two).
import { Magic, HEADER_LENGTH, writeHeader } from '../../protocol/packet';
import { Opcode } from '../../protocol/opcodes';
import { Status } from '../../protocol/status';
import { decodeCollectionIdExtras } from '../../protocol/extras';
import { decodeLeb128, leb128Length, writeLeb128 } from '../../protocol/leb128';
import { ArgumentError, CollectionNotFoundError, CouchbaseError, NetworkError, NotSupportedError, errorForStatus } from '../errors';
import { sendToServer, type NodeRequestHost } from './node-request';

/** The default collection's path. */
export const DEFAULT_COLLECTION_PATH = '_default._default';

/** What the ids are asked through: the map's nodes (NodeRequestHost) and the bucket's name for messages. */
export interface CollectionIdsHost extends NodeRequestHost {
  readonly bucketName: string;
}

type Waiter = (err: CouchbaseError | null) => void;

/** A scope or collection name as a path part: what kv_engine accepts (system names included). */
const NAME = /^[A-Za-z0-9_%][A-Za-z0-9_%$-]{0,250}$/;

/** Checks a `scope.collection` path; throws ArgumentError saying what is wrong. */
export function checkCollectionPath(path: unknown): string {
  if (typeof path !== 'string') throw new ArgumentError(`collection must be a "scope.collection" string, got ${typeof path}`);
  const dot = path.indexOf('.');
  if (dot < 0 || path.indexOf('.', dot + 1) >= 0 || !NAME.test(path.slice(0, dot)) || !NAME.test(path.slice(dot + 1))) {
    throw new ArgumentError(`collection "${path}" is not "scope.collection" (names of 1..251 characters A-Z a-z 0-9 _ % - $)`);
  }
  return path;
}

export class CollectionIds {
  private readonly ids = new Map<string, number>([[DEFAULT_COLLECTION_PATH, 0]]);
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(private readonly host: CollectionIdsHost) {}

  /** The id `path` has (checked first; ArgumentError when malformed), or -1 while it must be asked for. */
  idOf(path: string): number {
    const id = this.ids.get(path);
    if (id !== undefined) return id;
    checkCollectionPath(path);
    return -1;
  }

  /** A node said UNKNOWN_COLLECTION for `path` under `id`: the next use asks again. */
  forget(path: string, id: number): void {
    if (id !== 0 && this.ids.get(path) === id) this.ids.delete(path);
  }

  /**
   * Asks a connected node for the id of `path`; `cb` gets null once it is cached, or the error
   * (CollectionNotFoundError, NotSupportedError from a server without collections, ...). Callers
   * waiting for the same path share one request.
   */
  resolve(path: string, timeoutMs: number, cb: Waiter): void {
    const queue = this.waiting.get(path);
    if (queue !== undefined) {
      queue.push(cb);
      return;
    }
    const waiters = [cb];
    this.waiting.set(path, waiters);
    const done = (err: CouchbaseError | null): void => {
      this.waiting.delete(path);
      for (const w of waiters) w(err);
    };
    const index = this.connectedServer();
    if (index < 0) return process.nextTick(done, new NetworkError(`no node is connected to look collection "${path}" up`));
    const conn = this.host.nodes.get(this.host.topology!.servers[index].id)!.conn!;
    if (!conn.collections) {
      return process.nextTick(
        done,
        new NotSupportedError(`collection "${path}": ${conn.host}:${conn.port} did not accept collections in HELLO (a server before 7.0, or enable_collections=false)`),
      );
    }
    const value = Buffer.from(path, 'utf8');
    sendToServer(
      this.host,
      index,
      (opaque) => {
        const frame = Buffer.allocUnsafe(HEADER_LENGTH + value.length);
        writeHeader(frame, 0, Magic.REQUEST, Opcode.GET_COLLECTION_ID, 0, 0, 0, 0, value.length, opaque, 0n);
        value.copy(frame, HEADER_LENGTH);
        return frame;
      },
      timeoutMs,
      (err, p) => {
        if (err !== null) done(err);
        else if (p!.status === Status.SUCCESS) {
          this.ids.set(path, decodeCollectionIdExtras(p!.extras).id);
          done(null);
        } else if (p!.status === Status.UNKNOWN_COLLECTION || p!.status === Status.UNKNOWN_SCOPE) {
          done(this.notFound(path, p!.status, p!.value));
        } else done(errorForStatus(p!.status, undefined));
        return true;
      },
    );
  }

  /** CollectionNotFoundError for `path`, naming the manifest the node went by. */
  notFound(path: string, status: number, body: Buffer): CollectionNotFoundError {
    let uid = '';
    try {
      uid = String((JSON.parse(body.toString('utf8')) as { manifest_uid?: unknown }).manifest_uid ?? '');
    } catch {
      // no body, or not JSON: the message goes without it
    }
    const what = status === Status.UNKNOWN_SCOPE ? `scope "${path.slice(0, path.indexOf('.'))}"` : `collection "${path}"`;
    return new CollectionNotFoundError(`${what} does not exist in bucket "${this.host.bucketName}"${uid ? ` (manifest ${uid})` : ''}; create it first or check its name`, { status });
  }

  /** Index in the map of a server whose connection is up, or -1. */
  private connectedServer(): number {
    const topo = this.host.topology;
    if (topo === null) return -1;
    for (let i = 0; i < topo.servers.length; i++) {
      const conn = this.host.nodes.get(topo.servers[i].id)?.conn;
      if (conn?.ready) return i;
    }
    return -1;
  }
}

/**
 * The frame with its key prefixed by collection id `cid` (-1: no prefix, a connection without
 * COLLECTIONS), given that it now carries `had` (-1: none): a copy, the header's lengths fixed.
 */
export function withCollectionPrefix(frame: Buffer, had: number, cid: number): Buffer {
  const framing = frame[0] === Magic.ALT_REQUEST ? frame[2] : 0;
  const keyLen = frame[0] === Magic.ALT_REQUEST ? frame[3] : frame.readUInt16BE(2);
  const extLen = frame[4];
  const keyAt = HEADER_LENGTH + framing + extLen;
  const oldPrefix = had < 0 ? 0 : decodeLeb128(frame, keyAt).length;
  const newPrefix = cid < 0 ? 0 : leb128Length(cid);
  const out = Buffer.allocUnsafe(frame.length - oldPrefix + newPrefix);
  frame.copy(out, 0, 0, keyAt);
  if (newPrefix !== 0) writeLeb128(out, keyAt, cid);
  frame.copy(out, keyAt + newPrefix, keyAt + oldPrefix);
  const newKeyLen = keyLen - oldPrefix + newPrefix;
  if (frame[0] === Magic.ALT_REQUEST) out[3] = newKeyLen;
  else out.writeUInt16BE(newKeyLen, 2);
  out.writeUInt32BE(frame.readUInt32BE(8) - oldPrefix + newPrefix, 8);
  return out;
}
