/**
 * The workspace's architecture, enforced over its import graph (test/import-graph.ts): every project carries
 * one layer tag (package.json `nx.tags`), imports only the layers LAYER_RULES allows it, never reaches into
 * another project by a relative path, takes part in no cycle, and declares exactly the workspace libraries
 * (and every npm package) its src imports. Planted fixtures show that each rule can fail, and how it says so.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { checkBoundaries, importGraph, importsOf, packageOf, type LayerRules, type Violation } from './import-graph.ts';
import { unusedExports } from './public-api.ts';

const ROOT = join(import.meta.dirname, '..');
const FIXTURES = join(import.meta.dirname, 'fixtures', 'boundaries');

/**
 * The layering, the one place it is written: for each layer tag, the layer tags it may import. Top to bottom:
 *
 *   layer:app       @nbm/cli
 *   layer:sweep     @nbm/sweep
 *   layer:task      @nbm/train, @nbm/sample
 *   layer:evaluate  @nbm/evaluate              (used by train and sweep; uses neither)
 *   layer:run       @nbm/run                   (the run directory: train writes it, evaluate, sample, sweep read it)
 *   layer:runtime   @nbm/runtime
 *   layer:engine    @nbm/kernels, @nbm/webgpu  (implement and register the model's engine interface)
 *   layer:model     @nbm/model                 (the tfjs engine, the engine interface and registry)
 *   layer:comm      @nbm/collective
 *   layer:data      @nbm/data
 *   layer:report    @nbm/report                (may use the base libraries, e.g. checkpoint's atomic writes)
 *   layer:base      @nbm/protocol, @nbm/checkpoint, @nbm/random, @nbm/backend
 *   layer:launch    @nbm/launch                (Kubernetes manifests; a leaf only the CLI uses)
 *
 * A layer may import any layer below it, none beside or above it: runtime and the engines know nothing of
 * each other, nor collective and data, nor the base libraries.
 */
const LAYER_RULES: LayerRules = (() => {
  const base = ['layer:base'];
  const bottom = ['layer:report', ...base];
  const middle = ['layer:comm', 'layer:data', ...bottom];
  const core = ['layer:run', 'layer:runtime', 'layer:engine', 'layer:model', ...middle];
  return {
    'layer:app': ['layer:sweep', 'layer:task', 'layer:evaluate', ...core, 'layer:launch'],
    'layer:sweep': ['layer:task', 'layer:evaluate', ...core],
    'layer:task': ['layer:evaluate', ...core],
    'layer:evaluate': core,
    'layer:run': ['layer:model', ...middle],
    'layer:runtime': middle,
    'layer:engine': ['layer:model', ...middle],
    'layer:model': middle,
    'layer:comm': bottom,
    'layer:data': bottom,
    'layer:report': base,
    'layer:base': [],
    'layer:launch': [],
  };
})();

describe('project boundaries (the import graph of libs/*/src and apps/*/src)', () => {
  const graph = importGraph(ROOT);
  const violations = checkBoundaries(ROOT, LAYER_RULES, graph);
  const messages = (rule: Violation['rule']) => violations.filter((v) => v.rule === rule).map((v) => v.message);

  it('finds the projects and their imports', () => {
    const names = graph.projects.map((p) => p.name);
    expect(names).to.include.members(['@nbm/cli', '@nbm/runtime', '@nbm/collective', '@nbm/protocol', '@nbm/launch']);
    expect(graph.imports.get('@nbm/runtime')!.map((r) => r.specifier)).to.include.members(['@nbm/protocol', 'zeromq']);
    // dynamic imports count too (sweep loads evaluate in its NLL child process)
    expect(graph.imports.get('@nbm/sweep')!.filter((r) => r.kind === 'dynamic').map((r) => r.specifier)).to.include('@nbm/evaluate');
  });

  it('every project carries exactly one layer tag of the table', () => {
    expect(messages('layer-tag')).to.deep.equal([]);
  });

  it('every import of another project goes down the layers', () => {
    expect(messages('layer')).to.deep.equal([]);
  });

  it('no relative import leaves its project', () => {
    expect(messages('relative-import')).to.deep.equal([]);
  });

  it('the projects import each other without cycles', () => {
    expect(messages('cycle')).to.deep.equal([]);
  });

  it("every package a project's src imports is in that project's dependencies", () => {
    expect(messages('undeclared-dependency')).to.deep.equal([]);
  });

  it('every workspace library a project declares is imported by its src', () => {
    expect(messages('stale-dependency')).to.deep.equal([]);
  });

  it('every name an index.ts exports is used outside its library, names a used export\'s signature, or is an error class', () => {
    expect(unusedExports(ROOT).map((u) => u.message)).to.deep.equal([]);
  });
});

