#!/usr/bin/env node
'use strict';
// Runs every mocha test (compiled dist/test/**/*.test.js and ESM test/**/*.test.mjs)
// and ends with the line CI reads: "N passed, N failed[, N skipped]".
// Usage: node scripts/run-tests.js [path-substring ...] [--grep PATTERN]
const fs = require('node:fs');
const path = require('node:path');
const mochaModule = require('mocha');
// mocha 12 is an ES module: require() hands back its namespace.
const Mocha = mochaModule.Mocha || mochaModule.default || mochaModule;

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
let grep;
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--grep') grep = args[++i];
  else filters.push(args[i]);
}

function walk(dir, out) {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (/\.test\.(js|mjs)$/.test(entry.name)) out.push(full);
  }
  return out;
}

const files = [...walk(path.join(root, 'dist', 'test'), []), ...walk(path.join(root, 'test'), [])]
  .filter((f) => !f.endsWith('.test.ts'))
  .filter((f) => f.endsWith('.mjs') || f.startsWith(path.join(root, 'dist')))
  .filter((f) => filters.length === 0 || filters.some((s) => path.relative(root, f).includes(s)))
  .sort();

if (files.length === 0) {
  console.error('no test files found (did the build run?)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const mocha = new Mocha({ reporter: 'spec', timeout: 20000, grep });
for (const f of files) mocha.addFile(f);

let passed = 0;
let failed = 0;
let skipped = 0;
mocha
  .loadFilesAsync()
  .then(() => {
    const runner = mocha.run(() => {
      const skippedText = skipped ? `, ${skipped} skipped` : '';
      console.log(`\n${passed} passed, ${failed} failed${skippedText}`);
      // Exit explicitly: a leaked handle must not hang CI after the summary is printed.
      process.exit(failed > 0 || passed === 0 ? 1 : 0);
    });
    runner.on('pass', () => passed++);
    runner.on('fail', () => failed++);
    runner.on('pending', () => skipped++);
  })
  .catch((err) => {
    console.error(err);
    console.log(`${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  });
