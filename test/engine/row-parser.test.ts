import { expect } from 'chai';
import { RowStreamParser, RowParseError } from '../../lib/engine/services/row-parser';

function feed(text: string, splits: number[], key = 'results'): { batches: unknown[][]; meta: Record<string, unknown> } {
  const buf = Buffer.from(text, 'utf8');
  const batches: unknown[][] = [];
  const p = new RowStreamParser(key, (rows) => batches.push(rows));
  let at = 0;
  for (const s of [...splits, buf.length]) {
    p.push(buf.subarray(at, s));
    at = s;
  }
  return { batches, meta: p.finish() };
}

const BODY = JSON.stringify({
  requestID: 'r-1',
  signature: { '*': '*' },
  results: [{ a: 1, s: 'x,]}"\\' }, [1, [2]], 'str"ing', 42, null, true, { nested: { deep: ['é', '€'] } }],
  status: 'success',
  metrics: { resultCount: 7, elapsedTime: '1ms' },
});
const ROWS = JSON.parse(BODY).results;

describe('engine streaming row parser', () => {
  it('pulls rows out of "results" and keeps every other field as meta', () => {
    const { batches, meta } = feed(BODY, []);
    expect(batches).to.have.length(1);
    expect(batches[0]).to.deep.equal(ROWS);
    expect(meta).to.deep.equal({ requestID: 'r-1', signature: { '*': '*' }, status: 'success', metrics: { resultCount: 7, elapsedTime: '1ms' } });
  });

  it('gives the same rows for every way the body can be cut into chunks', () => {
    const len = Buffer.byteLength(BODY);
    for (let a = 1; a < len; a += 3) {
      for (const b of [a + 1, a + 7, a + 40]) {
        if (b >= len) continue;
        const { batches, meta } = feed(BODY, [a, b]);
        expect(batches.flat(), `split at ${a},${b}`).to.deep.equal(ROWS);
        expect(meta.status).to.equal('success');
      }
    }
  });

  it('survives one byte at a time, multi-byte characters included', () => {
    const len = Buffer.byteLength(BODY);
    const { batches } = feed(BODY, Array.from({ length: len - 1 }, (_, i) => i + 1));
    expect(batches.flat()).to.deep.equal(ROWS);
  });

  it('hands rows over in batches as chunks arrive', () => {
    const rows = Array.from({ length: 100 }, (_, i) => ({ i }));
    const text = JSON.stringify({ total_rows: 100, rows });
    const { batches, meta } = feed(text, [200, 400, 600], 'rows');
    expect(batches.length).to.be.greaterThan(2);
    expect(batches.flat()).to.deep.equal(rows);
    expect(meta).to.deep.equal({ total_rows: 100 });
  });

  it('handles an empty result array, whitespace and pretty-printed bodies', () => {
    expect(feed('{"results": [ ], "status":"success"}', [5]).batches).to.deep.equal([]);
    const pretty = JSON.stringify({ results: [{ a: 1 }, 2], status: 'success' }, null, 4);
    expect(feed(pretty, [10, 20]).batches.flat()).to.deep.equal([{ a: 1 }, 2]);
  });

  it('reports a body cut off in the middle of a row', () => {
    const p = new RowStreamParser('results', () => {});
    p.push(Buffer.from('{"results":[{"a":1},{"b":'));
    expect(() => p.finish()).to.throw(RowParseError, /middle of row 2/);
  });

  it('rejects bodies that are not a JSON object', () => {
    const p = new RowStreamParser('results', () => {});
    expect(() => p.push(Buffer.from('<html>'))).to.throw(RowParseError);
  });
});
