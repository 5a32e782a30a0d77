import type { ProgressBar } from '../progress.ts';
import { checkpointsHook } from './checkpoints.ts';
import { evalEveryHook } from './eval-every.ts';
import { figuresHook } from './figures.ts';
import type { TrainHooks } from './hooks.ts';
import { metricsFileHook } from './metrics-file.ts';
import { metricRowsHook } from './metrics-rows.ts';
import { progressHook } from './progress.ts';

export { emit, emitEnd, type TrainHooks, type RunContext, type RunStart, type StepEnd, type ValidationEnd, type SavePoint, type SaveReason, type EpochEnd } from './hooks.ts';

/**
 * The hooks every run has, in the order they must run: rows are written before a save draws loss.png from them
 * and before its checkpoint, pictures before the checkpoint (a checkpoint is the last thing a kept state gets),
 * the evaluation of an epoch after its checkpoint.
 */
export function builtinHooks(bar: ProgressBar): TrainHooks[] {
  return [progressHook(bar), metricRowsHook(), metricsFileHook(), figuresHook(), checkpointsHook(), evalEveryHook()];
}
