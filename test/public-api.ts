/**
 * Each library's public surface, checked: a name its `src/index.ts` exports must be imported from the package by
 * some file outside that library's src (another project, a test, a benchmark), or be a type that an export
 * kept by this rule names in its signature (so a caller can name what it passes and gets back), or be an error
 * class (what callers catch with `instanceof`). Anything else is internal: the library's own tests import it
 * from `../src/…`.
 *
 * Read with the TypeScript parser, like the import graph (test/import-graph.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { readProjects, tsFilesUnder } from './import-graph.ts';

/** One name an index.ts exports that nothing outside its library uses. */
export interface UnusedExport {
  /** The index file, relative to the workspace root. */
  readonly file: string;
  readonly name: string;
  /** A one-line message naming the file, the name and what to do. */
  readonly message: string;
}

/** One exported name: what it is and the text its dependants may mention (parameters, results, members). */
interface Exported {
  readonly name: string;
  readonly isType: boolean;
  readonly isErrorClass: boolean;
  /** Parameter, result and member types of a value; the whole declaration of a type. */
  readonly signature: string;
}

/** Directories whose files are no users of a library: build outputs, test fixtures (other workspaces), tooling. */
const NOT_USERS = new Set(['dist', 'build', 'fixtures', '.git', '.nx']);

const parsed = new Map<string, ts.SourceFile>();

function parse(path: string): ts.SourceFile {
  if (!parsed.has(path)) parsed.set(path, ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true));
  return parsed.get(path)!;
}

function declaredName(s: ts.Statement): string[] {
  if (ts.isVariableStatement(s)) return s.declarationList.declarations.map((d) => d.name.getText());
  const name = (s as { name?: ts.Identifier }).name;
  return name && ts.isIdentifier(name) ? [name.text] : [];
}

function parameterText(params: ts.NodeArray<ts.ParameterDeclaration>, result?: ts.TypeNode, typeParams?: ts.NodeArray<ts.TypeParameterDeclaration>): string {
  return [...params.map((p) => p.getText()), result?.getText() ?? '', ...(typeParams?.map((p) => p.getText()) ?? [])].join(' ');
}

function classSignature(c: ts.ClassDeclaration): string {
  const parts = [c.heritageClauses?.map((h) => h.getText()).join(' ') ?? ''];
  for (const m of c.members) {
    const hidden = ts.getModifiers(m as ts.HasModifiers)?.some((x) => x.kind === ts.SyntaxKind.PrivateKeyword) || (m.name && ts.isPrivateIdentifier(m.name));
    if (hidden) continue;
    if (ts.isMethodDeclaration(m) || ts.isConstructorDeclaration(m)) parts.push(parameterText(m.parameters, m.type, m.typeParameters));
    else if (ts.isPropertyDeclaration(m) || ts.isGetAccessor(m)) parts.push(m.type?.getText() ?? '');
  }
  return parts.join(' ');
}

/** The declaration of `name` in `file`, following `export { … } from` chains (workspace packages included). */
function describe(workspace: string, file: string, name: string, exportedAs: string, typeOnly: boolean): Exported {
  const sf = parse(file);
  for (const s of sf.statements) {
    if (ts.isExportDeclaration(s) && s.moduleSpecifier && s.exportClause && ts.isNamedExports(s.exportClause)) {
      const e = s.exportClause.elements.find((x) => x.name.text === name);
      if (e) return describe(workspace, moduleFile(workspace, file, (s.moduleSpecifier as ts.StringLiteral).text), (e.propertyName ?? e.name).text, exportedAs, typeOnly || e.isTypeOnly || s.isTypeOnly);
    }
    if (!declaredName(s).includes(name)) continue;
    if (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) return { name: exportedAs, isType: true, isErrorClass: false, signature: s.getText() };
    if (ts.isFunctionDeclaration(s)) return { name: exportedAs, isType: typeOnly, isErrorClass: false, signature: parameterText(s.parameters, s.type, s.typeParameters) };
    if (ts.isClassDeclaration(s)) {
      const isErrorClass = s.heritageClauses?.some((h) => h.types.some((t) => /Error$/.test(t.expression.getText()))) ?? false;
      return { name: exportedAs, isType: typeOnly, isErrorClass, signature: classSignature(s) };
    }
    if (ts.isVariableStatement(s)) {
      const d = s.declarationList.declarations.find((x) => x.name.getText() === name);
      return { name: exportedAs, isType: typeOnly, isErrorClass: false, signature: d?.type?.getText() ?? '' };
    }
    return { name: exportedAs, isType: typeOnly, isErrorClass: false, signature: '' };
  }
  return { name: exportedAs, isType: typeOnly, isErrorClass: false, signature: '' };
}

function moduleFile(workspace: string, from: string, specifier: string): string {
  const pkg = /^@[^/]+\/([^/]+)$/.exec(specifier);
  if (pkg && existsSync(join(workspace, 'libs', pkg[1], 'src', 'index.ts'))) return join(workspace, 'libs', pkg[1], 'src', 'index.ts');
  return join(dirname(from), specifier);
}

