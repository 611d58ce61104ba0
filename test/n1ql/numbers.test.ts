// Numbers as Couchbase Server 7.6 writes and computes them: int64 exact to 19 digits, float64
// written in Go's strconv 'f' form (never an exponent), NaN and infinities as strings. The docs
// are silent on the text form; the query engine's value/float.go and value/integer.go are the
// reference (FormatFloat(f, 'f', -1, 64); int64 arithmetic that turns float on overflow).
import { expect } from 'chai';
import { DocumentStore } from '../../lib/server/store';
import { formatFloat, jsonText, parseJson } from '../../lib/server/n1ql/json';
import { Engine, startHttp } from './harness';

describe('n1ql numbers as the server writes them', () => {
  it('formats floats as Go does, never with an exponent', () => {
    expect(formatFloat(1.2246467991473515e-16)).to.equal('0.00000000000000012246467991473515');
    expect(formatFloat(1e21)).to.equal('1000000000000000000000');
    expect(formatFloat(-1.5e-7)).to.equal('-0.00000015');
    expect(formatFloat(6.02214076e23)).to.equal('602214076000000000000000');
    expect(formatFloat(0.5)).to.equal('0.5');
    expect(formatFloat(-0)).to.equal('0');
    expect(jsonText({ a: [1e-7, 'x1e+5'], b: 2 })).to.equal('{"a":[0.0000001,"x1e+5"],"b":2}');
  });

  it('reads integers beyond 2^53 exactly, and everything else as JSON.parse does', () => {
    expect(parseJson('{"a": 9223372036854775807, "b": 12345678901234567890, "c": 1.5, "d": [9007199254740993]}')).to.deep.equal({
      a: 9223372036854775807n,
      b: 12345678901234567890, // beyond int64: a float, as Go reads it
      c: 1.5,
      d: [9007199254740993n],
    });
    expect(parseJson('{"k": 1, "k": 2}')).to.deep.equal({ k: 2 });
  });

  describe('over HTTP', () => {
    let svc: Awaited<ReturnType<typeof startHttp>>;
    const store = new DocumentStore({ name: 'b', numVBuckets: 16 });
    before(async () => {
      svc = await startHttp([store]);
      await svc.request({ statement: 'CREATE PRIMARY INDEX ON b' });
    });
    after(() => svc.close());

    it('writes SIN(PI()) and 1e21 in Go form', async () => {
      const r = await svc.request({ statement: 'SELECT RAW [SIN(PI()), 1e21, 1e300 * 10, 0.1 + 0.2]' });
      expect(r.body).to.contain('[0.00000000000000012246467991473515,1000000000000000000000,1' + '0'.repeat(301) + ',0.30000000000000004]');
    });

    it('keeps int64 literals, arithmetic and parameters exact', async () => {
      const r = await svc.request({ statement: 'SELECT RAW [9223372036854775807, 9007199254740993 + 0, 9007199254740992 + 1, 9223372036854775807 + 1, -9223372036854775807 - 1]' });
      // int64 overflow turns float (Go's intValue.Add): 9223372036854775807 + 1 is the float 2^63, written
      // with its shortest digits padded with zeros ('f', -1).
      expect(r.body).to.contain('[9223372036854775807,9007199254740993,9007199254740993,9223372036854776000,-9223372036854775808]');
      const raw = await svc.request(undefined, { raw: '{"statement": "SELECT RAW [$big, $big - 1, TOSTRING($big)]", "$big": 9223372036854775806}' });
      expect(raw.body).to.contain('[9223372036854775806,9223372036854775805,"9223372036854775806"]');
    });

    it('stores and returns a document integer beyond 2^53 unchanged', async () => {
      await svc.request(undefined, { raw: '{"statement": "UPSERT INTO b (KEY, VALUE) VALUES (\\"n1\\", {\\"id\\": 1234567890123456789, \\"f\\": 0.0000001})"}' });
      expect(store.get('n1')!.value.toString()).to.equal('{"f":0.0000001,"id":1234567890123456789}');
      const r = await svc.request({ statement: 'SELECT RAW [id, id + 1, TOSTRING(id), TONUMBER("1234567890123456789") = id, f] FROM b USE KEYS "n1"' });
      expect(r.body).to.contain('[[1234567890123456789,1234567890123456790,"1234567890123456789",true,0.0000001]]');
    });

    it('gives META().cas exactly, so a CAS read by one statement matches in the next', async () => {
      await svc.request({ statement: 'UPSERT INTO b VALUES ("c1", {"v": 1})' });
      const cas = store.get('c1')!.cas;
      const r = await svc.request({ statement: 'SELECT RAW META().cas FROM b USE KEYS "c1"' });
      expect(r.body).to.contain(`[${cas}]`);
      const upd = await svc.request(undefined, { raw: `{"statement": "UPDATE b USE KEYS 'c1' SET v = 2 WHERE META().cas = $cas", "$cas": ${cas}}` });
      expect(upd.json.metrics.mutationCount).to.equal(1);
    });
  });

  it('computes bitwise functions on the full 64 bits (Bitwise Functions reference)', () => {
    const e = new Engine();
    const [row] = e.rows('SELECT RAW [BITAND(9223372036854775807, -1), BITOR(4611686018427387904, 1), BITNOT(0), BITSHIFT(1, 62)]');
    expect(row).to.deep.equal([9223372036854775807n, 4611686018427387905n, -1, 4611686018427387904n]);
  });
});
