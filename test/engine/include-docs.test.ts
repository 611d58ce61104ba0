// The one include_docs implementation (lib/engine/services/include-docs.ts), driven by hand: a
// stream control that records pause/resume/cancel and a document source whose answers the test
// releases when it wants.
import { expect } from 'chai';
import { DocsAttacher, type DocSource } from '../../lib/engine/services/include-docs';
import { MultiResult, ValueResult } from '../../lib/engine/results';
import { NotFoundError } from '../../lib/engine/errors';

class Source implements DocSource {
  readonly asks: Array<{ keys: string[]; quiet: boolean; answer: (err?: Error) => void }> = [];
  kvMulti(_op: 'get', keys: string[], options: { quiet: boolean }, cb: (err: Error | null | undefined, result?: unknown) => void): void {
    this.asks.push({
      keys,
      quiet: options.quiet,
      answer: (err) => {
        if (err) return cb(err);
        const m = new MultiResult();
        for (const k of keys) {
          if (k.startsWith('gone')) {
            const r = new ValueResult(k, undefined, 0n, 0, 0x0d);
            if (!options.quiet) r.error = new NotFoundError(`no ${k}`, { key: k });
            m.set(k, r);
          } else m.set(k, new ValueResult(k, { id: k }, 1n, 0));
        }
        cb(null, m);
      },
    });
  }
}

class Control {
  paused = false;
  cancelled = 0;
  onCancel: () => void = () => {};
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  cancel(): void {
    this.cancelled++;
    this.onCancel();
  }
}

function setup(missing: 'error' | 'quiet') {
  const source = new Source();
  const control = new Control();
  const heard: Array<['rows', unknown[]] | ['done', unknown] | ['error', unknown]> = [];
  const docs = new DocsAttacher(source, missing, {
    onRows: (rows) => heard.push(['rows', rows]),
    onDone: (meta: unknown) => heard.push(['done', meta]),
    onError: (err: unknown) => heard.push(['error', err]),
  });
  docs.attach(control);
  return { source, control, heard, docs };
}

describe('engine: include_docs (DocsAttacher)', () => {
  it('delivers batches in arrival order, the end after them, and holds the stream while it fetches', () => {
    const { source, control, heard, docs } = setup('error');
    docs.onRows([{ id: 'a', key: 1 }]);
    expect(control.paused).to.equal(true);
    docs.onRows([{ key: 'no id' }]);
    docs.onDone({ total_rows: 2 });
    expect(heard).to.deep.equal([], 'nothing overtakes the batch being fetched');
    source.asks[0].answer();
    expect(heard.map((h) => h[0])).to.deep.equal(['rows', 'rows', 'done']);
    expect(((heard[0][1] as Array<{ doc: ValueResult }>)[0].doc).value).to.deep.equal({ id: 'a' });
    expect(docs.done).to.equal(true);
  });

  it("a caller's pause() outlasts a fetch that ends while it is paused", () => {
    const { source, control, docs } = setup('quiet');
    docs.onRows([{ id: 'a' }]);
    docs.pause();
    source.asks[0].answer();
    expect(control.paused).to.equal(true, 'still paused: the caller asked for it');
    docs.resume();
    expect(control.paused).to.equal(false);
  });

  it("keeps each caller's answer for a missing document: 'error' sets the failure, 'quiet' a plain miss", () => {
    for (const missing of ['error', 'quiet'] as const) {
      const { source, heard, docs } = setup(missing);
      docs.onRows([{ id: 'gone-1' }]);
      expect(source.asks[0].quiet).to.equal(missing === 'quiet');
      source.asks[0].answer();
      const doc = (heard[0][1] as Array<{ doc: ValueResult }>)[0].doc;
      expect(doc.success).to.equal(false);
      if (missing === 'error') expect(doc.error).to.be.instanceOf(NotFoundError);
      else expect(doc.error).to.equal(undefined);
    }
  });

  it("a failed fetch fails the stream in 'error' mode, and marks the rows in 'quiet' mode", () => {
    const boom = new Error('multi failed');
    const strict = setup('error');
    strict.docs.onRows([{ id: 'a' }]);
    strict.source.asks[0].answer(boom);
    expect(strict.heard).to.deep.equal([['error', boom]]);
    expect(strict.control.cancelled).to.equal(1);
    const quiet = setup('quiet');
    quiet.docs.onRows([{ id: 'a' }]);
    quiet.source.asks[0].answer(boom);
    expect((quiet.heard[0][1] as Array<{ doc: unknown }>)[0].doc).to.deep.equal({ key: 'a', error: boom, success: false });
  });

  it('cancel() passes the stream\'s own cancellation through at once and drops what was held', () => {
    const { source, control, heard, docs } = setup('error');
    control.onCancel = () => docs.onError('cancelled');
    docs.onRows([{ id: 'a' }]);
    docs.cancel();
    expect(heard).to.deep.equal([['error', 'cancelled']]);
    source.asks[0].answer();
    expect(heard).to.have.length(1, 'no rows after the cancellation');
  });
});
