/**
 * @nbm/sweep: hyperparameter sweeps of NBM training on a worker pool.
 * - search spaces over any training option: lists, log/linear grids, seeded random draws ({@link parseSpace},
 *   {@link expandSpace});
 * - schedulers as pure objects: ASHA and `none` ({@link asha}, {@link noScheduler});
 * - a sweep directory (`sweep.json`, `trials/tNNN/`, `sweep.csv`, `best.json`, `sweep.png`) created by
 *   {@link createSweep} and run, or resumed after a crash, by {@link runSweep};
 * - the worker side: {@link sweepWorker}'s methods (merge them into a worker's table), or the standalone
 *   entry {@link SWEEP_WORKER_MAIN}.
 */
export {
  parseSpace,
  parseDimension,
  expandSpace,
  trialCount,
  gridValues,
  isSweepSpec,
  trialId,
  describeSettings,
  formatSetting,
  SpaceError,
  SPACE_STREAM,
  MAX_TRIALS,
  type SearchSpace,
  type Dimension,
  type DimensionSpec,
  type OptionKind,
  type SweepableOption,
  type Settings,
  type SettingValue,
} from './space.ts';
export {
  asha,
  noScheduler,
  ashaMilestones,
  RungScheduler,
  SchedulerError,
  type AshaOptions,
  type Decision,
  type Job,
  type Retirement,
  type SchedulerState,
} from './asha.ts';
export { METRICS, parseMetric, metricOf, formatMetric, type MetricName, type EpochMetrics } from './metric.ts';
export {
  SWEEP_FORMAT,
  DEFAULT_DIVERGE_ABOVE,
  FINAL_STATES,
  MAX_LOSSES,
  SweepDirError,
  loadSweep,
  saveSweep,
  sweepPaths,
  type SweepFile,
  type TrialRecord,
  type TrialState,
  type SchedulerSpec,
} from './state.ts';
export { createSweep, type SweepPlan } from './create.ts';
export { runSweep, schedulerOf, SweepError, type RunSweepOptions, type SweepOutcome } from './runner.ts';
export { SWEEP_WORKER_MAIN, DEFAULT_WORKER_COMMAND, type PoolOptions } from './pool.ts';
export { rankTrials, bestTrial, score } from './rank.ts';
export { formatTable, LiveTable } from './table.ts';
export { sweepCsv, bestJson, sweepPlot, writeOutputs } from './outputs.ts';
export { sweepWorker, SWEEP_METHODS, type SweepWorker } from './worker-actor.ts';
export { runTrialEpochs, validationRows, type TrialEpochsCall, type TrialEpochsResult } from './trial-run.ts';
export { yieldingExecutor } from './yielding-executor.ts';
