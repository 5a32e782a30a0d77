/**
 * The trial state machine of a sweep, as pure functions: what the end of a trial's job does to the trial. The
 * runner classifies what happened, asks here, and applies the answer (the trial's fields, the scheduler call, the
 * line it says); test/transitions.test.ts covers every row. The scheduler's own decisions (ASHA's rungs) are its
 * business: these functions turn them into trial states.
 */
import type { Decision } from './asha.ts';
import { formatMetric } from './metric.ts';
import { MAX_LOSSES, type TrialState } from './state.ts';

/** The trial's state and error after the scheduler's decision on one new epoch; undefined: it goes on. */
export function afterEpoch(
  decision: Decision,
  epoch: { readonly epoch: number; readonly metric: string; readonly value: number; readonly exploded: boolean; readonly divergeAbove: number },
): { readonly state: TrialState; readonly error?: string } | undefined {
  switch (decision) {
    case 'continue':
      return undefined;
    case 'pause':
      return { state: 'paused' };
    case 'complete':
      return { state: 'completed' };
    case 'stop':
      return {
        state: 'diverged',
        error: epoch.exploded
          ? `${epoch.metric} ${formatMetric(epoch.value)} at epoch ${epoch.epoch} is above ${formatMetric(epoch.divergeAbove)}: the loss exploded`
          : `${epoch.metric} is ${epoch.value} at epoch ${epoch.epoch}`,
      };
  }
}

/** How a job's answer ended before the job's milestone epoch. */
export interface EarlyAnswer {
  /** the trial's run diverged (its message) */
  readonly diverged?: string;
  /** its step budget (--max-steps) ended it */
  readonly exhausted?: boolean;
  /** epochs the trial has, and the job's milestone */
  readonly epochs: number;
  readonly target: number;
}

/** What the scheduler is told about a trial whose job has ended. */
export type SchedulerAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'requeue' }
  | { readonly kind: 'retire'; readonly why: 'exhausted' | 'failed' }
  /** a non-finite metric at this epoch (the scheduler stops the trial) */
  | { readonly kind: 'report-nan'; readonly epoch: number };

export interface Transition {
  readonly state: TrialState;
  readonly scheduler: SchedulerAction;
  /** the trial's error (undefined leaves it as it was) */
  readonly error?: string;
  /** the trial's count of jobs lost with their worker */
  readonly losses?: number;
  /** a line for the sweep's log */
  readonly say?: string;
  /** the whole sweep stops with this error (its state is saved; the trial goes out again on resume) */
  readonly fatal?: string;
}

/** A job whose answer ended before its milestone: the trial diverged, ran out of steps, or the worker misbehaved. */
export function afterEarlyAnswer(a: EarlyAnswer): Transition {
  if (a.diverged !== undefined) return { state: 'diverged', error: a.diverged, scheduler: { kind: 'report-nan', epoch: Math.min(a.epochs + 1, a.target) } };
  if (a.exhausted) {
    return a.epochs > 0
      ? { state: 'completed', scheduler: { kind: 'retire', why: 'exhausted' } }
      : { state: 'failed', error: '--max-steps ended the run before its first epoch, so it has no validation metric', scheduler: { kind: 'retire', why: 'exhausted' } };
  }
  return { state: 'failed', error: `the worker answered with ${a.epochs} epochs for a job to epoch ${a.target}`, scheduler: { kind: 'retire', why: 'failed' } };
}

/** Why a trial's job ended without an answer. */
export type JobFailure =
  /** the sweep is stopping (interrupted, or failed for another reason) */
  | { readonly kind: 'stopping' }
  /** its worker (or a group's) was lost */
  | { readonly kind: 'lost'; readonly message: string }
  /** the worker does not serve the sweep's methods */
  | { readonly kind: 'unknown-method'; readonly worker: string; readonly method: string; readonly message: string }
  /** another process holds the trial's directory */
  | { readonly kind: 'locked'; readonly message: string }
  /** the trial itself failed */
  | { readonly kind: 'error'; readonly message: string };

/** A job that ended without an answer; `losses`: the trial's jobs lost with their worker so far. */
export function afterFailure(trial: string, f: JobFailure, losses: number): Transition {
  const requeue = { state: 'queued', scheduler: { kind: 'requeue' } } as const;
  switch (f.kind) {
    case 'stopping':
      return requeue;
    case 'lost': {
      const n = losses + 1;
      if (n < MAX_LOSSES) return { ...requeue, losses: n, say: `trial ${trial} goes back in the queue: ${f.message}` };
      return failed(trial, `its job was lost with its worker ${n} times (last: ${f.message}); a trial that kills its workers (out of memory?) is not retried further`, n);
    }
    case 'unknown-method':
      return {
        ...requeue,
        fatal: `worker ${f.worker} does not serve the sweep's '${f.method}' method: start the workers with a command that serves @nbm/sweep's sweepWorker() methods (${f.message})`,
      };
    case 'locked':
      return { ...requeue, say: `trial ${trial}: ${f.message}; it goes back in the queue` };
    case 'error':
      return failed(trial, f.message);
  }
}

function failed(trial: string, error: string, losses?: number): Transition {
  return { state: 'failed', error, scheduler: { kind: 'retire', why: 'failed' }, say: `trial ${trial} failed: ${error}`, ...(losses !== undefined ? { losses } : {}) };
}
