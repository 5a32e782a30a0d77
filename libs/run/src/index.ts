/**
 * @nbm/run: a run directory on disk (docs/run-on-disk.md): its layout, creation and one-writer lock, metrics
 * rows (also as TensorBoard scalars), checkpoints and the one latest-checkpoint rule, the trained model a
 * checkpoint holds, and where the run stands. Training writes it; evaluation, sampling, sweeps and `nbm status`
 * read it through this library only.
 */
export { RunDirError } from './errors.ts';
export { runPaths, epochCheckpointName, stepCheckpointName, picturesName, stepPicturesName } from './layout.ts';
export { isRunDir, createRunDir, lockRunDir, readRunConfig } from './directory.ts';
export { appendMetrics, readMetrics, epochValidations, truncateMetrics, MetricsBoard, type MetricColumn, type MetricKind, type MetricRow, type ValidationRecord } from './metrics.ts';
export { saveRunCheckpoint, latestCheckpoint, findCheckpoint, type LatestCheckpoint, type NamedCheckpoint, type SkippedCheckpoint } from './checkpoints.ts';
export { expectedTensors, parametersHash, loadTrainedModel, type TrainedModel } from './trained-model.ts';
export { readRunStatus, writePoolStatus, type RunStatus, type PoolStatus, type MemberStatus, type RowSummary } from './status.ts';
