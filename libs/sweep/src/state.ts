/**
 * A sweep on disk: `sweeps/NAME/sweep.json` holds the specification and every trial's state, rewritten
 * atomically (temporary file, fsync, rename) after each event; `trials/tNNN/` is each trial's run directory.
 * sweep.json is the only state a resumed sweep needs: the trials' own progress lives in their checkpoints.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFileSync } from '@nbm/checkpoint';
import type { TrainConfig } from '@nbm/train';
import type { SchedulerState } from './asha.ts';
import { METRICS, type EpochMetrics, type MetricName } from './metric.ts';
import type { Dimension, Settings } from './space.ts';

export const SWEEP_FORMAT = 'nbm-sweep/1';

/** The default of {@link SweepFile.divergeAbove}: no validation loss of a working model comes near it. */
export const DEFAULT_DIVERGE_ABOVE = 1e10;

/** Which scheduler a sweep uses, with its options. */
export type SchedulerSpec =
  | { readonly kind: 'asha'; readonly reductionFactor: number; readonly gracePeriod: number; readonly maxEpochs: number }
  | { readonly kind: 'none'; readonly maxEpochs: number };

/**
 * A trial's state:
 * - `pending`: not started; `queued`: its job waits for a worker (it lost one, or the sweep was resumed);
 * - `running`: a worker trains it; `paused`: it waits in an ASHA rung for a promotion;
 * - `completed`: it trained to the last epoch; `stopped`: ASHA did not promote it (final);
 * - `diverged`: NaN/Inf; `failed`: an error other than divergence (the message is in `error`).
 */
export type TrialState = 'pending' | 'queued' | 'running' | 'paused' | 'completed' | 'stopped' | 'diverged' | 'failed';

/** A trial whose job has been lost with its worker this many times is marked failed rather than retried. */
export const MAX_LOSSES = 3;

export const FINAL_STATES: readonly TrialState[] = ['completed', 'stopped', 'diverged', 'failed'];

export interface TrialRecord {
  readonly id: string;
  /** its run directory, relative to the sweep directory */
  readonly dir: string;
  /** the swept options' values, by flag */
  readonly settings: Settings;
  /** its full training configuration (`out` is the run directory as the sweep's workers see it) */
  readonly config: TrainConfig;
  state: TrialState;
  /** the epochs of its current or last job */
  target?: number;
  /** validation numbers of each completed epoch, in order */
  metrics: EpochMetrics[];
  /** jobs started for it (a lost worker's job counts; a resumed sweep's rerun too) */
  attempts: number;
  /** jobs of it lost with their worker (a trial that keeps killing its workers fails at {@link MAX_LOSSES}) */
  losses?: number;
  /** the worker that has (or last had) it, e.g. `w2 host pid 1234` */
  worker?: string;
  error?: string;
  startedAt?: string;
  endedAt?: string;
}

export interface SweepFile {
  readonly format: typeof SWEEP_FORMAT;
  readonly name: string;
  readonly createdAt: string;
  updatedAt: string;
  /** the sweep's command-line arguments, for the record */
  readonly argv: readonly string[];
  readonly metric: MetricName;
  /** a finite metric whose magnitude is above this is an exploding loss: the trial diverged */
  readonly divergeAbove: number;
  readonly scheduler: SchedulerSpec;
  readonly space: { readonly seed: number; readonly dimensions: readonly Dimension[] };
  readonly trials: TrialRecord[];
  schedulerState?: SchedulerState;
  /** true once every trial is final and the outputs are written */
  finished: boolean;
}

/** A sweep directory that cannot be created or read; the message says what to do. */
export class SweepDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepDirError';
  }
}

export const sweepPaths = (dir: string) => ({
  json: join(dir, 'sweep.json'),
  csv: join(dir, 'sweep.csv'),
  best: join(dir, 'best.json'),
  png: join(dir, 'sweep.png'),
  trials: join(dir, 'trials'),
  workersLog: join(dir, 'workers.log'),
});

/** Writes sweep.json atomically. */
export function saveSweep(dir: string, sweep: SweepFile): void {
  sweep.updatedAt = new Date().toISOString();
  atomicWriteFileSync(sweepPaths(dir).json, JSON.stringify(sweep, null, 2) + '\n');
}

/** Creates a new sweep directory with its sweep.json; refuses a directory that holds a sweep or anything else. */
export function createSweepDir(dir: string, sweep: SweepFile): void {
  const p = sweepPaths(dir);
  if (existsSync(p.json)) throw new SweepDirError(`${dir} already holds a sweep: continue it with --resume ${dir}, or choose another --out`);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new SweepDirError(`--out ${dir} exists and is not empty: choose another --out`);
  mkdirSync(p.trials, { recursive: true });
  saveSweep(dir, sweep);
}

/** Reads and checks sweep.json. */
export function loadSweep(dir: string): SweepFile {
  const file = sweepPaths(dir).json;
  if (!existsSync(file)) throw new SweepDirError(`--resume ${dir}: no sweep.json there, so it is not a sweep directory`);
  let j: SweepFile;
  try {
    j = JSON.parse(readFileSync(file, 'utf8')) as SweepFile;
  } catch (e) {
    throw new SweepDirError(`${file} does not parse (${(e as Error).message})`);
  }
  const bad = (what: string) => new SweepDirError(`${file}: ${what}`);
  if (j?.format !== SWEEP_FORMAT) throw bad(`format ${JSON.stringify(j?.format)}, expected ${SWEEP_FORMAT}`);
  if (!METRICS.includes(j.metric)) throw bad(`unknown metric ${JSON.stringify(j.metric)}`);
  if (!(typeof j.divergeAbove === 'number' && j.divergeAbove > 0)) throw bad(`divergeAbove must be a positive number, got ${JSON.stringify(j.divergeAbove)}`);
  if (!j.scheduler || (j.scheduler.kind !== 'asha' && j.scheduler.kind !== 'none')) throw bad('no valid scheduler');
  if (!Array.isArray(j.trials) || j.trials.length === 0) throw bad('no trials');
  for (const t of j.trials) {
    if (typeof t?.id !== 'string' || typeof t.dir !== 'string' || !t.config || !Array.isArray(t.metrics)) throw bad(`a malformed trial record ${JSON.stringify(t?.id)}`);
  }
  return j;
}
