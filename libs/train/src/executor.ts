import type { BatchMetrics } from './metrics.ts';
import type { TrainState } from './state.ts';

/** Where the next step stands: the same on the coordinator and every replica. */
export interface Position {
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
}

/** One step to execute: which minibatch (named by its position) and how it is cut. */
export interface StepOrder extends Position {
  /** examples in the minibatch (B, or fewer for an epoch's last) */
  readonly examples: number;
  /** gradient blocks in the minibatch */
  readonly totalBlocks: number;
}

export interface StepReport {
  readonly metrics: BatchMetrics;
  readonly skipped: boolean;
  /** slowest replica's compute time */
  readonly computeMs: number;
  /** slowest replica's reduction time */
  readonly reduceMs: number;
  readonly worldSize: number;
}

/**
 * Runs training steps somewhere: in this process (`LocalExecutor`) or on a pool of workers
 * (`ClusterExecutor`). The training loop (trainer.ts) is the same for both.
 */
export interface StepExecutor {
  readonly kind: 'local' | 'cluster';
  /**
   * Runs `order`. `next`, when given, is the order the loop asks for next unless it stops first: an executor
   * may start it before this one ends (its workers queue it), and undoes it if the loop asks for anything else.
   */
  step(order: StepOrder, next?: StepOrder): Promise<StepReport>;
  /** The current parameters and optimiser state (for checkpoints and pictures), at `position`. */
  snapshot(position: Position): Promise<TrainState>;
  /** Validation losses at the end of `epoch`. */
  validate(epoch: number): Promise<BatchMetrics>;
  close(): Promise<void>;
}
