/**
 * One job of a sweep: train a trial's run directory up to a number of epochs, continuing from its latest
 * checkpoint when the directory holds a run, and return the validation numbers of every completed epoch.
 * Divergence is an answer, not an error. A worker runs it with the steps in its own process (the default);
 * the sweep's coordinator runs it for a data-parallel trial with the steps on a group of workers.
 */
import { existsSync, rmSync } from 'node:fs';
import { acquireLock, type LockOptions } from '@nbm/checkpoint';
import { epochValidations, isRunDir, type ValidationRecord } from '@nbm/run';
import { isTrainingDiverged, train, type ExecutorFactory, type OutputStream, type TrainConfig, type TrainHooks } from '@nbm/train';
import type { EpochMetrics, MetricName } from './metric.ts';
import { validationNll } from './nll.ts';
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

const epochMetrics = (v: ValidationRecord): EpochMetrics => ({ epoch: v.epoch, val_cd: v.cdLoss, val_mse_bias: v.mseBias, val_mse_var: v.mseVar });

/** The last validation of each epoch a trial's run directory records (at its end, or where a step budget stopped it). */
export const validationRows = (dir: string): EpochMetrics[] => epochValidations(dir).map(epochMetrics);

/** Collects the last validation of each epoch as training reports it (as {@link validationRows} reads them back). */
function epochWatcher(): { hooks: TrainHooks; seen: Map<number, EpochMetrics> } {
  const seen = new Map<number, EpochMetrics>();
  return {
    seen,
    hooks: {
      onValidation(_run, v) {
        seen.set(v.epoch, { epoch: v.epoch, val_cd: v.metrics.cdLoss, val_mse_bias: v.metrics.mseBias, val_mse_var: v.metrics.mseVar });
      },
    },
  };
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
    // a start that died before config.json was written left a directory without progress in it
    const resume = isRunDir(dir);
    if (existsSync(dir) && !resume) rmSync(dir, { recursive: true, force: true });
    // epochs an earlier call trained (it was lost before it answered) are in the run directory; this call's, in the watcher
    const earlier = resume ? validationRows(dir) : [];
    const watcher = epochWatcher();
    const config: TrainConfig = { ...call.config, epochs: call.epochs, out: dir };
    let diverged: string | undefined;
    try {
      await train({
        config, resume, quiet: true, stream: o.stream, hooks: [watcher.hooks],
        executor: yieldingExecutor({ signal: o.signal, onTick: () => lock.refresh(), inner: o.executor }),
      });
    } catch (e) {
      if (!isTrainingDiverged(e)) throw e;
      diverged = (e as Error).message;
    }
    const byEpoch = new Map([...earlier.map((r) => [r.epoch, r] as const), ...watcher.seen]);
    const rows = [...byEpoch.values()].filter((r) => r.epoch <= call.epochs).sort((a, b) => a.epoch - b.epoch);
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
