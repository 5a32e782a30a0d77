/**
 * Training inside a worker actor's method: the steps run on the worker's event loop, so between steps it must
 * let heartbeats and messages through, and it must stop when the coordinator gives up on the call. This wraps
 * an executor factory (the single-process LocalExecutor) so that before each step and each validation it
 * yields one turn of the event loop, checks the call's abort signal, and reports a tick (the trial lock's
 * refresh).
 */
import { localExecutor, type ExecutorFactory, type StepExecutor } from '@nbm/train';

/** One turn of the event loop: due timers (heartbeats) and socket reads run. */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface YieldingOptions {
  /** aborted when the call is abandoned: the next step throws its reason */
  readonly signal?: AbortSignal;
  /** called before each step */
  readonly onTick?: () => void;
  /** the executor that runs the steps (default: in this process) */
  readonly inner?: ExecutorFactory;
}

/** An executor factory whose executors yield to the event loop and honour `signal` before every step. */
export function yieldingExecutor(o: YieldingOptions = {}): ExecutorFactory {
  const inner = o.inner ?? localExecutor;
  const pause = async () => {
    await yieldToLoop();
    o.signal?.throwIfAborted();
    o.onTick?.();
  };
  const factory: ExecutorFactory = async (p, state, log) => {
    const ex = await inner(p, state, log);
    const wrapped: StepExecutor = {
      kind: ex.kind,
      async step(order, next) {
        await pause();
        return ex.step(order, next);
      },
      snapshot: (position) => ex.snapshot(position),
      async validate(epoch) {
        await pause();
        return ex.validate(epoch);
      },
      close: () => ex.close(),
    };
    return wrapped;
  };
  // the wrapped executor computes where the inner one does
  return Object.assign(factory, { remote: inner.remote });
}
