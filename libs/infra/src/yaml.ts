/**
 * A small YAML writer for Kubernetes manifests: plain JSON data (objects, arrays, strings, numbers, booleans,
 * null) as block YAML, several documents separated by `---`. Strings that a YAML 1.1 or 1.2 reader could take
 * for anything but a string (numbers, booleans, null, dates, special characters) are double-quoted with JSON
 * escapes, which YAML reads identically; multi-line strings (scripts) become literal blocks.
 */

type Data = string | number | boolean | null | Data[] | { [key: string]: Data | undefined };

/** A word that reads back as the same string in YAML 1.1 and 1.2. */
const PLAIN = /^[A-Za-z_/$(][A-Za-z0-9_./$()@+=-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|y|n|null|nan|inf)$/i;

function scalar(s: string): string {
  return PLAIN.test(s) && !RESERVED.test(s) ? s : JSON.stringify(s);
}

/** A multi-line string as a literal block (`|`), when it can round-trip exactly. */
function literalBlock(s: string, indent: string): string | undefined {
  if (!s.includes('\n') || /[\t\r]/.test(s) || /^[ \n]/.test(s) || / \n|\n\n$/.test(s) || / $/.test(s)) return undefined;
  const body = s.endsWith('\n') ? s.slice(0, -1) : s;
  const chomp = s.endsWith('\n') ? '' : '-';
  return `|${chomp}\n` + body.split('\n').map((l) => (l === '' ? '' : indent + l)).join('\n');
}

function isEmptyContainer(v: Data): boolean {
  return (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => x === undefined));
}

function inline(v: Data, indent: string): string {
  if (v === null) return 'null';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`toYaml: ${v} is not a finite number`);
    return String(v);
  }
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return literalBlock(v, indent) ?? scalar(v);
  if (Array.isArray(v)) return '[]';
  return '{}';
}

function block(v: Data, indent: string): string[] {
  const lines: string[] = [];
  if (Array.isArray(v)) {
    for (const item of v) {
      if (typeof item === 'object' && item !== null && !isEmptyContainer(item)) {
        const inner = block(item, indent + '  ');
        lines.push(indent + '- ' + inner[0].slice(indent.length + 2), ...inner.slice(1));
      } else {
        lines.push(`${indent}- ${inline(item, indent + '  ')}`);
      }
    }
    return lines;
  }
  if (typeof v === 'object' && v !== null) {
    for (const [key, value] of Object.entries(v)) {
      if (value === undefined) continue;
      const k = scalar(key);
      if (typeof value === 'object' && value !== null && !isEmptyContainer(value)) {
        lines.push(`${indent}${k}:`);
        // a list under a key may sit at the key's own indentation; nesting it reads more plainly
        lines.push(...block(value, indent + '  '));
      } else {
        lines.push(`${indent}${k}: ${inline(value, indent + '  ')}`);
      }
    }
    return lines;
  }
  return [indent + inline(v, indent)];
}

/** Block YAML of one or more documents (each a JSON-like value); `undefined` object fields are left out. */
export function toYaml(docs: readonly unknown[]): string {
  return docs.map((d) => block(d as Data, '').join('\n') + '\n').join('---\n');
}
