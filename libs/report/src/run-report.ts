/**
 * A run's report page, `DIR/report.html`: status, engine, loss curves, held-out log-likelihood, pictures and the
 * whole configuration, in one self-contained file (see page.ts). It shows whatever the run has written so far.
 */
import { join } from 'node:path';
import { atomicWriteFileSync } from '@nbm/checkpoint';
import { formatDuration } from './duration.ts';
import { esc, flatten, formatValue, keyValueTable, note, section, settingsGrid, table, textCell } from './html.ts';
import { page } from './page.ts';
import { pictureDataUri, readRunData, type MetricsRow, type Picture, type RunData } from './run-data.ts';
import { seriesColor, svgLinePlot } from './svg-plot.ts';

/** Every picture is embedded while they total at most this many bytes; beyond it, the latest few. */
export const EMBED_ALL_BYTES = 4 * 1024 * 1024;
/** Pictures of each folder embedded when not all are. */
export const EMBED_LATEST = 3;

const LOSSES = [
  { column: 'cd_loss', label: 'CD loss' },
  { column: 'mse_bias', label: 'MSE_bias' },
  { column: 'mse_var', label: 'MSE_var' },
] as const;

const TRAIN_COLOR = seriesColor(0);
const VAL_COLOR = seriesColor(1);

const record = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Seconds as `0.52 s` under a minute, else `3m07s` / `1h05m`. */
function wallTime(seconds: number): string {
  return seconds < 60 ? `${Number(seconds.toPrecision(3))} s` : formatDuration(seconds);
}

function lastOf(rows: readonly MetricsRow[], kind: string): MetricsRow | undefined {
  for (let i = rows.length - 1; i >= 0; i--) if (rows[i].kind === kind) return rows[i];
  return undefined;
}

function statusLine(run: RunData): string {
  const items: string[] = [];
  const last = run.rows.at(-1);
  const epochs = run.config?.epochs;
  if (last) {
    const epoch = finite(last.epoch) ? `, epoch ${formatValue(last.epoch)}${finite(epochs) && epochs > 0 ? ` of ${epochs}` : ''}` : '';
    items.push(`<span><b>last step</b> ${esc(formatValue(last.step))}${esc(epoch)}</span>`);
  } else items.push('<span><b>no step logged yet</b></span>');
  const val = lastOf(run.rows, 'val');
  if (val) {
    const v = `epoch ${formatValue(val.epoch)}, step ${formatValue(val.step)}: CD ${formatValue(val.cd_loss)}, MSE_bias ${formatValue(val.mse_bias)}, MSE_var ${formatValue(val.mse_var)}`;
    items.push(`<span><b>last validation</b> ${esc(v)}</span>`);
  }
  const ev = lastOf(run.rows, 'eval');
  if (ev) items.push(`<span><b>last log-likelihood</b> ${esc(`${formatValue(ev.loglik_nats)} nats (epoch ${formatValue(ev.epoch)})`)}</span>`);
  const walls = run.rows.map((r) => r.wall_s).filter(finite);
  if (walls.length) items.push(`<span><b>wall time</b> ${esc(wallTime(Math.max(...walls)))}</span>`);
  return `<div class="status" id="status">${items.join('')}</div>`;
}

