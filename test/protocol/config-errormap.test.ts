import { expect } from 'chai';
import {
  parseConfig,
  substituteHost,
  isNewerConfig,
  compareConfigRevision,
  isBucketConfig,
  BucketConfig,
  GlobalConfig,
  SERVER_ERROR_MAP,
  parseErrorMap,
  serializeErrorMap,
  errorAttributes,
  errorMapEntry,
  Status,
  statusName,
} from '../../lib/protocol';
import { reasonOf } from './helpers';

const TERSE = JSON.stringify({
  rev: 12,
  revEpoch: 1,
  name: 'default',
  uuid: 'c604594ab4602d14da3d099e4fa543bb',
  bucketType: 'membase',
  nodeLocator: 'vbucket',
  collectionsManifestUid: '0',
  bucketCapabilities: ['collections', 'cccp', 'nodesExt', 'couchapi'],
  nodes: [{ couchApiBase: 'http://$HOST:8092/default', hostname: '$HOST:8091', ports: { direct: 11210 } }],
  nodesExt: [{ services: { kv: 11210, mgmt: 8091, capi: 8092, n1ql: 8093 }, thisNode: true, hostname: '$HOST' }],
  vBucketServerMap: { hashAlgorithm: 'CRC', numReplicas: 0, serverList: ['$HOST:11210'], vBucketMap: [[0], [0], [0], [0]] },
  clusterCapabilitiesVer: [1, 0],
  clusterCapabilities: { n1ql: ['enhancedPreparedStatements'] },
});

describe('protocol: bucket and cluster configs', () => {
  it('parses a terse bucket config and substitutes $HOST everywhere', () => {
    const c = parseConfig(TERSE, '127.0.0.1') as BucketConfig;
    expect(isBucketConfig(c)).to.equal(true);
    expect(c.rev).to.equal(12);
    expect(c.nodesExt[0].hostname).to.equal('127.0.0.1');
    expect(c.nodesExt[0].services.n1ql).to.equal(8093);
    expect(c.vBucketServerMap!.serverList).to.deep.equal(['127.0.0.1:11210']);
    expect(c.nodes![0].hostname).to.equal('127.0.0.1:8091');
    expect(c.nodes![0].couchApiBase).to.equal('http://127.0.0.1:8092/default');
    expect(c.vBucketServerMap!.vBucketMap).to.have.length(4);
  });

  it('accepts a Buffer body (as it arrives over KV)', () => {
    expect((parseConfig(Buffer.from(TERSE), 'localhost') as BucketConfig).vBucketServerMap!.serverList).to.deep.equal(['localhost:11210']);
  });

  it('brackets an IPv6 host where a port follows it', () => {
    expect(substituteHost('"$HOST:8091","$HOST"', '::1')).to.equal('"[::1]:8091","::1"');
    expect(substituteHost('"$HOST:8091","$HOST"', '[::1]')).to.equal('"[::1]:8091","::1"');
  });

  it('parses a global (GCCCP) config, which names no bucket', () => {
    const g = parseConfig(JSON.stringify({ rev: 3, nodesExt: [{ services: { mgmt: 8091, n1ql: 8093 }, thisNode: true }] }), 'h') as GlobalConfig;
    expect(isBucketConfig(g)).to.equal(false);
    expect(g.nodesExt[0].services.n1ql).to.equal(8093);
  });

  it('derives nodesExt from the legacy nodes list when a server sends none', () => {
    const legacy = JSON.stringify({
      rev: 1, name: 'b', nodeLocator: 'vbucket',
      nodes: [{ couchApiBase: 'http://$HOST:9500/b', hostname: '$HOST:9000', ports: { direct: 12000 } }],
      vBucketServerMap: { hashAlgorithm: 'CRC', numReplicas: 0, serverList: ['$HOST:12000'], vBucketMap: [[0]] },
    });
    const c = parseConfig(legacy, '10.0.0.1');
    expect(c.nodesExt).to.deep.equal([{ hostname: '10.0.0.1', services: { mgmt: 9000, kv: 12000, capi: 9500 } }]);
  });

  it('rejects bodies that are not configs', () => {
    expect(reasonOf(() => parseConfig('{"rev":', 'h'))).to.equal('bad_config');
    expect(reasonOf(() => parseConfig('[]', 'h'))).to.equal('bad_config');
    expect(reasonOf(() => parseConfig('{"rev":"1","nodesExt":[]}', 'h'))).to.equal('bad_config');
    expect(reasonOf(() => parseConfig('{"rev":1}', 'h'))).to.equal('bad_config');
    expect(reasonOf(() => parseConfig('{"rev":1,"nodesExt":[{}]}', 'h'))).to.equal('bad_config');
    expect(reasonOf(() => parseConfig('{"rev":1,"name":"b","nodesExt":[],"vBucketServerMap":{"serverList":[]}}', 'h'))).to.equal('bad_config');
  });

  it('orders configs by (revEpoch, rev)', () => {
    expect(isNewerConfig({ rev: 2 }, { rev: 1 })).to.equal(true);
    expect(isNewerConfig({ rev: 1 }, { rev: 1 })).to.equal(false);
    expect(isNewerConfig({ rev: 1 }, { rev: 2 })).to.equal(false);
    expect(isNewerConfig({ rev: 1, revEpoch: 2 }, { rev: 100, revEpoch: 1 })).to.equal(true);
    expect(isNewerConfig({ rev: 100, revEpoch: 1 }, { rev: 1, revEpoch: 2 })).to.equal(false);
    expect(isNewerConfig({ rev: 5, revEpoch: 0 }, { rev: 4 })).to.equal(true); // missing epoch = 0
    expect(isNewerConfig({ rev: 1 }, undefined)).to.equal(true);
    expect(compareConfigRevision({ rev: 3, revEpoch: 1 }, { rev: 3, revEpoch: 1 })).to.equal(0);
  });
});

