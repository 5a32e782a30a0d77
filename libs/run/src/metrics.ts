/**
 * metrics.csv: one row per logged training step (`train`), validation (`val`) and held-out evaluation (`eval`).
 * The file is append-only (each append is fsynced); a resume first cuts it back to the checkpoint it restarts
 * from, so the finished file reads as if the run had never stopped. The same rows also go to TensorBoard
 * (`MetricsBoard`).
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import { atomicWriteFileSync } from '@nbm/checkpoint';
import { ScalarEventWriter } from '@nbm/report';
import { runPaths } from './layout.ts';

export const METRIC_COLUMNS = [
  'kind', 'epoch', 'step', 'cd_loss', 'mse_bias', 'mse_var', 'skipped', 'examples',
  'samples_per_s', 'compute_ms', 'reduce_ms', 'world_size', 'wall_s', 'loglik_nats',
] as const;
export type MetricColumn = (typeof METRIC_COLUMNS)[number];
export type MetricKind = 'train' | 'val' | 'eval';
/** One metrics.csv row as written; `loglik_nats` is only on `eval` rows (--eval-every). */
export type MetricRow = Omit<Record<MetricColumn, string | number>, 'loglik_nats' | 'kind'> & { kind: MetricKind; loglik_nats?: number };
/** Columns that measure time: they differ between two runs of the same trajectory. */
export const TIMING_COLUMNS: readonly MetricColumn[] = ['samples_per_s', 'compute_ms', 'reduce_ms', 'wall_s'];

/**
 * Appends rows to the run's metrics.csv and fsyncs it. Numbers are written in JavaScript's shortest round-trip
 * form, so a row read back is the row written (a watcher of the run and a reader of the file see the same values).
 */
export function appendMetrics(dir: string, rows: readonly MetricRow[]): void {
  if (rows.length === 0) return;
  const text = rows.map((r) => METRIC_COLUMNS.map((c) => (r[c] === undefined ? '' : String(r[c]))).join(',')).join('\n') + '\n';
  const file = runPaths(dir).metrics;
  appendFileSync(file, text);
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The rows of metrics.csv as text cells keyed by column (none when the run has no metrics.csv yet). */
export function readMetrics(dir: string): Array<Record<string, string>> {
  const file = runPaths(dir).metrics;
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
  const header = lines[0].split(',');
  return lines.slice(1).map((l) => {
    const cells = l.split(',');
    return Object.fromEntries(header.map((h, i) => [h, cells[i]]));
  });
}

/** One epoch's validation: the numbers of its `val` row. */
export interface ValidationRecord {
  readonly epoch: number;
  readonly step: number;
  readonly cdLoss: number;
  readonly mseBias: number;
  readonly mseVar: number;
}

/** The last validation of each epoch (at its end, or where a run stopped inside it), in epoch order: the last `val` row of an epoch wins. */
export function epochValidations(dir: string): ValidationRecord[] {
  const byEpoch = new Map<number, ValidationRecord>();
  for (const r of readMetrics(dir)) {
    if (r.kind !== 'val') continue;
    const epoch = Number(r.epoch);
    byEpoch.set(epoch, { epoch, step: Number(r.step), cdLoss: Number(r.cd_loss), mseBias: Number(r.mse_bias), mseVar: Number(r.mse_var) });
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/**
 * Cuts metrics.csv back to the rows a resume from `globalStep` keeps. A resume from inside an epoch also drops the
 * `val` row its segment ended with: the resumed run goes on past that step, as a run that never stopped did.
 */
export function truncateMetrics(dir: string, globalStep: number, insideEpoch: boolean): void {
  const file = runPaths(dir).metrics;
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
  const header = lines[0].split(',');
  const stepCol = header.indexOf('step');
  const kindCol = header.indexOf('kind');
  const keep = (cells: string[]) => {
    const step = Number(cells[stepCol]);
    return step < globalStep || (step === globalStep && !(insideEpoch && cells[kindCol] === 'val'));
  };
  const kept = [lines[0], ...lines.slice(1).filter((l) => keep(l.split(',')))];
  atomicWriteFileSync(file, kept.join('\n') + '\n');
}

/** The metrics.csv columns of each row kind that go to TensorBoard, as the scalar `<kind>/<column>`. */
const BOARD_COLUMNS: Readonly<Record<MetricKind, readonly MetricColumn[]>> = {
  train: ['cd_loss', 'mse_bias', 'mse_var', 'samples_per_s'],
  val: ['cd_loss', 'mse_bias', 'mse_var'],
  eval: ['loglik_nats'],
};

/** A row's TensorBoard scalars: its numeric, finite cells of BOARD_COLUMNS. */
export function boardScalars(row: MetricRow): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of BOARD_COLUMNS[row.kind] ?? []) {
    const v = row[c];
    if (typeof v === 'number' && Number.isFinite(v)) out[`${row.kind}/${c}`] = v;
  }
  return out;
}

/**
 * The rows of metrics.csv also as TensorBoard scalars (`tensorboard --logdir runs/`): each row appended is written
 * at global step `row.step` to an events file in `tensorboard/`, which the first row opens. A resumed run opens a
 * new file beside the earlier ones (see `ScalarEventWriter`). The scalars are a convenience: a failure to write
 * them never fails the run. It is reported once through `warn`, and the run goes on without them.
 */
export class MetricsBoard {
  private writer: ScalarEventWriter | undefined;
  private failed = false;

  constructor(private readonly dir: string, private readonly warn: (line: string) => void) {}

  append(rows: readonly MetricRow[]): void {
    if (this.failed || rows.length === 0) return;
    try {
      this.writer ??= ScalarEventWriter.open(runPaths(this.dir).tensorboard);
      for (const r of rows) this.writer.add(Number(r.step), boardScalars(r));
    } catch (e) {
      this.failed = true;
      this.warn(`warning: TensorBoard scalars not written from here on (${(e as Error).message}); metrics.csv is complete`);
      this.close();
    }
  }

  close(): void {
    const w = this.writer;
    this.writer = undefined;
    try {
      w?.close();
    } catch {
      // the scalars are a convenience; metrics.csv holds the rows
    }
  }
}