function engineSection(run: RunData): string {
  const rt = run.runtime;
  if (!rt) return section('engine', 'Engine', note(run.configProblem ?? 'config.json has no runtime record'));
  const parts: string[] = [];
  const backend = record(rt.backend);
  const kernel = record(rt.kernel);
  const rows: string[] = [];
  if (backend) rows.push(`<tr><th>backend</th><td>${esc(formatValue(backend.name))}<div class="reason">${esc(formatValue(backend.reason))}</div></td></tr>`);
  if (kernel) {
    const name = `${formatValue(kernel.name)}${kernel.engine !== undefined ? ` (engine ${formatValue(kernel.engine)})` : ''}`;
    rows.push(`<tr><th>kernel</th><td>${esc(name)}<div class="reason">${esc(formatValue(kernel.reason))}</div></td></tr>`);
  }
  if (rows.length) parts.push(`<table class="kv"><tbody>${rows.join('')}</tbody></table>`);
  const columns: string[] = [];
  const data = record(rt.data);
  if (data) {
    const pairs: Array<[string, unknown]> = [];
    if (data.train !== undefined) pairs.push(['training examples', data.train]);
    if (data.val !== undefined) pairs.push(['validation split', data.val]);
    const perEpoch = run.config?.valExamples;
    if (finite(perEpoch) && perEpoch > 0) pairs.push(['validated at each epoch end', perEpoch]);
    for (const [k, v] of flatten(data)) if (k !== 'train' && k !== 'val') pairs.push([k, v]);
    columns.push(`<div><h3>Data</h3>${keyValueTable(pairs)}</div>`);
  }
  const model = record(rt.model);
  if (model) columns.push(`<div><h3>Model</h3>${keyValueTable(flatten(model))}</div>`);
  const rest = Object.entries(rt).filter(([k]) => !['backend', 'kernel', 'data', 'model'].includes(k));
  if (rest.length) columns.push(`<div><h3>Run</h3>${keyValueTable(flatten(Object.fromEntries(rest)))}</div>`);
  if (columns.length) parts.push(`<div class="cols">${columns.join('\n')}</div>`);
  return section('engine', 'Engine', parts.join('\n'));
}

function column(rows: readonly MetricsRow[], kind: string, x: string, y: string): { x: number[]; y: number[] } {
  const picked = rows.filter((r) => r.kind === kind);
  return { x: picked.map((r) => r[x] as number), y: picked.map((r) => r[y] as number) };
}

function lossSection(run: RunData): string {
  const plots = LOSSES.map(({ column: c, label }) =>
    svgLinePlot({
      id: `plot-${c}`,
      title: `${label} against step`,
      xLabel: 'step',
      integerX: true,
      yLabel: label,
      series: [
        { name: 'train', color: TRAIN_COLOR, ...column(run.rows, 'train', 'step', c) },
        { name: 'val', color: VAL_COLOR, markers: true, ...column(run.rows, 'val', 'step', c) },
      ],
    }),
  );
  const speed = column(run.rows, 'train', 'step', 'samples_per_s');
  if (speed.y.some((v) => v > 0)) {
    plots.push(svgLinePlot({ id: 'plot-speed', title: 'Throughput', xLabel: 'step', integerX: true, yLabel: 'examples/s', height: 240, series: [{ name: 'train', color: TRAIN_COLOR, ...speed }] }));
  }
  const hint = run.rows.length ? note('Hover over a plot to read the nearest point.') : note(run.metricsProblem ?? 'no metrics rows yet');
  return section('losses', 'Losses', hint + plots.join('\n'));
}

function evalSection(run: RunData): string {
  const rows = run.rows.filter((r) => r.kind === 'eval');
  if (rows.length === 0) return '';
  const columns = ['epoch', 'step', 'loglik_nats', 'mse_bias', 'mse_var', 'examples', 'wall_s'];
  const body = rows.map((r) => columns.map((c) => textCell(r[c])));
  const plot = svgLinePlot({
    id: 'plot-loglik',
    title: 'Held-out log-likelihood (validation split)',
    xLabel: 'epoch',
    integerX: true,
    yLabel: 'log-likelihood (nats)',
    height: 280,
    series: [{ name: 'loglik_nats', color: seriesColor(2), markers: true, ...column(run.rows, 'eval', 'epoch', 'loglik_nats') }],
  });
  return section('eval', 'Held-out log-likelihood', plot + table(columns, body, { sortable: true }));
}

function caption(p: Picture): string {
  if (p.file.includes('/step-')) return `step ${p.step}${p.epoch !== undefined ? ` (epoch ${p.epoch})` : ''}`;
  return `epoch ${p.epoch}${p.step !== undefined ? ` (step ${p.step})` : ''}`;
}

