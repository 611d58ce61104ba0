// DATE_ADD_* and DATE_RANGE_* as Couchbase Server's query service computes them: 'month' and
// 'quarter' move the wall clock as Go's AddDate does (overflowing into the next month), ranges
// step from the previous element, 'calendar_month' keeps the day inside its month, and a range
// is sized before it is built. Expected values follow the rules of the Date Functions reference
// and of couchbase/query's own date test cases (MB-64562, MB-65072), worked out by hand.
import { expect } from 'chai';
import { Engine } from './harness';
import type { Value } from '../../lib/server/n1ql/value';

const e = new Engine();
const one = (expr: string): Value => {
  const o = e.run(`SELECT RAW ${expr}`);
  if (o.errors.length) throw new Error(`${expr}: ${JSON.stringify(o.errors)}`);
  return o.rows[0];
};
const error = (expr: string) => e.run(`SELECT RAW ${expr}`).errors[0];

describe('n1ql dates: calendar_month arithmetic', () => {
  it("keeps the day inside the month it lands in, where 'month' overflows", () => {
    expect(one("[DATE_ADD_STR('2023-01-31', 1, 'month'), DATE_ADD_STR('2023-01-31', 1, 'calendar_month')]")).to.deep.equal(['2023-03-03', '2023-02-28']);
    expect(one("DATE_ADD_STR('2024-03-31', -1, 'calendar_month')")).to.equal('2024-02-29');
    expect(one("DATE_ADD_STR('2023-08-17', 6, 'calendar_month')")).to.equal('2024-02-17');
    expect(one("DATE_ADD_STR('2023-10-31', -25, 'calendar_month')")).to.equal('2021-09-30');
  });

  it('keeps the last day of a month the last day of the target month', () => {
    expect(one("[DATE_ADD_STR('2023-06-30', 2, 'month'), DATE_ADD_STR('2023-06-30', 2, 'calendar_month')]")).to.deep.equal(['2023-08-30', '2023-08-31']);
    expect(one("DATE_ADD_STR('2023-02-28', 1, 'calendar_month')")).to.equal('2023-03-31');
    expect(one("DATE_ADD_STR('2024-02-29', -2, 'CALENDAR_MONTH')")).to.equal('2023-12-31');
  });

  it('keeps the time of day and the offset, and works on milliseconds too', () => {
    expect(one("DATE_ADD_STR('2023-01-31T22:30:00.5+05:30', 1, 'calendar_month')")).to.equal('2023-02-28T22:30:00.5+05:30');
    expect(one("DATE_ADD_MILLIS(STR_TO_MILLIS('2023-01-31T08:00:00Z'), 1, 'calendar_month') = STR_TO_MILLIS('2023-02-28T08:00:00Z')")).to.equal(true);
  });
});

describe('n1ql dates: DATE_RANGE_* stepping', () => {
  it("steps 'month' and 'quarter' from the previous element, drifting as AddDate overflows", () => {
    expect(one("DATE_RANGE_STR('2023-01-31', '2023-05-01', 'month')")).to.deep.equal(['2023-01-31', '2023-03-03', '2023-04-03']);
    expect(one("DATE_RANGE_STR('2022-11-30', '2023-09-01', 'quarter')")).to.deep.equal(['2022-11-30', '2023-03-02', '2023-06-02']);
    expect(one("DATE_RANGE_STR('2023-03-31', '2022-12-01', 'month', -1)")).to.deep.equal(['2023-03-31', '2023-03-03', '2023-02-03', '2023-01-03', '2022-12-03']);
  });

  it("steps 'calendar_month' from the start, so a clamped day does not stick", () => {
    expect(one("DATE_RANGE_STR('2024-01-30', '2024-05-01', 'calendar_month')")).to.deep.equal(['2024-01-30', '2024-02-29', '2024-03-30', '2024-04-30']);
    expect(one("DATE_RANGE_STR('2023-01-31', '2023-05-01', 'calendar_month')")).to.deep.equal(['2023-01-31', '2023-02-28', '2023-03-31', '2023-04-30']);
    expect(one("DATE_RANGE_STR('2023-03-31', '2022-12-01', 'calendar_month', -1)")).to.deep.equal(['2023-03-31', '2023-02-28', '2023-01-31', '2022-12-31']);
  });

  it('gives [start] for a step of 0 and [] for an empty or backward range', () => {
    expect(one("DATE_RANGE_STR('2023-01-02T10:00:00', '2023-05-02T10:00:00', 'calendar_month', 0)")).to.deep.equal(['2023-01-02T10:00:00']);
    expect(one('DATE_RANGE_MILLIS(5000, 9000, "second", 0)')).to.deep.equal([5000]);
    expect(one("DATE_RANGE_STR('2023-01-02', '2023-01-02', 'day')")).to.deep.equal([]);
    expect(one("DATE_RANGE_STR('2023-01-05', '2023-01-02', 'day')")).to.deep.equal([]);
  });
});

describe('n1ql dates: DATE_RANGE_* size limit', () => {
  it('fails with 5035 before building more than 2^20 elements', () => {
    for (const [expr, fn] of [
      ["DATE_RANGE_STR('1900-01-01', '9999-12-31', 'day')", 'DATE_RANGE_STR'],
      ['DATE_RANGE_MILLIS(0, 20000000000, "millisecond")', 'DATE_RANGE_MILLIS'],
      ["DATE_RANGE_STR('2024-12-10T00:00:00Z', '2025-01-04T00:00:00Z', 'millisecond')", 'DATE_RANGE_STR'],
    ]) {
      const started = Date.now();
      expect(error(expr), expr).to.deep.include({ code: 5035, msg: `Out of range evaluating ${fn}().` });
      // Sized first: the answer does not wait for billions of elements.
      expect(Date.now() - started, expr).to.be.below(1000);
    }
  });

  it('counts elements by the step, so a long span with a large step is allowed', () => {
    const r = one("DATE_RANGE_STR('2024-12-10T00:00:00Z', '2025-01-04T00:00:00Z', 'millisecond', 10000)") as string[];
    expect(r.length).to.equal(216000);
    expect(r.slice(0, 3)).to.deep.equal(['2024-12-10T00:00:00Z', '2024-12-10T00:00:10Z', '2024-12-10T00:00:20Z']);
    expect((one('DATE_RANGE_MILLIS(0, 20000000000, "millisecond", 100000)') as number[]).length).to.equal(200000);
  });
});