/**
 * The names each file imports from each of `packages`: named imports and re-exports, `const { a } = await
 * import(pkg)`, `import(pkg).T`; `*` where it takes the whole module (then every export counts as used); nothing
 * for `import 'pkg'`.
 */
function namesImported(sf: ts.SourceFile, packages: ReadonlySet<string>, into: Map<string, Set<string>>): void {
  const add = (pkg: string, name: string): void => {
    if (!into.has(pkg)) into.set(pkg, new Set());
    into.get(pkg)!.add(name);
  };
  const wanted = (node: ts.Node | undefined): string | undefined => (node && ts.isStringLiteral(node) && packages.has(node.text) ? node.text : undefined);
  const visit = (n: ts.Node): void => {
    let pkg: string | undefined;
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && (pkg = wanted(n.moduleSpecifier))) {
      const bindings = ts.isImportDeclaration(n) ? n.importClause?.namedBindings : n.exportClause;
      const effectOnly = ts.isImportDeclaration(n) && !n.importClause; // `import 'pkg'` uses no name
      if (bindings && (ts.isNamedImports(bindings) || ts.isNamedExports(bindings))) for (const e of bindings.elements) add(pkg, (e.propertyName ?? e.name).text);
      else if (!effectOnly) add(pkg, '*');
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && (pkg = wanted(n.arguments[0]))) {
      let p: ts.Node = n.parent;
      if (ts.isAwaitExpression(p)) p = p.parent;
      if (ts.isVariableDeclaration(p) && ts.isObjectBindingPattern(p.name)) for (const e of p.name.elements) add(pkg, (e.propertyName ?? e.name).getText());
      else add(pkg, '*');
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && (pkg = wanted(n.argument.literal))) {
      add(pkg, n.qualifier ? n.qualifier.getText().split('.')[0] : '*');
    }
    n.forEachChild(visit);
  };
  visit(sf);
}

/**
 * Every name a library's index.ts exports that breaks the rule above, in a stable order.
 *
 * @param workspace the workspace root; its libs/* with a src/index.ts are checked, and every .ts file in the
 *   workspace (outside node_modules, build outputs and test fixtures) counts as a user
 */
export function unusedExports(workspace: string): UnusedExport[] {
  const libraries = readProjects(workspace).filter((p) => p.root.startsWith('libs/') && existsSync(join(workspace, p.root, 'src', 'index.ts')));
  // who imports what, by file: a library's own src does not count as its user
  const usedBy = new Map<string, Map<string, Set<string>>>();
  for (const f of tsFilesUnder(workspace, NOT_USERS)) {
    const text = readFileSync(f, 'utf8');
    const packages = new Set(libraries.filter((p) => text.includes(p.name)).map((p) => p.name));
    if (packages.size === 0) continue;
    const found = new Map<string, Set<string>>();
    const sf = ts.createSourceFile(f, text, ts.ScriptTarget.Latest, true);
    parsed.set(f, sf); // an index or module read again below comes from here
    namesImported(sf, packages, found);
    usedBy.set(f, found);
  }
  const out: UnusedExport[] = [];
  for (const project of libraries) {
    const index = join(workspace, project.root, 'src', 'index.ts');
    const own = join(workspace, project.root, 'src') + '/';
    const used = new Set<string>();
    for (const [f, found] of usedBy) if (!f.startsWith(own)) for (const name of found.get(project.name) ?? []) used.add(name);
    if (used.has('*')) continue;

    const exported: Exported[] = [];
    for (const s of parse(index).statements) {
      if (!ts.isExportDeclaration(s) || !s.moduleSpecifier || !s.exportClause || !ts.isNamedExports(s.exportClause)) continue;
      const from = moduleFile(workspace, index, (s.moduleSpecifier as ts.StringLiteral).text);
      for (const e of s.exportClause.elements) exported.push(describe(workspace, from, (e.propertyName ?? e.name).text, e.name.text, e.isTypeOnly || s.isTypeOnly));
    }
    const kept = new Set(exported.filter((e) => used.has(e.name) || e.isErrorClass).map((e) => e.name));
    for (let grew = true; grew; ) {
      grew = false;
      for (const e of exported) {
        if (kept.has(e.name) || !e.isType) continue;
        const word = new RegExp(`\\b${e.name}\\b`);
        if (exported.some((k) => kept.has(k.name) && word.test(k.signature))) {
          kept.add(e.name);
          grew = true;
        }
      }
    }
    const file = relative(workspace, index).split('\\').join('/');
    for (const e of exported) {
      if (kept.has(e.name)) continue;
      out.push({
        file,
        name: e.name,
        message: `${file} exports '${e.name}', which no file outside ${project.root}/src imports and no kept export's signature names: drop it from the index (the library's own tests import it from ../src)`,
      });
    }
  }
  return out;
}
