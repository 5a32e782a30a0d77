/**
 * A sweep's report page, `DIR/report.html`: the best configuration, a sortable table of the trials with links to
 * their own report pages, every trial's learning curve on one plot, the metric against the swept setting, and
 * the sweep's settings, in one self-contained file (see page.ts).
 */
import { existsSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { atomicWriteFileSync } from '@nbm/checkpoint';
import { esc, flatten, formatValue, keyValueTable, note, section, settingsGrid, table, textCell, type Cell } from './html.ts';
import { page } from './page.ts';
import { bestSoFar, lastMetric, readSweepData, type SweepData, type SweepDimension, type SweepTrial } from './sweep-data.ts';
import { svgLinePlot, type SvgSeries } from './svg-plot.ts';

const VAL_METRICS = ['val_nll', 'val_mse_bias', 'val_cd', 'val_mse_var'];

/** The trial's report page, relative to the sweep directory, as a URL path. */
function trialHref(data: SweepData, t: SweepTrial): string {
  const rel = relative(data.dir, resolve(data.dir, t.dir, 'report.html')).split(sep).join('/');
  return encodeURI(rel);
}

function settingsText(data: SweepData, t: SweepTrial): string {
  return data.dimensions.map((d) => `${d.flag}=${formatValue(t.settings[d.flag])}`).join(' ');
}

function stateBadge(state: string): string {
  return `<span class="state state-${esc(state.replace(/[^a-z]/gi, ''))}">${esc(state)}</span>`;
}

function trialLink(data: SweepData, t: SweepTrial): string {
  const written = existsSync(resolve(data.dir, t.dir, 'report.html'));
  return `<a href="${esc(trialHref(data, t))}">${esc(t.id)}</a>${written ? '' : ' <span class="note">(no report yet)</span>'}`;
}

function trialsSection(data: SweepData, best: SweepTrial | undefined): string {
  const { sweep } = data;
  const metric = sweep.metric;
  const others = VAL_METRICS.filter((m) => m !== metric && sweep.trials.some((t) => t.metrics.some((e) => typeof e[m] === 'number')));
  const maxEpochs = sweep.scheduler?.maxEpochs;
  const headers = ['trial', ...data.dimensions.map((d) => d.flag), 'state', 'epochs', `${metric} (last val)`, ...others, 'attempts', 'error'];
  const rows: Cell[][] = sweep.trials.map((t) => {
    const epochs = t.metrics.at(-1)?.epoch ?? 0;
    const running = t.state === 'running' || t.state === 'queued';
    const target = running ? `/${formatValue(t.target ?? maxEpochs)}` : '';
    const m = lastMetric(t, metric);
    return [
      { html: trialLink(data, t), sort: t.id },
      ...data.dimensions.map((d) => textCell(t.settings[d.flag])),
      { html: stateBadge(t.state), sort: t.state },
      { html: esc(`${epochs}${target}`), sort: epochs },
      { html: `<b>${esc(Number.isNaN(m) ? '' : formatValue(m))}</b>`, sort: Number.isFinite(m) ? m : '' },
      ...others.map((o) => textCell(t.metrics.at(-1)?.[o])),
      textCell(t.attempts),
      { html: t.error ? `<span class="error">${esc(t.error)}</span>` : '', sort: t.error ?? '' },
    ];
  });
  const rowClasses = sweep.trials.map((t) => (t === best ? 'best' : undefined));
  const html = table(headers, rows, { sortable: true, id: 'trials', rowClasses });
  const counts = new Map<string, number>();
  for (const t of sweep.trials) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  const summary = `${sweep.trials.length} trials: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}. Click a column header to sort; the best trial is shaded.`;
  return section('trials', 'Trials', note(summary) + `<div class="scroll">${html}</div>`);
}

function curvesSection(data: SweepData): string {
  const { sweep } = data;
  const shown = sweep.trials.filter((t) => t.state !== 'diverged');
  const series: SvgSeries[] = shown.map((t) => ({
    name: `${t.id} ${settingsText(data, t)}`,
    x: t.metrics.map((e) => e.epoch),
    y: t.metrics.map((e) => (typeof e[sweep.metric] === 'number' ? e[sweep.metric] : NaN)),
    markers: true,
  }));
  const legendLines = Math.ceil(series.length / 4);
  const plot = svgLinePlot({
    id: 'plot-curves',
    title: `${sweep.metric} at each validation, one line per trial`,
    xLabel: 'epoch',
    integerX: true,
    yLabel: sweep.metric,
    height: 340 + 18 * Math.max(0, legendLines - 1),
    series,
    empty: 'no trial has validated yet',
  });
  const diverged = sweep.trials.length - shown.length;
  const hint = diverged ? note(`${diverged} diverged trial(s) left out: their numbers would swamp the others' scale.`) : '';
  return section('curves', 'Learning curves', hint + plot);
}

/** The swept numeric dimension the metric is plotted against: lr when swept, else the first numeric one. */
function xDimension(data: SweepData): SweepDimension | undefined {
  const numeric = data.dimensions.filter((d) => data.sweep.trials.every((t) => typeof t.settings[d.flag] === 'number'));
  return numeric.find((d) => d.flag === 'lr') ?? numeric[0];
}

function againstSection(data: SweepData): string {
  const d = xDimension(data);
  if (!d) return '';
  const { sweep } = data;
  const trials = sweep.trials.filter((t) => t.state !== 'diverged').sort((a, b) => (a.settings[d.flag] as number) - (b.settings[d.flag] as number));
  const x = trials.map((t) => t.settings[d.flag] as number);
  const y = trials.map((t) => lastMetric(t, sweep.metric));
  const positive = x.length > 0 && x.every((v) => v > 0);
  const spec = d.spec?.type;
  const logX = positive && (spec === 'log' || spec === 'logrand' || Math.max(...x) / Math.min(...x) >= 20);
  const plot = svgLinePlot({
    id: 'plot-against',
    title: `${sweep.metric} at each trial's last validation against --${d.flag}`,
    xLabel: d.flag,
    yLabel: sweep.metric,
    height: 300,
    logX,
    series: [{ name: `${sweep.metric} (last val)`, x, y, pointsOnly: data.dimensions.length > 1 }],
    empty: 'no trial has validated yet',
  });
  return section('against', `${sweep.metric} against ${d.flag}`, plot);
}

function bestSection(data: SweepData, best: SweepTrial | undefined): string {
  const { sweep } = data;
  if (!best) return section('best', 'Best configuration', note(`no trial has a finite ${sweep.metric} yet`));
  const last = best.metrics.at(-1)!;
  const summary: Array<[string, unknown]> = [
    ['trial', best.id],
    ...data.dimensions.map((d): [string, unknown] => [`--${d.flag}`, best.settings[d.flag]]),
    [sweep.metric, lastMetric(best, sweep.metric)],
    ['at epoch', last.epoch],
    ['state', best.state],
  ];
  const fromBestJson = data.best && data.best.trial === best.id;
  if (fromBestJson && typeof data.best!.how === 'string') summary.push(['how', data.best!.how]);
  const config = fromBestJson && data.best!.config && typeof data.best!.config === 'object' ? (data.best!.config as Record<string, unknown>) : best.config;
  const rest = config ? Object.fromEntries(Object.entries(config).filter(([k]) => k !== 'out')) : undefined;
  const body = [
    `<p><a href="${esc(trialHref(data, best))}">${esc(best.id)}'s report</a>${sweep.finished ? '' : ' <span class="note">(best so far: the sweep has not finished)</span>'}</p>`,
    keyValueTable(summary),
    rest ? `<details><summary>its whole training configuration</summary>${settingsGrid(flatten(rest))}</details>` : '',
  ];
  return section('best', 'Best configuration', body.join('\n'));
}

/** The training settings every trial shares (the swept ones and `out` differ). */
function sharedConfig(trials: readonly SweepTrial[]): Array<[string, unknown]> {
  const configs = trials.map((t) => t.config).filter((c): c is Record<string, unknown> => !!c && typeof c === 'object');
  if (configs.length === 0) return [];
  return Object.entries(configs[0]).filter(([k, v]) => k !== 'out' && configs.every((c) => JSON.stringify(c[k]) === JSON.stringify(v)));
}

function settingsSection(data: SweepData): string {
  const { sweep } = data;
  const general: Array<[string, unknown]> = [
    ['metric (minimised)', sweep.metric],
    ...flatten(sweep.scheduler ?? {}).map(([k, v]): [string, unknown] => [`scheduler.${k}`, v]),
    ['diverge above', sweep.divergeAbove],
    ['space seed', sweep.space?.seed],
    ['created', sweep.createdAt],
    ['updated', sweep.updatedAt],
    ['finished', sweep.finished],
  ];
  const dims = table(
    ['flag', 'type', 'values asked for', 'specification'],
    data.dimensions.map((d) => [textCell(`--${d.flag}`), textCell(d.kind), textCell(d.text), textCell(d.spec)]),
  );
  const shared = sharedConfig(sweep.trials);
  const body = [
    keyValueTable(general.filter(([, v]) => v !== undefined)),
    '<h3>Search space</h3>',
    dims,
    Array.isArray(sweep.argv) ? `<h3>Command line</h3><pre>${esc(['nbm', 'sweep', ...sweep.argv].join(' '))}</pre>` : '',
    shared.length ? `<h3>Training settings shared by every trial</h3>${settingsGrid(shared)}` : '',
  ];
  return section('settings', 'Sweep settings', body.join('\n'));
}

/** The sweep report page of `dir` as HTML (what {@link writeSweepReport} writes). */
export function sweepReportHtml(dir: string): string {
  const data = readSweepData(dir);
  const { sweep } = data;
  const best = bestSoFar(sweep.trials, sweep.metric);
  const status: string[] = [
    `<span><b>${sweep.finished ? 'finished' : 'in progress'}</b></span>`,
    `<span><b>trials</b> ${sweep.trials.length}</span>`,
    `<span><b>metric</b> ${esc(sweep.metric)} (lower is better)</span>`,
    best ? `<span><b>best</b> ${esc(`${best.id} ${settingsText(data, best)}: ${formatValue(lastMetric(best, sweep.metric))}`)}</span>` : '',
    sweep.updatedAt ? `<span><b>updated</b> ${esc(sweep.updatedAt)}</span>` : '',
  ];
  const sections = [bestSection(data, best), trialsSection(data, best), curvesSection(data), againstSection(data), settingsSection(data)].filter(Boolean);
  const nav = [['best', 'Best'], ['trials', 'Trials'], ['curves', 'Learning curves'], ['against', 'Metric against setting'], ['settings', 'Settings']]
    .filter(([id]) => sections.some((s) => s.startsWith(`<section id="${id}"`)))
    .map(([id, label]) => `<a href="#${id}">${label}</a>`);
  const files = ['sweep.json', 'sweep.csv', 'best.json', 'sweep.png'].filter((f) => existsSync(join(data.dir, f))).map((f) => `<a href="${f}">${f}</a>`);
  const header = [
    `<h1>Sweep ${esc(sweep.name ?? '')}</h1>`,
    `<div class="path">${esc(data.dir)}</div>`,
    `<div class="status" id="status">${status.join('')}</div>`,
    `<nav>${nav.join('')}${files.length ? ` · files: ${files.join(' ')}` : ''}</nav>`,
  ].join('\n');
  return page({
    title: `nbm sweep ${sweep.name ?? ''}`,
    header,
    main: sections.join('\n'),
    footer: `nbm sweep report, written ${new Date().toISOString()}; self-contained (no network); each trial's page is in its run directory.`,
  });
}

/**
 * Writes `dir/report.html`, the sweep's report page, atomically. It may be called at any time (after each
 * event, or once at the end): it shows the sweep as sweep.json has it, with links to each trial's
 * `trials/tNNN/report.html` (written by `writeRunReport` in the trial's run directory). Throws when `dir`
 * holds no readable sweep.json, or when the file cannot be written.
 */
export function writeSweepReport(dir: string): void {
  atomicWriteFileSync(join(dir, 'report.html'), sweepReportHtml(dir));
}
