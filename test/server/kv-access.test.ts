// Who may do what on a KV connection, before RBAC: an unauthenticated connection may only say
// HELLO, authenticate (SASL) and read the error map; everything else, STAT included, is EACCESS.
// An authenticated connection without a selected bucket reaches no bucket with any opcode.
import { expect } from 'chai';
import { Cluster } from '../../lib/server';
import { HelloFeature, Opcode, Status, encodePlain, type Packet } from '../../lib/protocol';
import { RawClient } from './raw-client';

const BEFORE_AUTH = new Set<number>([Opcode.HELLO, Opcode.SASL_LIST_MECHS, Opcode.SASL_AUTH, Opcode.SASL_STEP, Opcode.GET_ERROR_MAP]);

/** Extras a request of each opcode could carry, so that a handler would get as far as the bucket. */
const EXTRAS: Partial<Record<number, number>> = {
  [Opcode.SET]: 8, [Opcode.ADD]: 8, [Opcode.REPLACE]: 8, [Opcode.SETQ]: 8, [Opcode.ADDQ]: 8, [Opcode.REPLACEQ]: 8,
  [Opcode.INCREMENT]: 20, [Opcode.DECREMENT]: 20, [Opcode.INCREMENTQ]: 20, [Opcode.DECREMENTQ]: 20,
  [Opcode.TOUCH]: 4, [Opcode.GAT]: 4, [Opcode.GATQ]: 4, [Opcode.GET_LOCKED]: 4, [Opcode.FLUSH]: 4, [Opcode.FLUSHQ]: 4,
};

/** One request of `opcode` naming the document `victim`, that would read or change it if it ran. */
function requestFor(c: RawClient, opcode: number): Buffer {
  const extras = Buffer.alloc(EXTRAS[opcode] ?? 0);
  let value: Buffer | string = '{"changed":true}';
  if (opcode === Opcode.OBSERVE) {
    value = Buffer.alloc(4 + 6);
    value.writeUInt16BE(c.vb('victim'), 0);
    value.writeUInt16BE(6, 2);
    value.write('victim', 4);
  } else if (opcode === Opcode.SUBDOC_MULTI_LOOKUP) {
    value = Buffer.from([Opcode.GET, 0, 0, 0]);
  } else if (opcode === Opcode.SUBDOC_MULTI_MUTATION) {
    value = Buffer.concat([Buffer.from([Opcode.SET, 0, 0, 0, 0, 0, 0, 2]), Buffer.from('{}')]);
  } else if (opcode === Opcode.GET_ERROR_MAP) {
    value = Buffer.from([0, 2]);
  } else if (opcode === Opcode.OBSERVE_SEQNO) {
    value = Buffer.alloc(8);
  }
  return c.frame({ opcode, key: opcode === Opcode.SASL_AUTH || opcode === Opcode.SASL_STEP ? 'PLAIN' : 'victim', extras, value, vbucket: c.vb('victim') });
}