function gallery(run: RunData, pictures: readonly Picture[], embedAll: boolean): string {
  if (pictures.length === 0) return note('no pictures yet');
  const shown = embedAll ? pictures : pictures.slice(-EMBED_LATEST);
  const figures = [...shown].reverse().map((p) => {
    let uri: string;
    try {
      uri = pictureDataUri(run.dir, p);
    } catch {
      return `<figure>${note(`${p.file} could not be read`)}</figure>`;
    }
    return `<figure><img src="${esc(uri)}" alt="${esc(p.file)}"><figcaption>${esc(caption(p))} · ${esc(p.file)}</figcaption></figure>`;
  });
  const rest = pictures.slice(0, pictures.length - shown.length);
  const links = rest.length
    ? `<p class="note">Older, not embedded: ${rest.map((p) => `<a href="${esc(p.file)}">${esc(caption(p))}</a>`).join(', ')}</p>`
    : '';
  return `<div class="gallery">${figures.join('\n')}</div>${links}`;
}

function picturesSection(run: RunData): string {
  const all = [...run.samples, ...run.components];
  const embedAll = all.reduce((n, p) => n + p.bytes, 0) <= EMBED_ALL_BYTES;
  const body = [
    '<h3>Samples</h3>',
    note('Model samples, one row per class, newest first.'),
    gallery(run, run.samples, embedAll),
    '<h3>Components</h3>',
    note('Per class: a sample, the bias, 1/precision and the mean weights, newest first.'),
    gallery(run, run.components, embedAll),
  ];
  return section('pictures', 'Pictures', body.join('\n'));
}

function workersSection(run: RunData): string {
  const s = run.status;
  if (!s) return '';
  const members = Array.isArray(s.members) ? s.members.map(record).filter((m) => m !== undefined) : [];
  const keys = [...new Set(members.flatMap((m) => Object.keys(m)))];
  const head = keyValueTable(Object.entries(s).filter(([k]) => k !== 'members'));
  const body = members.length ? table(keys, members.map((m) => keys.map((k) => textCell(m[k]))), { sortable: true }) : note('no workers listed');
  return section('workers', 'Workers (status.json)', head + body);
}

function configSection(run: RunData): string {
  if (!run.config) return section('config', 'Configuration', note(run.configProblem ?? 'no config.json'));
  return section('config', 'Configuration', note('Every setting of the run (config.json).') + settingsGrid(flatten(run.config)));
}

/** The run report page of `dir` as HTML (what {@link writeRunReport} writes). */
export function runReportHtml(dir: string): string {
  const run = readRunData(dir);
  const sections = [engineSection(run), lossSection(run), evalSection(run), picturesSection(run), workersSection(run), configSection(run)].filter(Boolean);
  const nav = [['engine', 'Engine'], ['losses', 'Losses'], ['eval', 'Log-likelihood'], ['pictures', 'Pictures'], ['workers', 'Workers'], ['config', 'Configuration']]
    .filter(([id]) => sections.some((s) => s.startsWith(`<section id="${id}"`)))
    .map(([id, label]) => `<a href="#${id}">${label}</a>`);
  const files = ['config.json', 'metrics.csv', 'loss.png'].map((f) => `<a href="${f}">${f}</a>`);
  const header = [
    `<h1>Run ${esc(run.name)}</h1>`,
    `<div class="path">${esc(run.dir)}</div>`,
    statusLine(run),
    `<nav>${nav.join('')} · files: ${files.join(' ')}</nav>`,
  ].join('\n');
  return page({
    title: `nbm run ${run.name}`,
    header,
    main: sections.join('\n'),
    footer: `nbm run report, written ${new Date().toISOString()}; self-contained (no network), pictures embedded.`,
  });
}

/**
 * Writes `dir/report.html`, the run's report page, atomically (readers see the old page or the new one). It
 * renders whatever `dir` holds so far, so it may be called at any time during or after training: a run with no
 * metrics rows or pictures yet gets a page that says so. Throws only when the file cannot be written.
 */
export function writeRunReport(dir: string): void {
  atomicWriteFileSync(join(dir, 'report.html'), runReportHtml(dir));
}
