/**
 * A new sweep: expands the search space into trials, gives each an id and a run directory, resolves its
 * training configuration, checks the scheduler, and writes sweep.json. Nothing trains yet (runSweep does).
 */
import { join } from 'node:path';
import { validateConfig, type TrainConfig } from '@nbm/train';
import { ashaMilestones } from './asha.ts';
import type { MetricName } from './metric.ts';
import { expandSpace, trialId, type SearchSpace, type Settings } from './space.ts';
import { createSweepDir, DEFAULT_DIVERGE_ABOVE, SWEEP_FORMAT, type SchedulerSpec, type SweepFile, type TrialRecord } from './state.ts';

export interface SweepPlan {
  /** the sweep's name (default: the directory's last part) */
  readonly name?: string;
  /** the command line, for the record */
  readonly argv?: readonly string[];
  readonly metric: MetricName;
  /** |metric| above this counts as divergence (default {@link DEFAULT_DIVERGE_ABOVE}) */
  readonly divergeAbove?: number;
  readonly scheduler: SchedulerSpec;
  readonly space: SearchSpace;
  /**
   * A trial's full training configuration from its settings; `runDir` is its run directory. Its `epochs` is
   * replaced by the scheduler's maximum.
   */
  readonly configFor: (settings: Settings, runDir: string) => TrainConfig;
}

/**
 * Creates the sweep directory `dir` and its sweep.json.
 * @throws SpaceError, SchedulerError, ConfigError (a trial's configuration, named by its flag) or SweepDirError,
 *   all before anything is written
 */
export function createSweep(dir: string, plan: SweepPlan): SweepFile {
  if (plan.scheduler.kind === 'asha') ashaMilestones(plan.scheduler);
  else if (!Number.isInteger(plan.scheduler.maxEpochs) || plan.scheduler.maxEpochs < 1) throw new Error(`--epochs must be a positive integer for a sweep, got ${plan.scheduler.maxEpochs}`);
  const divergeAbove = plan.divergeAbove ?? DEFAULT_DIVERGE_ABOVE;
  if (!(divergeAbove > 0)) throw new Error(`--diverge-above must be a positive number, got ${divergeAbove}`);
  const all = expandSpace(plan.space);
  const trials: TrialRecord[] = all.map((settings, i) => {
    const id = trialId(i, all.length);
    const rel = join('trials', id);
    const config = { ...plan.configFor(settings, join(dir, rel)), epochs: plan.scheduler.maxEpochs };
    validateConfig(config);
    return { id, dir: rel, settings, config, state: 'pending', metrics: [], attempts: 0 };
  });
  const now = new Date().toISOString();
  const sweep: SweepFile = {
    format: SWEEP_FORMAT,
    name: plan.name ?? (dir.replace(/\/+$/, '').split('/').pop() || 'sweep'),
    createdAt: now,
    updatedAt: now,
    argv: plan.argv ?? [],
    metric: plan.metric,
    divergeAbove,
    scheduler: plan.scheduler,
    space: { seed: plan.space.seed, dimensions: plan.space.dimensions },
    trials,
    finished: false,
  };
  createSweepDir(dir, sweep);
  return sweep;
}
