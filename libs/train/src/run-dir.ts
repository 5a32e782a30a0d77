/**
 * A run on disk (docs/run-on-disk.md#a-run-directory): config.json, metrics.csv (and its rows as TensorBoard scalars in
 * tensorboard/), checkpoints/, samples/, components/, loss.png.
 * Every file is written atomically; metrics.csv is append-only, and a resume first cuts it back to the
 * checkpoint it restarts from, so the finished file reads as if the run had never stopped.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, appendFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { DIR_LOCK, atomicWriteFileSync, lockDirectory, type Lock } from '@nbm/checkpoint';
import { ScalarEventWriter } from '@nbm/report';
import { ConfigError } from './config.ts';

export const METRIC_COLUMNS = [
  'kind', 'epoch', 'step', 'cd_loss', 'mse_bias', 'mse_var', 'skipped', 'examples',
  'samples_per_s', 'compute_ms', 'reduce_ms', 'world_size', 'wall_s', 'loglik_nats',
] as const;
export type MetricColumn = (typeof METRIC_COLUMNS)[number];
/** One metrics.csv row; `loglik_nats` is only on `eval` rows (--eval-every). */
export type MetricRow = Omit<Record<MetricColumn, string | number>, 'loglik_nats'> & { loglik_nats?: number };
/** Columns that measure time: they differ between two runs of the same trajectory. */
export const TIMING_COLUMNS: readonly MetricColumn[] = ['samples_per_s', 'compute_ms', 'reduce_ms', 'wall_s'];

export const paths = (dir: string) => ({
  config: join(dir, 'config.json'),
  metrics: join(dir, 'metrics.csv'),
  checkpoints: join(dir, 'checkpoints'),
  samples: join(dir, 'samples'),
  components: join(dir, 'components'),
  loss: join(dir, 'loss.png'),
  log: join(dir, 'train.log'),
  status: join(dir, 'status.json'),
  tensorboard: join(dir, 'tensorboard'),
});

/** One writer per run directory (see `lockDirectory`). */
export function lockRunDir(dir: string): Promise<Lock> {
  return lockDirectory(dir, `another nbm process is training ${dir}: let it finish or stop it, or choose another --out`);
}

/** Creates a new run directory; refuses one that already holds a run. */
export function createRunDir(dir: string, config: object): void {
  const p = paths(dir);
  if (existsSync(p.config)) throw new ConfigError(`run directory ${dir} already holds a run: continue it with --resume ${dir}, or choose another --out`);
  if (existsSync(dir) && readdirSync(dir).some((f) => f !== DIR_LOCK)) throw new ConfigError(`--out ${dir} exists and is not empty: choose another --out`);
  mkdirSync(p.checkpoints, { recursive: true });
  mkdirSync(p.samples, { recursive: true });
  mkdirSync(p.components, { recursive: true });
  atomicWriteFileSync(p.metrics, METRIC_COLUMNS.join(',') + '\n');
  // config.json last: its presence is what marks the directory as a run
  atomicWriteFileSync(p.config, JSON.stringify(config, null, 2) + '\n');
}

export function readRunConfig(dir: string): Record<string, unknown> {
  const p = paths(dir).config;
  if (!existsSync(p)) throw new Error(`--resume ${dir}: no config.json there, so it is not a run directory`);
  try {
    return JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new Error(`--resume ${dir}: config.json does not parse (${(e as Error).message})`);
  }
}

function formatCell(v: string | number): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  return Number.isFinite(v) ? v.toPrecision(9) : String(v);
}

export function appendMetrics(dir: string, rows: readonly MetricRow[]): void {
  if (rows.length === 0) return;
  const text = rows.map((r) => METRIC_COLUMNS.map((c) => (r[c] === undefined ? '' : formatCell(r[c]!))).join(',')).join('\n') + '\n';
  const file = paths(dir).metrics;
  appendFileSync(file, text);
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The metrics.csv columns of each row kind that go to TensorBoard, as the scalar `<kind>/<column>`. */
const BOARD_COLUMNS: Readonly<Record<string, readonly MetricColumn[]>> = {
  train: ['cd_loss', 'mse_bias', 'mse_var', 'samples_per_s'],
  val: ['cd_loss', 'mse_bias', 'mse_var'],
  eval: ['loglik_nats'],
};

/** A row's TensorBoard scalars: its numeric, finite cells of BOARD_COLUMNS. */
export function boardScalars(row: MetricRow): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of BOARD_COLUMNS[String(row.kind)] ?? []) {
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
      this.writer ??= ScalarEventWriter.open(paths(this.dir).tensorboard);
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

export function readMetrics(dir: string): Array<Record<string, string>> {
  const lines = readFileSync(paths(dir).metrics, 'utf8').split('\n').filter((l) => l.length > 0);
  const header = lines[0].split(',');
  return lines.slice(1).map((l) => {
    const cells = l.split(',');
    return Object.fromEntries(header.map((h, i) => [h, cells[i]]));
  });
}

/** Cuts metrics.csv back to the rows logged up to `globalStep` (a resume restarts from there). */
/**
 * Cuts metrics.csv back to the rows a resume from `globalStep` keeps. A resume from inside an epoch also drops the
 * `val` row its segment ended with: the resumed run goes on past that step, as a run that never stopped did.
 */
export function truncateMetrics(dir: string, globalStep: number, insideEpoch: boolean): void {
  const file = paths(dir).metrics;
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

/** Checkpoint file names: epoch-NNN.safetensors at epoch ends, step-NNNNNNNN.safetensors in between. */
export const epochCheckpointName = (epoch: number) => `epoch-${String(epoch).padStart(3, '0')}.safetensors`;
export const stepCheckpointName = (step: number) => `step-${String(step).padStart(8, '0')}.safetensors`;
export const picturesName = (epoch: number) => `epoch-${String(epoch).padStart(3, '0')}.png`;
/** Pictures of a run that ended inside an epoch (--max-steps, a stop request): named by the global step. */
export const stepPicturesName = (step: number) => `step-${String(step).padStart(8, '0')}.png`;

export function listCheckpoints(dir: string): string[] {
  const d = paths(dir).checkpoints;
  if (!existsSync(d)) return [];
  return readdirSync(d).filter((f) => /^(epoch-\d+|step-\d+)\.safetensors$/.test(f)).map((f) => join(d, f));
}
