/**
 * One job of a sweep: train a trial's run directory up to a number of epochs, continuing from its latest
 * checkpoint when the directory holds a run, and return the validation numbers of every completed epoch.
 * Divergence is an answer, not an error. A worker runs it with the steps in its own process (the default);
 * the sweep's coordinator runs it for a data-parallel trial with the steps on a group of workers.
 */
import { existsSync, rmSync } from 'node:fs';
import { isTrainingDiverged, readMetrics, runPaths, train, type ExecutorFactory, type OutputStream, type TrainConfig } from '@nbm/train';
import type { EpochMetrics, MetricName } from './metric.ts';
import { validationNll } from './nll.ts';
import { acquireLock, type LockOptions } from '@nbm/checkpoint';
import { yieldingExecutor } from './yielding-executor.ts';

/** Arguments of the `trialEpochs` worker method. */
export interface TrialEpochsCall {
  /** the trial's run directory (absolute, or relative to the worker's working directory) */
  readonly trialDir: string;
  /** the trial's training configuration (`epochs` and `out` are replaced) */
  readonly config: TrainConfig;
  /** train until this many epochs are complete */
  readonly epochs: number;
  readonly metric: MetricName;
  /** epochs whose numbers the coordinator has already: val_nll is computed only after these */
  readonly knownEpochs: number;
}

/** What `trialEpochs` answers. */
export interface TrialEpochsResult {
  /** the validation numbers of every completed epoch, in order (val_nll only after `knownEpochs`) */
  readonly epochs: EpochMetrics[];
  /** true when the run stopped before `epochs` because its --max-steps ran out */
  readonly exhausted: boolean;
  /** set when training diverged (NaN/Inf on too many steps in a row): why */
  readonly diverged?: string;
}

export interface TrialRunOptions {
  /** aborted when the coordinator abandons the call */
  readonly signal?: AbortSignal;
  readonly lock?: LockOptions;
  /** where training's log lines go (default stderr: a spawned worker's go to the sweep's workers.log) */
  readonly stream?: OutputStream;
  /** what runs the steps (default: this process); it is wrapped to yield, honour `signal` and keep the lock */
  readonly executor?: ExecutorFactory;
}

function checkCall(c: TrialEpochsCall): void {
  if (!c || typeof c.trialDir !== 'string' || c.trialDir === '') throw new TypeError('trialEpochs: trialDir must name the trial\'s run directory');
  if (!c.config || typeof c.config !== 'object') throw new TypeError('trialEpochs: config must be a training configuration');
  if (!Number.isInteger(c.epochs) || c.epochs < 1) throw new TypeError(`trialEpochs: epochs must be a positive integer, got ${c.epochs}`);
  if (!Number.isInteger(c.knownEpochs) || c.knownEpochs < 0) throw new TypeError(`trialEpochs: knownEpochs must be a non-negative integer, got ${c.knownEpochs}`);
}

/** The `kind=val` rows of a run's metrics.csv, one per epoch (the last row of an epoch wins). */
export function validationRows(dir: string): EpochMetrics[] {
  if (!existsSync(runPaths(dir).metrics)) return [];
  const byEpoch = new Map<number, EpochMetrics>();
  for (const r of readMetrics(dir)) {
    if (r.kind !== 'val') continue;
    const epoch = Number(r.epoch);
    byEpoch.set(epoch, { epoch, val_cd: Number(r.cd_loss), val_mse_bias: Number(r.mse_bias), val_mse_var: Number(r.mse_var) });
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/**
 * Trains the trial in `call.trialDir` to `call.epochs` epochs under its lock and returns every epoch's
 * validation numbers.
 * @throws LockedError when another process keeps the trial; the training's own errors except divergence
 */
export async function runTrialEpochs(call: TrialEpochsCall, o: TrialRunOptions = {}): Promise<TrialEpochsResult> {
  checkCall(call);
  const dir = call.trialDir;
  const lock = await acquireLock(`${dir.replace(/\/+$/, '')}.lock`, { signal: o.signal, what: 'another worker is still training this trial', ...o.lock });
  try {
    const paths = runPaths(dir);
    // a start that died before config.json was written left a directory without progress in it
    if (existsSync(dir) && !existsSync(paths.config)) rmSync(dir, { recursive: true, force: true });
    const config: TrainConfig = { ...call.config, epochs: call.epochs, out: dir };
    let diverged: string | undefined;
    try {
      await train({ config, resume: existsSync(paths.config), quiet: true, stream: o.stream, executor: yieldingExecutor({ signal: o.signal, onTick: () => lock.refresh(), inner: o.executor }) });
    } catch (e) {
      if (!isTrainingDiverged(e)) throw e;
      diverged = (e as Error).message;
    }
    const rows = validationRows(dir).filter((r) => r.epoch <= call.epochs);
    const epochs: EpochMetrics[] = [];
    for (const r of rows) {
      if (call.metric === 'val_nll' && r.epoch > call.knownEpochs && Number.isFinite(r.val_cd)) {
        epochs.push({ ...r, val_nll: await validationNll(dir, r.epoch, call.config.valExamples, o.signal) });
      } else epochs.push(r);
    }
    const done = rows.length ? rows[rows.length - 1].epoch : 0;
    return { epochs, exhausted: diverged === undefined && done < call.epochs, ...(diverged !== undefined ? { diverged } : {}) };
  } finally {
    lock.release();
  }
}
