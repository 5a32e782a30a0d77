/**
 * The import graph of a workspace (libs/* and apps/*, each a project with a package.json and a src/) and the
 * boundary rules checked over it: layers by Nx tag, no relative import out of a project, no cycle between
 * projects, dependencies declared where they are imported and no stale workspace dependency.
 *
 * Imports are read with the TypeScript parser, so comments and strings never count: `import … from '…'`,
 * `import '…'`, `import type`, `export … from '…'`, `import x = require('…')`, `import('…')` with a string
 * literal, and `import('…')` types. A dynamic import of a computed name cannot be checked and is skipped.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** How an import is written. */
export type ImportKind = 'import' | 'export' | 'dynamic' | 'type';

/** One import in one source file. */
export interface ImportRef {
  /** The file, relative to the workspace root, with `/` separators. */
  readonly file: string;
  /** 1-based line of the import. */
  readonly line: number;
  /** The module specifier exactly as written. */
  readonly specifier: string;
  readonly kind: ImportKind;
}

/** A workspace project: a directory libs/NAME or apps/NAME with a package.json. */
export interface Project {
  /** The package name, e.g. `@nbm/runtime`. */
  readonly name: string;
  readonly version: string;
  /** The directory, relative to the workspace root, e.g. `libs/runtime`. */
  readonly root: string;
  /** Its package.json `nx.tags`. */
  readonly tags: readonly string[];
  /** `dependencies`, `optionalDependencies` and `peerDependencies` together: what its src may import. */
  readonly dependencies: Readonly<Record<string, string>>;
  readonly devDependencies: Readonly<Record<string, string>>;
}

/** Projects and the imports of every .ts file under their src/. */
export interface ImportGraph {
  readonly projects: readonly Project[];
  /** Imports by project name. */
  readonly imports: ReadonlyMap<string, readonly ImportRef[]>;
}

/** For each layer tag, the layer tags a project carrying it may import. */
export type LayerRules = Readonly<Record<string, readonly string[]>>;

/** The rules {@link checkBoundaries} applies; each violation names its rule. */
export type Rule = 'layer-tag' | 'layer' | 'relative-import' | 'cycle' | 'undeclared-dependency' | 'stale-dependency';

/** One broken rule, with a one-line message naming the file, the import and the rule. */
export interface Violation {
  readonly rule: Rule;
  /** The project whose file or package.json breaks it. */
  readonly project: string;
  /** The file (relative to the workspace root) that breaks it: a source file, or a package.json. */
  readonly file: string;
  readonly line?: number;
  /** The import (module specifier), or the declared dependency, at fault. */
  readonly import?: string;
  readonly message: string;
}

const posix = (p: string) => p.split(sep).join('/');
const BUILTINS = new Set(builtinModules);

/**
 * The imports of one TypeScript source text, in order of appearance.
 *
 * @param text the source
 * @param file its path as it should appear in {@link ImportRef.file}
 */
export function importsOf(text: string, file: string): ImportRef[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: ImportRef[] = [];
  const add = (node: ts.Node, specifier: ts.Node | undefined, kind: ImportKind) => {
    if (!specifier || !ts.isStringLiteralLike(specifier)) return;
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    found.push({ file, line, specifier: specifier.text, kind });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node, node.moduleSpecifier, 'import');
    else if (ts.isExportDeclaration(node)) add(node, node.moduleSpecifier, 'export');
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node, node.moduleReference.expression, 'import');
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node, node.arguments[0], 'dynamic');
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal, 'type');
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * The package a bare specifier names (`@scope/name/sub` → `@scope/name`, `name/sub` → `name`); undefined for
 * relative and absolute paths and for Node built-ins (`node:fs`, `fs`).
 */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  if (specifier.startsWith('node:') || BUILTINS.has(specifier.split('/')[0])) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Every .ts file under `dir`, in a stable order.
 *
 * @param skip directories by name not to enter (node_modules always)
 */
export function tsFilesUnder(dir: string, skip: ReadonlySet<string> = new Set()): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && !skip.has(entry.name)) out.push(...tsFilesUnder(path, skip));
    } else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/**
 * The projects of a workspace: every libs/* and apps/* directory with a package.json, by package name.
 *
 * @param workspace the workspace root
 */
