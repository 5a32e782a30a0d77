/**
 * Small HTML building blocks for the report pages. Every piece of text from a run or sweep goes through
 * {@link esc}; the functions here take text and return markup, so markup is never escaped twice.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `text` safe inside an element or a quoted attribute (`& < > " '` replaced by entities). */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** A number as short text: up to 6 significant digits, `1e-5` / `1e10` style when very small or large. */
function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e9) return String(v);
  const p = Number(v.toPrecision(6));
  return a !== 0 && (a < 1e-4 || a >= 1e9) ? p.toExponential().replace('e+', 'e') : String(p);
}

/** A value as short text: numbers with up to 6 significant digits, objects and arrays as JSON. */
export function formatValue(v: unknown): string {
  if (v === undefined) return '';
  if (v === null) return 'null';
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** A cell of {@link table}: markup, with an optional sort key (`data-v`) for sortable tables. */
export interface Cell {
  html: string;
  sort?: string | number;
}

/** A cell holding `text`, escaped; numbers sort numerically. */
export function textCell(v: unknown): Cell {
  return { html: esc(formatValue(v)), sort: typeof v === 'number' && Number.isFinite(v) ? v : formatValue(v) };
}

export interface TableOptions {
  /** Clicking a column header sorts the rows by it (the page's script does it). */
  sortable?: boolean;
  className?: string;
  id?: string;
  /** A class for each body row (by index), e.g. to mark one. */
  rowClasses?: ReadonlyArray<string | undefined>;
}

/** A table with escaped `headers` and the given cells. */
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<Cell>>, opts: TableOptions = {}): string {
  const classes = [opts.className, opts.sortable ? 'sortable' : undefined].filter(Boolean).join(' ');
  const attrs = `${opts.id ? ` id="${esc(opts.id)}"` : ''}${classes ? ` class="${classes}"` : ''}`;
  const head = headers.map((h) => `<th${opts.sortable ? ' tabindex="0" title="sort by this column"' : ''}>${esc(h)}</th>`).join('');
  const body = rows
    .map((r, i) => `<tr${opts.rowClasses?.[i] ? ` class="${esc(opts.rowClasses[i]!)}"` : ''}>${r.map((c) => `<td${c.sort === undefined ? '' : ` data-v="${esc(String(c.sort))}"`}>${c.html}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table${attrs}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A two-column table of `key: value` pairs (values escaped). */
export function keyValueTable(pairs: ReadonlyArray<readonly [string, unknown]>, className = 'kv'): string {
  const rows = pairs.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(formatValue(v))}</td></tr>`).join('\n');
  return `<table class="${className}"><tbody>\n${rows}\n</tbody></table>`;
}

/** `key value` pairs (escaped) laid out in as many columns as fit: for long lists of settings. */
export function settingsGrid(pairs: ReadonlyArray<readonly [string, unknown]>): string {
  const items = pairs.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(formatValue(v))}</dd></div>`).join('\n');
  return `<dl class="settings">\n${items}\n</dl>`;
}

/** An object's entries with nested objects flattened to dotted keys (`model.nh`); arrays stay whole. */
export function flatten(obj: Record<string, unknown>, prefix = ''): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
      out.push(...flatten(v as Record<string, unknown>, key));
    } else out.push([key, v]);
  }
  return out;
}

/** A section with an escaped heading; `body` is markup. */
export function section(id: string, heading: string, body: string): string {
  return `<section id="${esc(id)}"><h2>${esc(heading)}</h2>\n${body}\n</section>`;
}

/** A note in muted text (escaped). */
export function note(text: string): string {
  return `<p class="note">${esc(text)}</p>`;
}
