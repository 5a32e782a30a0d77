/**
 * @nbm/train: the training loop ({@link train}) with its hooks ({@link TrainHooks}: metrics, progress, pictures,
 * checkpoints, eval-every), its executors (one process, or a worker pool: {@link ClusterExecutor} and the worker's
 * {@link trainingWorker} methods), the paper's defaults and the rules of resume ({@link withPaperDefaults},
 * {@link resumedConfig}).
 */
export { PAPER_DEFAULTS, withPaperDefaults, resumedConfig, ConfigError, validateConfig, type TrainConfig, type KernelRequest, type ReduceMode } from './config.ts';
export { train, localExecutor, StoppedError, type TrainOptions, type TrainResult, type Prepared, type ExecutorFactory } from './trainer.ts';
export { type BatchMetrics } from './metrics.ts';
export { TrainingDivergedError, isTrainingDiverged } from './update.ts';
export { type TrainState } from './state.ts';
export { type EngineChoice } from './engines.ts';
export { jsOps, nativeOps, type StepOps } from './ops.ts';
export { type TrainHooks, type RunContext, type RunStart, type StepEnd, type ValidationEnd, type SavePoint, type SaveReason, type EpochEnd } from './hooks/index.ts';
export { type OutputStream } from './progress.ts';
export { type StepExecutor, type StepOrder, type StepReport, type Position } from './executor.ts';
export { ClusterExecutor, ReplicaDivergenceError, type ClusterOptions, type GroupOptions, type BorrowedWorkers } from './cluster/cluster-executor.ts';
export { trainingWorker, type WorkerActorOptions } from './cluster/worker-actor.ts';
