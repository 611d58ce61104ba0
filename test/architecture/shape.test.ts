// The shape the codebase keeps (ARCHITECTURE.md): no import cycles in lib/ and adapters/, type-only
// imports counted, and no `_`-prefixed members in the published type declarations.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import ts from 'typescript';
import { cyclesOf, importGraph } from './import-graph';

// dist/test/architecture -> the repository root
const ROOT = path.resolve(__dirname, '..', '..', '..');
const rel = (f: string): string => path.relative(ROOT, f);

describe('architecture: the import graph', () => {
  it('has no cycles in lib/ and adapters/, type-only imports included', () => {
    const cycles = cyclesOf(importGraph(ROOT, ['lib', 'adapters']));
    expect(cycles.map((c) => c.map(rel).join(' <-> ')), 'import cycles').to.deep.equal([]);
  });

  it('would see a cycle made only of type imports (the check itself)', () => {
    const graph = new Map([
      ['a.ts', new Set(['b.ts'])],
      ['b.ts', new Set(['c.ts'])],
      ['c.ts', new Set(['a.ts'])],
      ['d.ts', new Set(['a.ts'])],
    ]);
    expect(cyclesOf(graph)).to.deep.equal([['a.ts', 'b.ts', 'c.ts']]);
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'deferbase-graph-'));
    try {
      fs.mkdirSync(path.join(dir, 'lib'));
      fs.writeFileSync(path.join(dir, 'lib', 'x.ts'), "import type { Y } from './y';\nexport interface X { y: Y }\n");
      fs.writeFileSync(path.join(dir, 'lib', 'y.ts'), "export type Y = import('./x').X[];\n");
      expect(cyclesOf(importGraph(dir, ['lib'])).map((c) => c.map((f) => path.basename(f)))).to.deep.equal([['x.ts', 'y.ts']]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The .d.ts files the package publishes (dist/lib, dist/adapters) whose source still exists. */
function publishedDeclarations(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.d.ts') && fs.existsSync(path.join(ROOT, path.relative(path.join(ROOT, 'dist'), full).replace(/\.d\.ts$/, '.ts')))) out.push(full);
    }
  };
  for (const d of ['lib', 'adapters']) walk(path.join(ROOT, 'dist', d));
  return out;
}

/** `file.d.ts: Class.member` for every class or interface member whose name starts with `_`. */
function underscoreMembers(file: string): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    // Classes and interfaces: object types describing data (a JSON body's `_` field) are not members.
    if (ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node)) {
      const owner = node.name?.text ?? '(anonymous)';
      for (const m of node.members) {
        const name = m.name && (ts.isIdentifier(m.name) || ts.isPrivateIdentifier(m.name) || ts.isStringLiteral(m.name)) ? m.name.text : undefined;
        if (name !== undefined && name.startsWith('_')) out.push(`${rel(file)}: ${owner}.${name}`);
        if (ts.isConstructorDeclaration(m)) {
          for (const p of m.parameters) {
            if (ts.getModifiers(p)?.length && ts.isIdentifier(p.name) && p.name.text.startsWith('_')) out.push(`${rel(file)}: ${owner}.${p.name.text}`);
          }
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

describe('architecture: the published types', () => {
  it('declare no `_`-prefixed members (internals stay out of dist/**/*.d.ts)', () => {
    const files = publishedDeclarations();
    expect(files.length).to.be.greaterThan(50, 'the build wrote declarations');
    expect(files.flatMap(underscoreMembers)).to.deep.equal([]);
  });

  it('would see one (the check itself)', () => {
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'deferbase-dts-'));
    try {
      const f = path.join(dir, 'x.d.ts');
      fs.writeFileSync(f, 'export declare class A { _hidden(): void; shown: number; }\nexport interface B { _x: number }\n');
      expect(underscoreMembers(f).map((s) => s.split(': ')[1])).to.deep.equal(['A._hidden', 'B._x']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