describe('the boundary checker', () => {
  it('reads every form of import, and nothing in comments or strings', () => {
    const text = [
      "import { a } from 'pkg-a';",
      "import 'pkg-side-effect';",
      "import type { T } from '@scope/types/sub';",
      'import {',
      '  multi,',
      "} from './local.ts';",
      "export { e } from 'pkg-e';",
      "export * from 'pkg-star';",
      "import legacy = require('pkg-legacy');",
      "const lazy = await import('pkg-lazy');",
      'const name = "pkg-computed";',
      'await import(name);',
      "let t: import('pkg-type').T;",
      "// import { no } from 'in-a-comment';",
      "const s = \"import { no } from 'in-a-string'\";",
    ].join('\n');
    expect(importsOf(text, 'x.ts').map((r) => [r.line, r.kind, r.specifier])).to.deep.equal([
      [1, 'import', 'pkg-a'],
      [2, 'import', 'pkg-side-effect'],
      [3, 'import', '@scope/types/sub'],
      [4, 'import', './local.ts'],
      [7, 'export', 'pkg-e'],
      [8, 'export', 'pkg-star'],
      [9, 'import', 'pkg-legacy'],
      [10, 'dynamic', 'pkg-lazy'],
      [13, 'type', 'pkg-type'],
    ]);
  });

  it('names packages by their first path part (two for a scope) and leaves Node built-ins and paths alone', () => {
    expect(['@nbm/model', '@scope/a/deep/x.js', 'yaml', 'kubernetes-models/v1/Secret', 'node:fs', 'fs', 'fs/promises', './x.ts', '/abs'].map(packageOf)).to.deep.equal([
      '@nbm/model',
      '@scope/a',
      'yaml',
      'kubernetes-models',
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('catches a planted import of a library above and of an undeclared package, naming file, import and rule', () => {
    const found = checkBoundaries(join(FIXTURES, 'planted'), LAYER_RULES);
    expect(found.map(({ rule, file, line, import: spec }) => ({ rule, file, line, import: spec }))).to.deep.equal([
      { rule: 'undeclared-dependency', file: 'libs/high/src/index.ts', line: 2, import: 'left-pad' },
      { rule: 'layer', file: 'libs/low/src/index.ts', line: 4, import: '@fixture/high' },
    ]);
    expect(found.map((v) => v.message)).to.deep.equal([
      "libs/high/src/index.ts:2: import 'left-pad' breaks rule [undeclared-dependency]: 'left-pad' is not in the dependencies of libs/high/package.json; add \"left-pad\": \"1.3.0\"",
      "libs/low/src/index.ts:4: import '@fixture/high' breaks rule [layer]: @fixture/low is layer:base, which may import only no other project; @fixture/high is layer:task",
    ]);
  });

  it('catches a planted cycle, relative import out of a project, stale dependency and missing layer tag', () => {
    const found = checkBoundaries(join(FIXTURES, 'tangled'), LAYER_RULES);
    expect(found.map(({ rule, file, line, import: spec }) => ({ rule, file, line, import: spec }))).to.deep.equal([
      { rule: 'layer-tag', file: 'apps/d/package.json', line: undefined, import: undefined },
      { rule: 'relative-import', file: 'libs/a/src/index.ts', line: 5, import: '../../c/src/index.ts' },
      { rule: 'layer', file: 'libs/b/src/index.ts', line: 2, import: '@tangled/a' },
      { rule: 'stale-dependency', file: 'libs/b/package.json', line: undefined, import: '@tangled/c' },
      { rule: 'cycle', file: 'libs/a/src/index.ts', line: 2, import: '@tangled/b' },
    ]);
    const [tag, relative, layer, stale, cycle] = found.map((v) => v.message);
    expect(tag).to.match(/^apps\/d\/package\.json breaks rule \[layer-tag\]: nx\.tags \["scope:tools"\] must hold exactly one layer tag, one of layer:app, /);
    expect(relative).to.equal(
      "libs/a/src/index.ts:5: import '../../c/src/index.ts' breaks rule [relative-import]: it leaves libs/a for libs/c/src/index.ts; import '@tangled/c' by package name instead",
    );
    expect(layer).to.match(/^libs\/b\/src\/index\.ts:2: import '@tangled\/a' breaks rule \[layer\]: @tangled\/b is layer:model, which may import only layer:comm, .*; @tangled\/a is layer:task$/);
    expect(stale).to.equal("libs/b/package.json: dependency '@tangled/c' breaks rule [stale-dependency]: no file under libs/b/src imports it; remove it");
    expect(cycle).to.equal(
      "libs/a/src/index.ts:2: import '@tangled/b' breaks rule [cycle]: @tangled/a → @tangled/b → @tangled/a " +
        "(libs/a/src/index.ts:2 imports '@tangled/b'; libs/b/src/index.ts:2 imports '@tangled/a'); @tangled/a, @tangled/b depend on each other",
    );
  });

  it('catches planted exports nobody uses, and keeps the types a used signature names and error classes', () => {
    const found = unusedExports(join(FIXTURES, 'exports'));
    expect(found.map((u) => u.name)).to.deep.equal(['internalHelper', 'INTERNAL_LIMIT', 'InternalState']);
    expect(found[0].message).to.equal(
      "libs/lib/src/index.ts exports 'internalHelper', which no file outside libs/lib/src imports and no kept export's signature names: drop it from the index (the library's own tests import it from ../src)",
    );
  });
});
