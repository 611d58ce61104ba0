import { expect } from 'chai';
import { ClusterConfig, type ConfigHost } from '../../lib/engine/config';
import { parseConnstr } from '../../lib/engine/connstr';
import type { Topology } from '../../lib/engine/topology';
import { KetamaContinuum } from '../../lib/protocol/ketama';
import { vbucketOf } from '../../lib/protocol/vbucket';
import {
  CONFIG_65_SINGLE_NODE,
  CONFIG_70_KUBERNETES,
  CONFIG_72_DOCKER,
  CONFIG_72_TLS_ONLY,
  CONFIG_76_COLLECTIONS,
  CONFIG_76_MEMCACHED,
  CONFIG_LEGACY,
  K8S,
  MEMCACHED_NODES,
} from './fixtures/server-configs';

/** Reads `text` as served by `source` the way the engine does, for a client with `connstr`. */
function read(text: string, source: string, connstr = 'couchbase://seed/b'): Topology {
  const host = { spec: parseConnstr(connstr), topology: null } as unknown as ConfigHost;
  const topo = new ClusterConfig(host).parse(text, source);
  expect(topo, 'config parsed').to.not.equal(null);
  return topo!;
}

const addr = (t: Topology): string[] => t.servers.map((s) => `${s.host}:${s.port}`);

