#!/usr/bin/env node
'use strict';
// Bundles the web console (console/src) into dist/console: one script and one style sheet with
// content hashes in their names, and index.html pointing at them. esbuild, because it bundles
// TypeScript + JSX + CSS in one step in well under a second, ships its binary inside a registry
// package, and needs no config beyond this file. Type-checking is tsc's job (console/tsconfig.json).
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'console');
const out = path.join(root, 'dist', 'console');

async function main() {
  fs.rmSync(out, { recursive: true, force: true });
  const result = await esbuild.build({
    entryPoints: { app: path.join(src, 'src', 'main.tsx') },
    bundle: true,
    minify: true,
    format: 'esm',
    splitting: true,
    chunkNames: 'chunk-[hash]',
    target: ['chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    entryNames: '[name]-[hash]',
    outdir: out,
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) => path.basename(f));
  const js = outputs.find((f) => /^app-.*\.js$/.test(f));
  const chunks = outputs.filter((f) => /^chunk-.*\.js$/.test(f));
  const css = outputs.find((f) => /^app-.*\.css$/.test(f));
  if (!js || !css) throw new Error(`esbuild did not produce app-*.js and app-*.css: ${outputs.join(', ')}`);
  const html = fs.readFileSync(path.join(src, 'index.html'), 'utf8').replace('%JS%', js).replace('%CSS%', css);
  fs.writeFileSync(path.join(out, 'index.html'), html);
  const size = (f) => (fs.statSync(path.join(out, f)).size / 1024).toFixed(0) + ' KiB';
  console.log(`console: dist/console/${js} (${size(js)}), ${css} (${size(css)}), ${chunks.length} page chunks`);
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
