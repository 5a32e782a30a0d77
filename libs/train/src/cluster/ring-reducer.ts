import type { Ring } from '@nbm/collective';
import type { GradientReducer } from '../update.ts';

/**
 * The step's reductions over the worker ring. `tag` names the run and the attempt, so frames of an aborted
 * attempt can never be merged into a retry; `signal` aborts a reduction that waits on a lost neighbour.
 */
export function ringReducer(ring: Ring, tag: { run: string; step: number }, timeoutMs: number, signal?: AbortSignal): GradientReducer {
  const opts = { tag, timeoutMs, signal };
  return {
    gather: async (v) => (await ring.allGather(v, opts)) as Float64Array,
    sumFixedTo: (v, out, convert) => ring.allReduceFixedTo(v, out, (start, end) => convert(v, start, end), opts),
    sumFloat: async (v) => {
      await ring.allReduce(v, 'sum', opts);
      return v;
    },
  };
}
