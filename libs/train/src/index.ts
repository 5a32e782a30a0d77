export { PAPER_DEFAULTS, ISING_LR, withPaperDefaults, ConfigError, validateConfig, type TrainConfig, type KernelRequest, type ReduceMode } from './config.ts';
export { train, prepare, runRecord, localExecutor, StoppedError, type TrainOptions, type TrainResult, type Prepared, type ExecutorFactory } from './trainer.ts';
export { batchMetrics, sumStats, type BatchMetrics } from './metrics.ts';
export { blockRanges, shardBlocks } from './plan.ts';
export { reduceAndApply, localReducer, adamwConfigOf, TrainingDivergedError, isTrainingDiverged, type GradientReducer, type StepOutcome } from './update.ts';
export { shardGradients, computeShard, hostShard, readBlocks, type StepSpec } from './shard.ts';
export { initialState, modelConfigOf, type TrainState } from './state.ts';
export { chooseEngine, type EngineChoice } from './engines.ts';
export { jsOps, nativeOps, type StepOps } from './ops.ts';
export { writeCheckpoint, latestCheckpoint, resumePoint, restoreState, expectedTensors, type ResumePoint, type SkippedCheckpoint } from './checkpoints.ts';
export { validationMetrics } from './validate.ts';
export { ProgressBar, type ProgressInfo, type OutputStream } from './progress.ts';
export { writeFigures, writeLossPlot, type FigureMoment } from './figures.ts';
export {
  paths as runPaths,
  readMetrics,
  readRunConfig,
  createRunDir,
  lockRunDir,
  appendMetrics,
  truncateMetrics,
  METRIC_COLUMNS,
  TIMING_COLUMNS,
  epochCheckpointName,
  stepCheckpointName,
  type MetricRow,
} from './run-dir.ts';
export { type StepExecutor, type StepOrder, type StepReport, type Position } from './executor.ts';
export { LocalExecutor } from './local-executor.ts';
export { ClusterExecutor, ReplicaDivergenceError, type ClusterOptions, type GroupOptions, type BorrowedWorkers } from './cluster/cluster-executor.ts';
export { trainingWorker, type WorkerActorOptions, type StepCall, type StepResult } from './cluster/worker-actor.ts';
export { decideFailure, type CallOutcome, type FailureAction, type FailureObservation } from './cluster/policy.ts';
export { stateHash, encodeState, decodeState } from './cluster/state-codec.ts';
