// `npm run console:screens`: screenshots of every console page, for the README. Starts a
// three-node cluster with the samples loaded over KV (so the charts have traffic), keeps some
// KV and query load running, and walks the console in headless Chromium.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { Cluster } from '../../lib/server';
import { closeEngine, connectEngine, withBucket } from '../../lib/cli/connect';
import { loadSample } from '../../lib/cli/sample-loader';
import { chromiumAvailable, INSTALL_HINT, launchBrowser } from './browser';

const OUT = path.resolve(__dirname, '..', '..', '..', 'docs', 'console');
const USER = { username: 'Administrator', password: 'password' };

async function setEditor(page: Page, testId: string, text: string): Promise<void> {
  await page.getByTestId(testId).locator('.cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
}

async function main(): Promise<void> {
  if (!chromiumAvailable()) throw new Error(INSTALL_HINT);
  fs.mkdirSync(OUT, { recursive: true });
  const cluster = await Cluster.start({ nodes: 3, replicas: 1, buckets: [{ name: 'default' }, { name: 'beer-sample' }, { name: 'travel-sample' }] });
  const stopLoad: Array<() => Promise<void>> = [];
  const browser = await launchBrowser({ width: 1360, height: 820 });
  try {
    for (const [sample, scale] of [['beer-sample', 0.5], ['travel-sample', 0.2]] as const) {
      const engine = await connectEngine({ connstr: withBucket(cluster.connectionString, sample), options: USER });
      await loadSample(engine, sample, { scale });
      await closeEngine(engine);
    }
    // Traffic for the charts: gets and sets on `default`, a query every 200 ms.
    const engine = await connectEngine({ connstr: withBucket(cluster.connectionString, 'default'), options: USER });
    let running = true;
    const kvLoop = async () => {
      for (let i = 0; running; i++) {
        await new Promise<void>((resolve) => engine.kv(i % 3 === 0 ? 'upsert' : 'get', `load:${i % 200}`, i % 3 === 0 ? { value: { i } } : null, () => resolve()));
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5 + (i % 400 < 200 ? 0 : 10)));
      }
    };
    const queryLoop = async () => {
      while (running) {
        await new Promise<void>((resolve) => engine.n1ql('SELECT COUNT(*) FROM `travel-sample` WHERE type = "airline"', { onRows: () => undefined, onDone: () => resolve(), onError: () => resolve() }));
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const loops = [kvLoop(), queryLoop()];
    stopLoad.push(async () => {
      running = false;
      await Promise.all(loops);
      await closeEngine(engine);
    });

    const page = await browser.context.newPage();
    page.on('dialog', (d) => void d.accept());
    const base = `http://127.0.0.1:${cluster.nodes[0].ports.mgmt}`;
    const shot = async (name: string) => {
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(OUT, `${name}.png`) });
      console.log(`docs/console/${name}.png`);
    };

    await page.goto(base + '/ui/');
    await page.getByTestId('login-form').waitFor();
    await shot('login');
    await page.fill('input[name=password]', 'password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('node-list').waitFor();
    await page.waitForTimeout(12000);
    await page.locator('[data-node="n_2@127.0.0.1"]').getByTestId('failover').click();
    await page.locator('[data-node="n_2@127.0.0.1"] [data-testid=add-back]').waitFor();
    await shot('cluster');

    await page.getByTestId('nav-buckets').click();
    await page.locator('[data-bucket="travel-sample"]').waitFor();
    await shot('buckets');

    await page.getByTestId('nav-documents').click();
    await page.getByTestId('bucket-picker').selectOption('travel-sample');
    await page.getByTestId('key-prefix').fill('airline_');
    await page.locator('[data-testid=doc-list] li a').nth(2).click();
    await page.getByTestId('doc-meta').waitFor();
    await shot('documents');

    await page.getByTestId('nav-query').click();
    await setEditor(page, 'query-editor', 'SELECT a.name, a.country, a.icao\nFROM `travel-sample` a\nWHERE a.type = "airline" AND a.country = $country\nORDER BY a.name\nLIMIT 10;');
    await page.getByTestId('named-params').fill('{"country": "France"}');
    await page.getByTestId('run-query').click();
    await page.getByTestId('result-table').waitFor();
    await shot('query');
    await page.getByTestId('explain').click();
    await page.getByTestId('plan-tree').first().waitFor();
    await shot('query-plan');

    await page.getByTestId('nav-indexes').click();
    await page.locator('[data-testid=index-list] tbody tr').first().waitFor();
    await shot('indexes');

    await page.getByTestId('nav-views').click();
    await page.getByTestId('bucket-picker').selectOption('beer-sample');
    const prodView = page.locator('[data-testid=prod-ddocs] .ddoc a').first();
    await prodView.waitFor();
    await prodView.click();
    await page.getByTestId('run-view').click();
    await page.getByTestId('view-rows').waitFor();
    await shot('views');
  } finally {
    for (const stop of stopLoad) await stop();
    await browser.close();
    await cluster.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`console:screens: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
