/**
 * @nbm/sweep: hyperparameter sweeps of NBM training on a worker pool.
 * - search spaces over any training option: lists, log/linear grids, seeded random draws ({@link parseSpace});
 * - schedulers as pure objects: ASHA and `none`, chosen by a {@link SchedulerSpec};
 * - a sweep directory (`sweep.json`, `trials/tNNN/`, `sweep.csv`, `best.json`, `sweep.png`) created by
 *   {@link createSweep} and run, or resumed after a crash, by {@link runSweep};
 * - the worker side: {@link sweepWorker}'s methods (merge them into a worker's table).
 */
export { parseSpace, isSweepSpec, SpaceError, type SearchSpace, type Dimension, type DimensionSpec, type OptionKind, type SweepableOption, type Settings, type SettingValue } from './space.ts';
export { SchedulerError, type Retirement, type SchedulerState } from './asha.ts';
export { METRICS, parseMetric, type MetricName, type EpochMetrics } from './metric.ts';
export { SweepDirError, type SweepFile, type TrialRecord, type TrialState, type SchedulerSpec } from './state.ts';
export { createSweep, type SweepPlan } from './create.ts';
export { runSweep, SweepError, type RunSweepOptions, type SweepOutcome } from './runner.ts';
export { type PoolOptions } from './pool.ts';
export { sweepWorker, type SweepWorker } from './worker-actor.ts';
