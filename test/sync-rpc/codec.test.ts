// The blocking channel's codec: what crosses the thread boundary comes back as what it was.
import { expect } from 'chai';
import { ClassRegistry, Decoder, Encoder, JsonText } from '../../lib/sync-rpc/codec';
import { MultiResult, NotFoundError, N1QLError, N1QLQuery, ValueResult, OperationResult } from '../../lib/index';
import * as shared from '../../lib/index';

const registry = new ClassRegistry().addExports(shared as unknown as Record<string, unknown>);
const roundTrip = (v: unknown, captureStack?: (e: Error) => void): any =>
  new Decoder(registry, { captureStack }).decode(Buffer.from(new Encoder(registry, 16).write(v).bytes()));

describe('blocking channel codec', function () {
  it('round-trips JSON-like values, bigints beyond 2^53, negative and fractional numbers, dates', function () {
    const v = { a: [1, -2, 3.5, -0.25, 2 ** 40], s: 'héllo ✓', t: true, f: false, n: null, cas: 0xfedcba9876543210n, neg: -5n, d: new Date(1700000000000) };
    expect(roundTrip(v)).to.deep.equal(v);
  });

  it('one encoder/decoder pair gives the same values on every repeat, through the string cache and compiled shapes', function () {
    // Repeats cross the cache and shape-compilation thresholds; strings of equal length that may
    // share a cache slot, non-ASCII, empty and long strings must never be confused.
    const enc = new Encoder(registry, 64);
    const dec = new Decoder(registry);
    const words = Array.from({ length: 600 }, (_, i) => `k${i}`).concat(['', 'é', 'ab', 'ba', 'x'.repeat(65), 'naïve']);
    for (let round = 0; round < 6; round++) {
      for (const w of words) {
        const v = { key: w, n: round, nested: { [w || 'empty']: w, list: [w, round] } };
        expect(dec.decode(Buffer.from(enc.reset().write(v).bytes()))).to.deep.equal(v);
      }
      const r = new ValueResult(`doc${round}`, { name: 'x', n: round }, BigInt(round) << 60n, 0x02000000);
      const back = dec.decode(Buffer.from(enc.reset().write(r).bytes())) as ValueResult;
      expect(back).to.be.instanceOf(ValueResult);
      expect(back).to.deep.equal(r);
    }
  });

  it('a "__proto__" field stays a field (as JSON.parse makes it) on every path, never a prototype', function () {
    const v = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
    const enc = new Encoder(registry);
    const dec = new Decoder(registry);
    for (let i = 0; i < 10; i++) {
      const out = dec.decode(Buffer.from(enc.reset().write(v).bytes())) as Record<string, unknown>;
      expect(Object.getPrototypeOf(out)).to.equal(Object.prototype);
      expect(Object.prototype.hasOwnProperty.call(out, '__proto__')).to.equal(true);
      expect((out as { polluted?: unknown }).polluted).to.equal(undefined);
      expect(JSON.stringify(out)).to.equal(JSON.stringify(v));
    }
  });

  it('an encoder over a shared area writes in place, and moves to its own buffer only for a message that outgrows it', function () {
    const area = Buffer.alloc(32);
    const enc = new Encoder(registry, area);
    enc.reset().write('short');
    expect(enc.buf).to.equal(area);
    enc.reset().write('x'.repeat(100));
    expect(enc.buf).to.not.equal(area);
    expect(new Decoder(registry).decode(enc.bytes())).to.equal('x'.repeat(100));
    enc.reset().write(7);
    expect(enc.buf).to.equal(area);
  });

  it('byte values come back as Buffers that do not alias the shared area', function () {
    const src = Buffer.from([1, 2, 3, 250]);
    const enc = new Encoder(registry).write({ b: src });
    const area = Buffer.from(enc.bytes());
    const out = new Decoder(registry).decode(area) as { b: Buffer };
    area.fill(0);
    expect(Buffer.isBuffer(out.b)).to.equal(true);
    expect([...out.b]).to.deep.equal([1, 2, 3, 250]);
  });

  it('result classes keep their prototype, so getters like success still work', function () {
    const r = roundTrip(new ValueResult('k', { x: 1 }, 77n, 0x02000000));
    expect(r).to.be.instanceOf(ValueResult);
    expect(r.success).to.equal(true);
    expect(r.cas).to.equal(77n);
  });

  it('a MultiResult (a Map subclass) keeps its class, entries and failed entries', function () {
    const m = new MultiResult<OperationResult>();
    m.set('a', new OperationResult('a', 1n));
    const failed = new OperationResult('b', 0n, 13);
    failed.error = new NotFoundError('gone', { key: 'b' });
    m.set('b', failed);
    const out = roundTrip(m);
    expect(out).to.be.instanceOf(MultiResult);
    expect(out.allOk).to.equal(false);
    expect(out.get('b').error).to.be.instanceOf(NotFoundError);
  });

  it('typed errors keep class, message and fields, and take the stack the receiver gives them', function () {
    const e = new N1QLError('syntax error', {});
    e.code = 3000;
    e.errors = [{ code: 3000, msg: 'syntax error' }];
    const out = roundTrip(e, (err) => Error.captureStackTrace(err));
    expect(out).to.be.instanceOf(N1QLError);
    expect(out.message).to.equal('syntax error');
    expect(out.code).to.equal(3000);
    expect(out.errors).to.deep.equal([{ code: 3000, msg: 'syntax error' }]);
    expect(out.stack).to.match(/^N1QLError: syntax error\n/);
    expect(out.stack).to.include('codec.test.js');
  });

  it('a N1QLQuery crosses with its statement and options', function () {
    const q = new N1QLQuery('SELECT $1', 5);
    q.adhoc = false;
    const out = roundTrip(q);
    expect(out).to.be.instanceOf(N1QLQuery);
    expect(out.statement).to.equal('SELECT $1');
    expect(out.positional).to.deep.equal([5]);
    expect(out.adhoc).to.equal(false);
  });

  it('JsonText is read back parsed, and unknown classes travel as their JSON form', function () {
    class Point {
      constructor(readonly x: number) {}
      toJSON() {
        return { px: this.x };
      }
    }
    expect(roundTrip([new JsonText('[{"a":1}]'), new Point(3)])).to.deep.equal([[{ a: 1 }], { px: 3 }]);
  });

  describe('shapes', function () {
    /** Encodes one message, commits it (it was "sent"), and returns a copy of its bytes. */
    const send = (enc: Encoder, v: unknown): Buffer => {
      const bytes = Buffer.from(enc.reset().write(v).bytes());
      enc.commit();
      return bytes;
    };

    it('an object names its fields the first time its shape crosses, then travels as a shape id and values', function () {
      const enc = new Encoder(registry);
      const dec = new Decoder(registry);
      const first = send(enc, new ValueResult('k1', { name: 'a', n: 1 }, 5n, 0x02000000));
      const second = send(enc, new ValueResult('k2', { name: 'b', n: 2 }, 6n, 0x02000000));
      expect(first.includes(Buffer.from('mutationToken'))).to.equal(true);
      expect(second.includes(Buffer.from('mutationToken'))).to.equal(false);
      expect(second.includes(Buffer.from('name'))).to.equal(false);
      expect(second.length).to.be.below(first.length / 2);
      const a = dec.decode(first) as ValueResult;
      const b = dec.decode(second) as ValueResult;
      expect(b).to.be.instanceOf(ValueResult);
      expect(b).to.deep.equal(new ValueResult('k2', { name: 'b', n: 2 }, 6n, 0x02000000));
      expect(a.value).to.deep.equal({ name: 'a', n: 1 });
    });

    it('a message whose encoding failed takes its new shapes back, so the decoder never meets an id it was not given', function () {
      const enc = new Encoder(registry);
      const dec = new Decoder(registry);
      dec.decode(send(enc, { known: 1 }));
      const poisoned = {
        fresh: 1,
        get boom(): number {
          throw new Error('getter failed');
        },
      };
      expect(() => enc.reset().write([{ other: 2 }, poisoned])).to.throw('getter failed');
      // That message was never sent: the next one must define `{other}` again.
      const next = send(enc, [{ other: 3 }, { known: 4 }]);
      expect(dec.decode(next)).to.deep.equal([{ other: 3 }, { known: 4 }]);
    });

    it('objects past the per-class shape limit fall back to named fields and still round-trip', function () {
      const enc = new Encoder(registry);
      const dec = new Decoder(registry);
      for (let i = 0; i < 200; i++) {
        const v = { [`field${i}`]: i, common: 'x' };
        expect(dec.decode(send(enc, v))).to.deep.equal(v);
      }
      const late = send(enc, { field199: 1, common: 'y' });
      expect(late.includes(Buffer.from('field199'))).to.equal(true);
      expect(dec.decode(late)).to.deep.equal({ field199: 1, common: 'y' });
    });

    it('a decoder that missed a shape definition says the two ends are out of step', function () {
      const enc = new Encoder(registry);
      send(enc, { a: 1 });
      const second = send(enc, { a: 2 });
      expect(() => new Decoder(registry).decode(second)).to.throw(/unknown shape 0 \(the two ends are out of step\)/);
    });
  });
});