describe('server KV: authentication and bucket selection gate every opcode', function () {
  this.timeout(20_000);
  let cluster: Cluster;
  let port: number;
  const clients: RawClient[] = [];

  before(async () => {
    cluster = await Cluster.start({ queryService: null, viewsService: null });
    port = cluster.nodes[0].ports.kv;
  });

  beforeEach(() => {
    cluster.bucket('default').write('victim', Buffer.from('{"original":true}'), 'upsert');
  });

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  after(async () => {
    await cluster.stop();
  });

  async function connect(): Promise<RawClient> {
    const c = await RawClient.connect(port);
    clients.push(c);
    return c;
  }

  /** Sends every opcode but QUIT and `skip`, one at a time; returns each one's first answer (quiet ones may have none). */
  async function firstAnswers(c: RawClient, skip: ReadonlySet<number>): Promise<Map<number, Packet>> {
    const out = new Map<number, Packet>();
    for (let opcode = 0; opcode < 256; opcode++) {
      if (skip.has(opcode) || opcode === Opcode.QUIT || opcode === Opcode.QUITQ) continue;
      // A HELLO after each request marks where its answers end.
      const marker = 0x7f000000 + opcode;
      c.write(Buffer.concat([requestFor(c, opcode), c.frame({ opcode: Opcode.HELLO, key: 'probe', opaque: marker })]));
      for (;;) {
        const [p] = await c.take(1);
        if (p.opaque === marker) break;
        if (!out.has(opcode)) out.set(opcode, p);
      }
    }
    return out;
  }

  it('before authentication, every opcode but HELLO, SASL and GET_ERROR_MAP is EACCESS and does nothing', async () => {
    const c = await connect();
    const answers = await firstAnswers(c, BEFORE_AUTH);
    for (let opcode = 0; opcode < 256; opcode++) {
      if (BEFORE_AUTH.has(opcode) || opcode === Opcode.QUIT || opcode === Opcode.QUITQ) continue;
      expect(answers.get(opcode)?.status, `opcode 0x${opcode.toString(16)}`).to.equal(Status.EACCESS);
      expect(answers.get(opcode)?.value.length, `opcode 0x${opcode.toString(16)} answers nothing else`).to.equal(0);
    }
    expect(cluster.bucket('default').get('victim')!.value.toString()).to.equal('{"original":true}');
    // QUIT too: the connection stays open and says EACCESS
    expect((await c.request({ opcode: Opcode.QUIT })).status).to.equal(Status.EACCESS);
    expect((await c.request({ opcode: Opcode.STAT })).status).to.equal(Status.EACCESS);
  });

  it('before authentication, HELLO, SASL_LIST_MECHS, GET_ERROR_MAP and SASL work, and then the rest does', async () => {
    const c = await connect();
    expect(await c.hello([HelloFeature.XERROR])).to.deep.equal([HelloFeature.XERROR]);
    expect((await c.request({ opcode: Opcode.SASL_LIST_MECHS })).value.toString()).to.contain('PLAIN');
    expect((await c.request({ opcode: Opcode.GET_ERROR_MAP, value: Buffer.from([0, 2]) })).status).to.equal(Status.SUCCESS);
    expect((await c.request({ opcode: Opcode.SASL_AUTH, key: 'PLAIN', value: encodePlain('Administrator', 'wrong') })).status).to.equal(Status.AUTH_ERROR);
    expect((await c.request({ opcode: Opcode.STAT })).status).to.equal(Status.EACCESS);
    expect((await c.request({ opcode: Opcode.SASL_AUTH, key: 'PLAIN', value: encodePlain('Administrator', 'password') })).status).to.equal(Status.SUCCESS);
    const stats = await c.request({ opcode: Opcode.STAT });
    expect(stats.status).to.equal(Status.SUCCESS);
    expect(stats.key.toString()).to.equal('pid');
  });

  it('authenticated without a bucket, no opcode reads or changes a document', async () => {
    const c = await connect();
    await c.login('Administrator', 'password');
    const seqno = cluster.bucket('default').highSeqno;
    const skip = new Set<number>([Opcode.SELECT_BUCKET, Opcode.SASL_AUTH, Opcode.SASL_STEP]);
    const answers = await firstAnswers(c, skip);
    // these answer without a bucket, about the connection or the node
    const allowed = new Set<number>([Opcode.HELLO, Opcode.SASL_LIST_MECHS, Opcode.GET_ERROR_MAP, Opcode.NOOP, Opcode.VERSION, Opcode.STAT, Opcode.GET_CLUSTER_CONFIG]);
    for (const [opcode, p] of answers) {
      if (allowed.has(opcode)) continue;
      expect(p.status, `opcode 0x${opcode.toString(16)}`).to.not.equal(Status.SUCCESS);
      expect(p.value.toString(), `opcode 0x${opcode.toString(16)}`).to.not.contain('original');
    }
    for (const opcode of [Opcode.GET, Opcode.SET, Opcode.DELETE, Opcode.GET_META, Opcode.OBSERVE, Opcode.SUBDOC_MULTI_LOOKUP, Opcode.GET_COLLECTIONS_MANIFEST]) {
      expect(answers.get(opcode)?.status, `opcode 0x${opcode.toString(16)}`).to.equal(Status.NO_BUCKET);
    }
    expect(cluster.bucket('default').highSeqno).to.equal(seqno);
    expect(cluster.bucket('default').get('victim')!.value.toString()).to.equal('{"original":true}');
    // the general stats say nothing about a bucket
    const stat = await c.request({ opcode: Opcode.STAT });
    expect(stat.status).to.equal(Status.SUCCESS);
  });
});
