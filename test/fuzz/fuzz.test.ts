// A bounded, seeded fuzz run of the KV front end and every HTTP service, part of `npm test`.
// The longer run is `npm run fuzz` (test/fuzz/main.ts).
import { expect } from 'chai';
import { runFuzz } from './driver';

describe('fuzz: the embedded cluster under hostile input (bounded, seeded)', function () {
  this.timeout(60_000);

  for (const seed of [1, 2]) {
    it(`seed ${seed}: 600 inputs over KV, management, query and views end in no crash and no hang`, async () => {
      const report = await runFuzz({ seed, inputs: 600, probeEvery: 200 });
      const summary = report.findings.map((f) => `${f.kind}: ${f.detail} (inputs ${f.inputs.slice(-8).join(' ')})`).join('\n');
      expect(report.crashes, summary).to.equal(0);
      expect(report.hangs, summary).to.equal(0);
      // the run really exercised every front end
      expect(report.framesSent).to.be.greaterThan(2000);
      expect([report.slowLoris, report.deaf, report.flooded].every((n) => n > 0), 'slow-loris, never-reading and flooding connections ran').to.equal(true);
      expect(report.httpRequests.mgmt + report.httpRequests.query + report.httpRequests.views).to.be.greaterThan(100);
    });
  }
});
