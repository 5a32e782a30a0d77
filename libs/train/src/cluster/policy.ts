/**
 * What the coordinator does when a step fails: a pure function of what it observed, tested as a table
 * (the process machinery only carries the decision out).
 */

/** How one worker's step call ended. */
export type CallOutcome =
  | { readonly kind: 'ok' }
  /** the worker died, disconnected or stopped heartbeating */
  | { readonly kind: 'lost' }
  /** the worker answered with an error; `code` is its error name */
  | { readonly kind: 'error'; readonly code: string; readonly message: string }
  /** no answer within the call's deadline, though the worker still heartbeats */
  | { readonly kind: 'timeout' };

export interface FailureObservation {
  /** outcome per worker id */
  readonly outcomes: ReadonlyMap<string, CallOutcome>;
  /** attempts of this step so far, this one included */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly minWorkers: number;
}

export type FailureAction =
  | { readonly kind: 'continue' }
  /** roll the survivors back, drop `drop`, re-form the ring and redo the step */
  | { readonly kind: 'retry'; readonly drop: readonly string[] }
  | { readonly kind: 'abort'; readonly reason: string };

/**
 * Errors that a lost or slow neighbour causes on the survivors: the step can be redone without them. `aborted`
 * and CollectiveAbortedError: the coordinator, having seen a member fail, told the others to stop waiting.
 */
const COLLATERAL = new Set(['CollectiveTimeoutError', 'CollectiveTransportError', 'CollectiveMismatchError', 'CollectiveAbortedError', 'WorkerLostError', 'AbortError', 'aborted']);

export function decideFailure(o: FailureObservation): FailureAction {
  const entries = [...o.outcomes.entries()];
  if (entries.every(([, r]) => r.kind === 'ok')) return { kind: 'continue' };
  // an error of the training itself (divergence, bad data, a bug) is the same on any replica: retrying cannot help
  const fatal = entries.find(([, r]) => r.kind === 'error' && !COLLATERAL.has(r.code));
  if (fatal) {
    const r = fatal[1] as Extract<CallOutcome, { kind: 'error' }>;
    return { kind: 'abort', reason: `worker ${fatal[0]} failed: ${r.message}` };
  }
  const drop = entries.filter(([, r]) => r.kind === 'lost' || r.kind === 'timeout').map(([id]) => id);
  const survivors = entries.length - drop.length;
  if (survivors < o.minWorkers) {
    return { kind: 'abort', reason: `only ${survivors} worker(s) left, fewer than the ${o.minWorkers} required` };
  }
  if (o.attempt >= o.maxAttempts) {
    return { kind: 'abort', reason: `the step failed ${o.attempt} times in a row` };
  }
  return { kind: 'retry', drop };
}
