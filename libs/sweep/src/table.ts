/**
 * The sweep's table: one row per trial (trial, each swept setting, epoch, metric, state), as plain text.
 * {@link formatTable} is pure; {@link LiveTable} shows it in a terminal, redrawn in place on a TTY and
 * printed every `intervalMs` otherwise.
 */
import { formatMetric, metricOf, type EpochMetrics, type MetricName } from './metric.ts';
import { rankTrials } from './rank.ts';
import { formatSetting } from './space.ts';
import type { SweepFile, TrialRecord } from './state.ts';

export interface TableOptions {
  /** rank order with a rank column (the final table) instead of trial order */
  readonly ranked?: boolean;
  /** trial id → its newest epoch while running (read from its metrics.csv), for the live view */
  readonly live?: ReadonlyMap<string, EpochMetrics>;
}

function row(t: TrialRecord, sweep: SweepFile, o: TableOptions): string[] {
  const maxEpochs = sweep.scheduler.maxEpochs;
  const known = t.metrics[t.metrics.length - 1];
  const live = t.state === 'running' ? o.live?.get(t.id) : undefined;
  const latest = live && (!known || live.epoch > known.epoch) ? live : known;
  const epoch = latest?.epoch ?? 0;
  const target = t.state === 'running' || t.state === 'queued' ? `/${t.target ?? maxEpochs}` : '';
  const state = t.state === 'failed' || t.state === 'diverged' ? `${t.state}${t.error ? `: ${t.error.split('\n')[0].slice(0, 60)}` : ''}` : t.state;
  return [
    t.id,
    ...sweep.space.dimensions.map((d) => (t.settings[d.flag] === undefined ? '' : formatSetting(t.settings[d.flag]))),
    `${epoch}${target}`,
    !latest ? '' : sweep.metric === 'val_nll' && latest.val_nll === undefined ? '…' : formatMetric(metricOf(latest, sweep.metric)),
    state,
  ];
}

/** The table as lines of text. */
export function formatTable(sweep: SweepFile, o: TableOptions = {}): string[] {
  const metric: MetricName = sweep.metric;
  const trials = o.ranked ? rankTrials(sweep.trials, metric) : sweep.trials;
  const header = ['trial', ...sweep.space.dimensions.map((d) => d.flag), 'epoch', metric, 'state'];
  const rows = trials.map((t) => row(t, sweep, o));
  if (o.ranked) {
    header.unshift('rank');
    rows.forEach((r, i) => r.unshift(String(i + 1)));
  }
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((v, c) => (c === cells.length - 1 ? v : v.padEnd(widths[c]))).join('  ').trimEnd();
  const counts = new Map<string, number>();
  for (const t of sweep.trials) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  const summary = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  return [line(header), ...rows.map(line), `${sweep.trials.length} trials: ${summary}`];
}

/** Shows the table on a stream: in place on a TTY, else at most once per `intervalMs` (and when forced). */
export class LiveTable {
  private shown = 0;
  private lastPrint = -Infinity;
  private lines: string[] = [];

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly intervalMs = 30_000,
  ) {}

  private get tty(): boolean {
    return Boolean(this.stream.isTTY);
  }

  private erase(): void {
    if (this.tty && this.shown > 0) this.stream.write(`\x1b[${this.shown}A\x1b[J`);
    this.shown = 0;
  }

  private draw(): void {
    const width = this.stream.columns ?? 0;
    const text = this.lines.map((l) => (width > 0 && l.length >= width ? l.slice(0, width - 1) : l));
    this.stream.write(text.join('\n') + '\n');
    this.shown = this.tty ? text.length : 0;
    this.lastPrint = performance.now();
  }

  /** New table contents; redrawn now on a TTY, else printed when `force` or `intervalMs` has passed. */
  update(lines: string[], force = false): void {
    this.lines = lines;
    if (this.tty) {
      this.erase();
      this.draw();
    } else if (force || performance.now() - this.lastPrint >= this.intervalMs) this.draw();
  }

  /** A log line above the table. */
  log(line: string): void {
    this.erase();
    this.stream.write(line + '\n');
    if (this.tty && this.lines.length) this.draw();
  }
}
