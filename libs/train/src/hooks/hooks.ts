/**
 * Hooks on the training loop, in the manner of Lightning's callbacks. The loop (trainer.ts) only steps,
 * validates and decides when a state is worth keeping; everything a run leaves behind (metrics.csv and
 * TensorBoard, progress lines, pictures, checkpoints, the held-out log-likelihood of --eval-every) is a hook
 * here, and a caller's own hooks (a sweep watching its trial) see the same events, after the built-in ones.
 *
 * Hooks run one after another in list order, each awaited; a hook that throws fails the run.
 */
import type { Dataset } from '@nbm/data';
import type { ModelConfig } from '@nbm/model';
import type { MetricRow } from '@nbm/run';
import type { TrainConfig } from '../config.ts';
import type { StepReport } from '../executor.ts';
import type { BatchMetrics } from '../metrics.ts';
import type { TrainState } from '../state.ts';

/** The run a hook observes, and the two things it may do to it: log a line, record metric rows. */
export interface RunContext {
  readonly dir: string;
  readonly config: TrainConfig;
  readonly model: ModelConfig;
  readonly train: Dataset;
  readonly val: Dataset;
  /** steps per epoch, and the steps this run trains to in all */
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  /** seconds since this segment of the run started */
  wallSeconds(): number;
  /** a log line (above the progress line) */
  log(line: string): void;
  /** metric rows: every hook's onRows sees them (metrics.csv, TensorBoard, …) */
  record(rows: readonly MetricRow[]): Promise<void>;
}

/** The run starts (fresh) or continues (resumed) at `globalStep`. */
export interface RunStart {
  readonly resumed: boolean;
  readonly globalStep: number;
}

/** An optimiser step ended. */
export interface StepEnd {
  /** the epoch in progress (0-based) and the step's place in it (1-based, after the step) */
  readonly epoch: number;
  readonly stepInEpoch: number;
  /** optimiser steps taken, this one included */
  readonly globalStep: number;
  /** examples in the step's minibatch */
  readonly examples: number;
  readonly report: StepReport;
  readonly stepMs: number;
}

/** The current parameters were validated: at an epoch's end, or where a run stopped inside one. */
export interface ValidationEnd {
  /** the epoch that ended (1-based), or the one in progress when `insideEpoch` */
  readonly epoch: number;
  readonly globalStep: number;
  readonly insideEpoch: boolean;
  readonly metrics: BatchMetrics;
  /** validation examples used */
  readonly examples: number;
}

/** Why a state is kept. */
export type SaveReason = 'epoch' | 'every' | 'end' | 'stop';

/** A state worth keeping: its pictures are drawn, then it is checkpointed as `name`. */
export interface SavePoint {
  readonly reason: SaveReason;
  /** the epoch that ended (1-based), or the one in progress for a save inside an epoch */
  readonly epoch: number;
  readonly globalStep: number;
  /** true unless the save is at an epoch's end */
  readonly insideEpoch: boolean;
  /** the checkpoint's file name in checkpoints/ */
  readonly name: string;
  readonly state: TrainState;
}

/** An epoch ended: it was validated and checkpointed, and the run goes on (or ends at its last epoch). */
export interface EpochEnd {
  /** the epoch that ended (1-based) */
  readonly epoch: number;
  readonly globalStep: number;
  /** its checkpoint */
  readonly checkpoint: string;
}

/** Events of the training loop; each is optional. */
export interface TrainHooks {
  onStart?(run: RunContext, e: RunStart): void | Promise<void>;
  onStep?(run: RunContext, e: StepEnd): void | Promise<void>;
  onValidation?(run: RunContext, e: ValidationEnd): void | Promise<void>;
  onSave?(run: RunContext, e: SavePoint): void | Promise<void>;
  onEpochEnd?(run: RunContext, e: EpochEnd): void | Promise<void>;
  onRows?(run: RunContext, rows: readonly MetricRow[]): void | Promise<void>;
  /** the run ends, whether it finished, stopped or failed; every hook's onEnd runs */
  onEnd?(run: RunContext): void | Promise<void>;
}

type EventName = Exclude<keyof TrainHooks, 'onEnd'>;
type EventOf<K extends EventName> = Parameters<NonNullable<TrainHooks[K]>>[1];

/** Calls event `name` on each hook in order. */
export async function emit<K extends EventName>(hooks: readonly TrainHooks[], name: K, run: RunContext, e: EventOf<K>): Promise<void> {
  for (const h of hooks) {
    const f = h[name] as ((run: RunContext, e: EventOf<K>) => void | Promise<void>) | undefined;
    if (f) await f.call(h, run, e);
  }
}

/** Calls every hook's onEnd, even when one throws; the first error is rethrown after all have run. */
export async function emitEnd(hooks: readonly TrainHooks[], run: RunContext): Promise<void> {
  let first: unknown;
  for (const h of hooks) {
    try {
      await h.onEnd?.(run);
    } catch (e) {
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}