describe('engine topology: configs as real servers send them', () => {
  describe('6.5, single node in Docker (no hostname, $HOST)', () => {
    it('puts the node at the host the config came from, for KV and every HTTP service', () => {
      const t = read(CONFIG_65_SINGLE_NODE, '192.168.99.5');
      expect(addr(t)).to.deep.equal(['192.168.99.5:11210']);
      expect(t.servers[0].id).to.equal('192.168.99.5:11210');
      expect(t.nodesWith('n1ql', false)).to.deep.equal([{ host: '192.168.99.5', port: 8093 }]);
      expect(t.nodesWith('capi', false)).to.deep.equal([{ host: '192.168.99.5', port: 8092 }]);
      expect(t.nodesWith('mgmt', false)).to.deep.equal([{ host: '192.168.99.5', port: 8091 }]);
      expect(t.numReplicas).to.equal(1);
      expect(t.serverOf(3, 1)).to.equal(-1);
      expect([...t.dataServers]).to.deep.equal([0]);
    });

    it('takes the TLS ports of the same nodesExt entry with couchbases://', () => {
      const t = read(CONFIG_65_SINGLE_NODE, 'db.local', 'couchbases://db.local/b');
      expect(addr(t)).to.deep.equal(['db.local:11207']);
      expect(t.servers[0].id).to.equal('db.local:11210');
      expect(t.nodesWith('n1ql', true)).to.deep.equal([{ host: 'db.local', port: 18093 }]);
    });
  });

  describe('7.0, Kubernetes with alternate addresses', () => {
    it('uses the internal addresses when the seed is an internal name (network=auto)', () => {
      const t = read(CONFIG_70_KUBERNETES, K8S.nodes[1], `couchbase://${K8S.nodes[1]}/default`);
      expect(t.network).to.equal('default');
      expect(addr(t)).to.deep.equal(K8S.nodes.map((h) => `${h}:11210`));
    });

    it('picks network "external" when the seed is an alternate address, with its ports', () => {
      const t = read(CONFIG_70_KUBERNETES, K8S.external[1], `couchbase://${K8S.external[1]}:30103/default`);
      expect(t.network).to.equal('external');
      expect(addr(t)).to.deep.equal(['203.0.113.10:30093', '203.0.113.11:30103', '203.0.113.12:30113']);
      // Identity stays the internal name: a newer config from another node keeps the connections.
      expect(t.servers.map((s) => s.id)).to.deep.equal(K8S.nodes.map((h) => `${h}:11210`));
      expect(t.servers[0].named).to.equal(`${K8S.nodes[0]}:11210`);
      expect(t.nodesWith('n1ql', false)).to.deep.equal([
        { host: '203.0.113.10', port: 30095 },
        { host: '203.0.113.11', port: 30105 },
        { host: '203.0.113.12', port: 30115 },
      ]);
      // An alternate address without a port for a service falls back to the service's own port.
      expect(t.nodesWith('capi', false)).to.deep.equal(K8S.external.map((h) => ({ host: h, port: 8092 })));
      const tls = read(CONFIG_70_KUBERNETES, K8S.external[0], `couchbases://${K8S.external[0]}/default`);
      expect(addr(tls)).to.deep.equal(['203.0.113.10:30094', '203.0.113.11:30104', '203.0.113.12:30114']);
    });

    it('follows network=default or network=external as given, whatever the seed', () => {
      expect(addr(read(CONFIG_70_KUBERNETES, K8S.external[0], `couchbase://${K8S.external[0]}/default?network=default`))[0]).to.equal(`${K8S.nodes[0]}:11210`);
      expect(addr(read(CONFIG_70_KUBERNETES, K8S.nodes[0], `couchbase://${K8S.nodes[0]}/default?network=external`))[0]).to.equal('203.0.113.10:30093');
      // A network the nodes have no address on: their own addresses.
      expect(addr(read(CONFIG_70_KUBERNETES, K8S.nodes[0], 'couchbase://x/default?network=vpn'))[0]).to.equal(`${K8S.nodes[0]}:11210`);
    });

    it('routes keys by the vBucket map like any other config', () => {
      const t = read(CONFIG_70_KUBERNETES, K8S.nodes[0]);
      const vb = vbucketOf('user::1', 8);
      expect(t.vbucketOf('user::1')).to.equal(vb);
      expect(t.serverOf(vb, 0)).to.equal(vb % 3);
      expect(t.serverOf(vb, 1)).to.equal((vb + 1) % 3);
    });
  });

  describe('7.2', () => {
    it('routes every vBucket of a TLS-only config (servers listed as host:0) to its own node', () => {
      const t = read(CONFIG_72_TLS_ONLY, '10.0.0.21', 'couchbases://10.0.0.21/secure');
      expect(addr(t)).to.deep.equal(['10.0.0.21:11207', '10.0.0.22:11207']);
      expect(new Set(t.servers.map((s) => s.id)).size).to.equal(2);
      for (let vb = 0; vb < 8; vb++) expect(t.servers[t.serverOf(vb, 0)].host).to.equal(vb % 2 === 0 ? '10.0.0.21' : '10.0.0.22');
      expect(t.nodesWith('n1ql', true)).to.have.length(2);
      expect(t.nodesWith('n1ql', false)).to.have.length(0);
      // Without TLS this config gives the client nothing to dial.
      expect(read(CONFIG_72_TLS_ONLY, '10.0.0.21').servers.map((s) => s.port)).to.deep.equal([0, 0]);
    });

    it('matches TLS ports by host and plain port, not by position, when nodesExt is in another order', () => {
      const cfg = JSON.parse(CONFIG_72_DOCKER);
      cfg.nodesExt.reverse();
      cfg.nodesExt[0].services.kvSSL = 21207;
      const t = read(JSON.stringify(cfg), '172.17.0.2', 'couchbases://172.17.0.2/default');
      expect(addr(t)).to.deep.equal(['172.17.0.2:11207', '172.17.0.3:21207']);
    });

    it('keeps the names a Docker network gives its nodes: connect() reports them when unreachable', () => {
      const t = read(CONFIG_72_DOCKER, '127.0.0.1');
      expect(t.servers.map((s) => s.named)).to.deep.equal(['172.17.0.2:11210', '172.17.0.3:11210']);
      expect(t.network).to.equal('default');
    });
  });

  describe('7.6', () => {
    it('puts memcached-bucket keys on the ketama continuum of the data nodes (not the query node)', () => {
      const t = read(CONFIG_76_MEMCACHED, MEMCACHED_NODES[0]);
      expect(t.ketama).to.not.equal(null);
      expect(t.numVBuckets).to.equal(0);
      expect(t.hasVBucketMap).to.equal(true);
      expect(addr(t)).to.deep.equal(MEMCACHED_NODES.map((h) => `${h}:11210`));
      expect([...t.dataServers]).to.deep.equal([0, 1, 2]);
      const reference = new KetamaContinuum(MEMCACHED_NODES.map((h) => `${h}:11210`));
      for (let i = 0; i < 200; i++) expect(t.ketamaServerOf(`session::${i}`)).to.equal(reference.serverOf(`session::${i}`));
      expect(t.serverOf(0, 0)).to.equal(-1);
    });

    it('builds the continuum from the plain KV authority even over TLS, so every SDK agrees', () => {
      const plain = read(CONFIG_76_MEMCACHED, MEMCACHED_NODES[0]);
      const tls = read(CONFIG_76_MEMCACHED, MEMCACHED_NODES[0], 'couchbases://x/sessions');
      expect(addr(tls)).to.deep.equal(MEMCACHED_NODES.map((h) => `${h}:11207`));
      for (let i = 0; i < 100; i++) expect(tls.ketamaServerOf(`k${i}`)).to.equal(plain.ketamaServerOf(`k${i}`));
    });

    it('keeps only the bucket\'s servers when nodesExt lists more nodes than nodes[]', () => {
      const cfg = JSON.parse(CONFIG_76_MEMCACHED);
      cfg.nodes.pop();
      const t = read(JSON.stringify(cfg), MEMCACHED_NODES[0]);
      expect(addr(t)).to.deep.equal(MEMCACHED_NODES.slice(0, 2).map((h) => `${h}:11210`));
    });

    it('reads a collections-enabled config mid-rebalance and ignores what it does not know', () => {
      const t = read(CONFIG_76_COLLECTIONS, '10.0.2.2');
      expect(t.rev).to.equal(10233);
      expect(t.epoch).to.equal(3);
      expect(addr(t)).to.deep.equal(['10.0.2.1:11210', '10.0.2.2:11210']);
      expect(t.nodesWith('n1ql', false)).to.deep.equal([{ host: '10.0.2.3', port: 8093 }]);
      expect(t.serverOf(5, 0)).to.equal(1);
    });
  });

  describe('old and odd configs', () => {
    it('reads a 2.x config without nodesExt and without rev (revision 0)', () => {
      const t = read(CONFIG_LEGACY, '192.168.0.5');
      expect(t.rev).to.equal(0);
      expect(addr(t)).to.deep.equal(['192.168.0.5:11210']);
      expect(t.nodesWith('capi', false)).to.deep.equal([{ host: '192.168.0.5', port: 8092 }]);
      expect(read(CONFIG_76_COLLECTIONS, '10.0.2.2').isNewerThan(t)).to.equal(true);
    });

    it('gives a malformed config back as null (logged), never a throw', () => {
      const host = { spec: parseConnstr('couchbase://h'), topology: null } as unknown as ConfigHost;
      const cc = new ClusterConfig(host);
      for (const junk of ['', '{', 'null', '[1]', '{"rev":"x"}', '{"rev":1,"nodesExt":[{"services":null}]}', '{"rev":1,"name":"b","nodesExt":[],"vBucketServerMap":{"serverList":["h:1"],"vBucketMap":[[7]]}}']) {
        expect(cc.parse(junk, 'h'), junk).to.equal(null);
      }
    });
  });
});
