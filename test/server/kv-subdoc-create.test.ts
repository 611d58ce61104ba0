// A sub-document mutation that creates its document (MKDOC / ADD) gives it the root its first
// path needs, as subjson does: an array for an array push or add-unique on the root, or a path
// that starts with an index; an object otherwise (the official SDKs' list, set and queue
// structures create their documents this way).
import { expect } from 'chai';
import { Cluster } from '../../lib/server';
import { HelloFeature, Opcode, Status, SubdocDocFlag } from '../../lib/protocol';
import { RawClient } from './raw-client';

const USER = { username: 'alice', password: 'secret-pw' };

/** One multi-mutation spec: opcode, path flags, path, value. */
function spec(op: number, path: string, value: string, flags = 0): Buffer {
  const head = Buffer.alloc(8);
  head[0] = op;
  head[1] = flags;
  head.writeUInt16BE(Buffer.byteLength(path), 2);
  head.writeUInt32BE(Buffer.byteLength(value), 4);
  return Buffer.concat([head, Buffer.from(path), Buffer.from(value)]);
}

describe('server KV: documents created by a sub-document mutation', () => {
  let cluster: Cluster;
  let c: RawClient;

  before(async () => {
    cluster = await Cluster.start({ users: [USER], queryService: null, viewsService: null });
    c = await RawClient.connect(cluster.nodes[0].ports.kv);
    await c.hello([HelloFeature.JSON, HelloFeature.XERROR]);
    await c.login(USER.username, USER.password, 'default');
  });
  after(async () => {
    c.close();
    await cluster.stop();
  });

  const cases: Array<[string, Buffer, unknown]> = [
    ['array push last on the root', spec(Opcode.SUBDOC_ARRAY_PUSH_LAST, '', '1'), [1]],
    ['array push first on the root', spec(Opcode.SUBDOC_ARRAY_PUSH_FIRST, '', '"a","b"'), ['a', 'b']],
    ['array add-unique on the root', spec(Opcode.SUBDOC_ARRAY_ADD_UNIQUE, '', '7'), [7]],
    ['array insert at an index path', spec(Opcode.SUBDOC_ARRAY_INSERT, '[0]', '"x"'), ['x']],
    ['a dictionary upsert', spec(Opcode.SUBDOC_DICT_UPSERT, 'k', '1'), { k: 1 }],
    ['an array push below the root', spec(Opcode.SUBDOC_ARRAY_PUSH_LAST, 'list', '1', 0x01), { list: [1] }],
  ];
  for (const [what, body, expected] of cases) {
    for (const [flag, name] of [[SubdocDocFlag.MKDOC, 'MKDOC'], [SubdocDocFlag.ADD, 'ADD']] as const) {
      it(`${name} with ${what} creates ${JSON.stringify(expected)}`, async () => {
        const key = `created-${name}-${what}`;
        const res = await c.request({ opcode: Opcode.SUBDOC_MULTI_MUTATION, key, vbucket: c.vb(key), extras: Buffer.from([flag]), value: body });
        expect(res.status).to.equal(Status.SUCCESS);
        expect(JSON.parse(cluster.bucket('default').get(key)!.value.toString())).to.deep.equal(expected);
      });
    }
  }

  it('an array push on the root of an existing object is still a path mismatch', async () => {
    cluster.bucket('default').write('an-object', Buffer.from('{}'), 'upsert');
    const res = await c.request({ opcode: Opcode.SUBDOC_MULTI_MUTATION, key: 'an-object', vbucket: c.vb('an-object'), extras: Buffer.from([SubdocDocFlag.MKDOC]), value: spec(Opcode.SUBDOC_ARRAY_PUSH_LAST, '', '1') });
    expect(res.status).to.equal(Status.SUBDOC_MULTI_PATH_FAILURE);
    expect(res.value.readUInt16BE(1)).to.equal(Status.SUBDOC_PATH_MISMATCH);
  });
});