export function readProjects(workspace: string): Project[] {
  const projects: Project[] = [];
  for (const group of ['apps', 'libs']) {
    const base = join(workspace, group);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).sort()) {
      const manifest = join(base, name, 'package.json');
      if (!statSync(join(base, name)).isDirectory() || !existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
        name: string;
        version?: string;
        nx?: { tags?: string[] };
        dependencies?: Record<string, string>;
        optionalDependencies?: Record<string, string>;
        peerDependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      projects.push({
        name: pkg.name,
        version: pkg.version ?? '0.0.0',
        root: `${group}/${name}`,
        tags: pkg.nx?.tags ?? [],
        dependencies: { ...pkg.peerDependencies, ...pkg.optionalDependencies, ...pkg.dependencies },
        devDependencies: { ...pkg.devDependencies },
      });
    }
  }
  return projects;
}

/**
 * Reads a workspace's projects and the imports of every .ts file under each project's src/.
 *
 * @param workspace the workspace root
 */
export function importGraph(workspace: string): ImportGraph {
  const projects = readProjects(workspace);
  const imports = new Map<string, ImportRef[]>();
  for (const p of projects) {
    const refs: ImportRef[] = [];
    for (const path of tsFilesUnder(join(workspace, p.root, 'src'))) refs.push(...importsOf(readFileSync(path, 'utf8'), posix(relative(workspace, path))));
    imports.set(p.name, refs);
  }
  return { projects, imports };
}

/** The strongly connected components of a directed graph with more than one node (Tarjan). */
function cyclicComponents(nodes: readonly string[], edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of nodes) if (!index.has(v)) connect(v);
  return out;
}