describe('protocol: error map', () => {
  it('serves a version 2 map that lists every status the server emits', () => {
    expect(SERVER_ERROR_MAP.version).to.equal(2);
    expect(SERVER_ERROR_MAP.revision).to.be.at.least(1);
    const emitted = [
      Status.SUCCESS, Status.KEY_ENOENT, Status.KEY_EEXISTS, Status.E2BIG, Status.EINVAL, Status.NOT_STORED,
      Status.DELTA_BADVAL, Status.NOT_MY_VBUCKET, Status.NO_BUCKET, Status.LOCKED, Status.NOT_LOCKED,
      Status.AUTH_ERROR, Status.AUTH_CONTINUE, Status.EACCESS, Status.UNKNOWN_FRAME_INFO, Status.UNKNOWN_COMMAND,
      Status.NOT_SUPPORTED, Status.EINTERNAL, Status.ETMPFAIL, Status.UNKNOWN_COLLECTION, Status.UNKNOWN_SCOPE,
      Status.DURABILITY_INVALID_LEVEL, Status.DURABILITY_IMPOSSIBLE,
      Status.SUBDOC_PATH_ENOENT, Status.SUBDOC_MULTI_PATH_FAILURE, Status.SUBDOC_SUCCESS_DELETED,
    ];
    for (const code of emitted) {
      const e = errorMapEntry(SERVER_ERROR_MAP, code);
      expect(e, statusName(code)).to.not.equal(undefined);
      expect(e!.attrs.length, statusName(code)).to.be.greaterThan(0);
    }
  });

  it('uses Couchbase names and lowercase hex keys', () => {
    expect(SERVER_ERROR_MAP.errors['7'].name).to.equal('NOT_MY_VBUCKET');
    expect(SERVER_ERROR_MAP.errors['86'].name).to.equal('ETMPFAIL');
    expect(SERVER_ERROR_MAP.errors['cc'].name).to.equal('SUBDOC_MULTI_PATH_FAILURE');
    for (const k of Object.keys(SERVER_ERROR_MAP.errors)) expect(k).to.match(/^[0-9a-f]+$/);
  });

  it('gives the attributes clients act on', () => {
    expect(errorAttributes(SERVER_ERROR_MAP, Status.NOT_MY_VBUCKET)).to.include('fetch-config');
    expect(errorAttributes(SERVER_ERROR_MAP, Status.LOCKED)).to.include.members(['item-locked', 'retry-now']);
    expect(errorAttributes(SERVER_ERROR_MAP, Status.ETMPFAIL)).to.include.members(['temp', 'retry-now']);
    expect(errorAttributes(SERVER_ERROR_MAP, Status.AUTH_ERROR)).to.include('auth');
    expect(errorAttributes(SERVER_ERROR_MAP, 0xfff0)).to.deep.equal([]);
  });

  it('round-trips through JSON and parseErrorMap', () => {
    const text = serializeErrorMap(SERVER_ERROR_MAP, 2);
    expect(parseErrorMap(Buffer.from(text))).to.deep.equal(SERVER_ERROR_MAP);
  });

  it('downgrades to version 1 (no retry objects) for a client that asks for 1', () => {
    const v1 = parseErrorMap(serializeErrorMap(SERVER_ERROR_MAP, 1));
    expect(v1.version).to.equal(1);
    for (const e of Object.values(v1.errors)) expect(e).to.not.have.property('retry');
    expect(Object.keys(v1.errors)).to.deep.equal(Object.keys(SERVER_ERROR_MAP.errors));
    expect(() => serializeErrorMap(SERVER_ERROR_MAP, 0)).to.throw(RangeError);
  });

  it('parses a minimal map and rejects maps missing what clients require', () => {
    expect(parseErrorMap('{"version":1,"revision":1,"errors":{}}').errors).to.deep.equal({});
    for (const bad of [
      'not json',
      '{"revision":1,"errors":{}}',
      '{"version":1,"errors":{}}',
      '{"version":1,"revision":1}',
      '{"version":1,"revision":1,"errors":{"zz":{"name":"x","desc":"y","attrs":[]}}}',
      '{"version":1,"revision":1,"errors":{"1":{"name":"x","attrs":[]}}}',
      '{"version":1,"revision":1,"errors":{"1":{"name":"x","desc":"y"}}}',
      '{"version":1,"revision":1,"errors":{"1":{"name":"x","desc":"y","attrs":[1]}}}',
    ]) {
      expect(reasonOf(() => parseErrorMap(bad)), bad).to.equal('bad_error_map');
    }
  });
});
