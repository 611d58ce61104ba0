// The query_context request parameter: the forms the SDKs send (the .NET SDK sends the bare
// namespace "default:" for cluster-level queries), and malformed paths refused with 1065.
import { expect } from 'chai';
import { parseQueryContext } from '../../lib/server/n1ql/keyspace';
import { DocumentStore } from '../../lib/server/store';
import { startHttp } from './harness';

describe('n1ql query_context', () => {
  it('parses a bucket, a bucket and scope, back-quoted or not, with or without the namespace', () => {
    expect(parseQueryContext('default:`travel-sample`.`inventory`')).to.deep.equal({ bucket: 'travel-sample', scope: 'inventory' });
    expect(parseQueryContext('`b`.s')).to.deep.equal({ bucket: 'b', scope: 's' });
    expect(parseQueryContext('default:b')).to.deep.equal({ bucket: 'b', scope: undefined });
    expect(parseQueryContext('b')).to.deep.equal({ bucket: 'b', scope: undefined });
    expect(parseQueryContext('default:`a``b`')).to.deep.equal({ bucket: 'a`b', scope: undefined });
    expect(parseQueryContext('default:')).to.equal(null);
  });

  it('refuses text after a back-quoted part without a dot, a third part, and an empty path', () => {
    for (const bad of ['default:`a`b', '`a`.`b`c', 'a.b.c', '', 'default:a..b', 'default:`unclosed']) {
      expect(parseQueryContext(bad), bad).to.equal(undefined);
    }
  });

  it('runs a cluster-level statement under "default:" and refuses a malformed context with 1065', async () => {
    const store = new DocumentStore({ name: 'b', numVBuckets: 16 });
    store.write('k', Buffer.from('{"v":1}'), 'upsert');
    const svc = await startHttp([store]);
    try {
      const ok = await svc.request({ statement: 'SELECT RAW v FROM b USE KEYS "k"', query_context: 'default:' });
      expect(ok.json.status).to.equal('success');
      expect(ok.json.results).to.deep.equal([1]);
      const bad = await svc.request({ statement: 'SELECT 1', query_context: 'default:`b`x' });
      expect(bad.json.errors[0].code).to.equal(1065);
    } finally {
      await svc.close();
    }
  });
});