/** A shortest path from `from` back to itself inside `within` (breadth first), as the list of nodes visited. */
function cycleThrough(from: string, within: ReadonlySet<string>, edges: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const previous = new Map<string, string>();
  const queue = [from];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of [...(edges.get(v) ?? [])].sort()) {
      if (!within.has(w)) continue;
      if (w === from) {
        const path = [v];
        while (path[0] !== from) path.unshift(previous.get(path[0])!);
        return [...path, from];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [from, from];
}

/**
 * Every boundary rule a workspace breaks, in a stable order:
 *
 * - `layer-tag`: a project's `nx.tags` hold exactly one of the layer tags of `layers`;
 * - `layer`: a project imports another one only if its layer tag lists the other's;
 * - `relative-import`: no relative import resolves outside the importing project;
 * - `cycle`: the projects' imports form no cycle;
 * - `undeclared-dependency`: every package a project's src imports (workspace or npm; Node built-ins aside)
 *   is in its package.json `dependencies`, `optionalDependencies` or `peerDependencies`;
 * - `stale-dependency`: every workspace project a project declares there is imported by its src.
 *
 * @param workspace the workspace root (its package.json's versions are suggested for undeclared packages)
 * @param layers for each layer tag, the layer tags it may depend on
 * @param graph the import graph, when already read ({@link importGraph})
 */
export function checkBoundaries(workspace: string, layers: LayerRules, graph: ImportGraph = importGraph(workspace)): Violation[] {
  const violations: Violation[] = [];
  const byName = new Map(graph.projects.map((p) => [p.name, p]));
  const rootManifest = join(workspace, 'package.json');
  const rootPkg = existsSync(rootManifest) ? (JSON.parse(readFileSync(rootManifest, 'utf8')) as Record<string, Record<string, string> | undefined>) : {};
  const rootVersion = (pkg: string) =>
    byName.get(pkg)?.version ?? rootPkg.dependencies?.[pkg] ?? rootPkg.optionalDependencies?.[pkg] ?? rootPkg.devDependencies?.[pkg] ?? 'VERSION';
  const layerOf = new Map<string, string>();
  const known = Object.keys(layers);

  for (const p of graph.projects) {
    const mine = p.tags.filter((t) => known.includes(t));
    if (mine.length === 1) layerOf.set(p.name, mine[0]);
    else {
      violations.push({
        rule: 'layer-tag',
        project: p.name,
        file: `${p.root}/package.json`,
        message: `${p.root}/package.json breaks rule [layer-tag]: nx.tags ${JSON.stringify(p.tags)} must hold exactly one layer tag, one of ${known.join(', ')}`,
      });
    }
  }

  const edges = new Map<string, Set<string>>();
  const witness = new Map<string, ImportRef>();
  for (const p of graph.projects) {
    const used = new Set<string>();
    const out = new Set<string>();
    edges.set(p.name, out);
    const projectDir = resolve(workspace, p.root);
    for (const ref of graph.imports.get(p.name) ?? []) {
      const at = `${ref.file}:${ref.line}: import '${ref.specifier}'`;
      const pkg = packageOf(ref.specifier);
      if (ref.specifier.startsWith('.') || ref.specifier.startsWith('/')) {
        const target = resolve(workspace, dirname(ref.file), ref.specifier);
        if (target !== projectDir && !target.startsWith(projectDir + sep)) {
          const owner = graph.projects.find((q) => target.startsWith(resolve(workspace, q.root) + sep));
          violations.push({
            rule: 'relative-import',
            project: p.name,
            file: ref.file,
            line: ref.line,
            import: ref.specifier,
            message: `${at} breaks rule [relative-import]: it leaves ${p.root} for ${posix(relative(workspace, target))}; import ${owner ? `'${owner.name}'` : 'that code'} by package name instead`,
          });
        }
        continue;
      }
      if (pkg === undefined || pkg === p.name) continue;
      used.add(pkg);
      if (!(pkg in p.dependencies)) {
        const dev = pkg in p.devDependencies ? ' (it is only a devDependency, which src may not use)' : '';
        violations.push({
          rule: 'undeclared-dependency',
          project: p.name,
          file: ref.file,
          line: ref.line,
          import: ref.specifier,
          message: `${at} breaks rule [undeclared-dependency]: '${pkg}' is not in the dependencies of ${p.root}/package.json${dev}; add "${pkg}": "${rootVersion(pkg)}"`,
        });
      }
      const target = byName.get(pkg);
      if (!target) continue;
      out.add(pkg);
      if (!witness.has(`${p.name} ${pkg}`)) witness.set(`${p.name} ${pkg}`, ref);
      const from = layerOf.get(p.name);
      const to = layerOf.get(pkg);
      if (from === undefined || to === undefined) continue; // already a layer-tag violation
      const allowed = layers[from];
      if (!allowed.includes(to)) {
        violations.push({
          rule: 'layer',
          project: p.name,
          file: ref.file,
          line: ref.line,
          import: ref.specifier,
          message: `${at} breaks rule [layer]: ${p.name} is ${from}, which may import only ${allowed.length > 0 ? allowed.join(', ') : 'no other project'}; ${pkg} is ${to}`,
        });
      }
    }
    for (const dep of Object.keys(p.dependencies).sort()) {
      if (byName.has(dep) && !used.has(dep)) {
        violations.push({
          rule: 'stale-dependency',
          project: p.name,
          file: `${p.root}/package.json`,
          import: dep,
          message: `${p.root}/package.json: dependency '${dep}' breaks rule [stale-dependency]: no file under ${p.root}/src imports it; remove it`,
        });
      }
    }
  }

  for (const component of cyclicComponents(graph.projects.map((p) => p.name), edges)) {
    const path = cycleThrough(component[0], new Set(component), edges);
    const steps = path.slice(0, -1).map((from, i) => {
      const ref = witness.get(`${from} ${path[i + 1]}`)!;
      return { from, ref };
    });
    const first = steps[0].ref;
    violations.push({
      rule: 'cycle',
      project: path[0],
      file: first.file,
      line: first.line,
      import: first.specifier,
      message: `${first.file}:${first.line}: import '${first.specifier}' breaks rule [cycle]: ${path.join(' → ')} (${steps.map((s) => `${s.ref.file}:${s.ref.line} imports '${s.ref.specifier}'`).join('; ')}); ${component.join(', ')} depend on each other`,
    });
  }
  return violations;
}
