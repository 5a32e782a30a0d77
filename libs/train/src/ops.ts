/**
 * The arithmetic of the update half of a step (reductions and AdamW), behind one interface: JavaScript, or the
 * native kernel's versions, which compute the same bits faster (its tests check equality bit for bit), so the
 * choice never changes a trajectory.
 */
import { adamwStep, type AdamWConfig, type AdamWState, type BlockGradient, type Parameters } from '@nbm/model';
import type { NativeKernel } from '@nbm/kernels';
import { blockMaxAbs, fixedSum, floatSum, maxAbs, meanFromFixed, meanFromFixedRange, meanFromFloat, tensorPieces, type GradientLayout } from '@nbm/collective';

export interface StepOps {
  readonly name: string;
  blockMaxAbs(blocks: readonly BlockGradient[], layout: GradientLayout): Float64Array;
  fixedSum(blocks: readonly BlockGradient[], exponents: Int32Array, layout: GradientLayout): Float64Array;
  meanFromFixed(sum: Float64Array, exponents: Int32Array, layout: GradientLayout, examples: number): Float32Array[];
  /** @nbm/collective's meanFromFixedRange: elements [start, end) into the flat `out`, marks as NaN; false if any */
  meanFromFixedRange(sum: Float64Array, exponents: Int32Array, layout: GradientLayout, examples: number, start: number, end: number, out: Float32Array): boolean;
  /** true when every element of `v` is finite */
  allFinite(v: Float32Array): boolean;
  /** the flat array a step's mean gradient is written into, (total,): kept from step to step where outputs are reused */
  meanOutput(layout: GradientLayout): Float32Array;
  floatSum(blocks: readonly BlockGradient[], layout: GradientLayout): Float32Array;
  meanFromFloat(sum: Float32Array, layout: GradientLayout, examples: number): Float32Array[];
  adamwStep(params: Parameters, grads: readonly Float32Array[], state: AdamWState, cfg: AdamWConfig): void;
}

export const jsOps: StepOps = {
  name: 'js',
  blockMaxAbs,
  fixedSum,
  meanFromFixed,
  meanFromFixedRange,
  meanOutput: (layout) => new Float32Array(layout.total),
  allFinite: (v) => Number.isFinite(maxAbs(v)),
  floatSum,
  meanFromFloat,
  adamwStep,
};

export interface NativeOpsOptions {
  /**
   * Write the sums and means into arrays kept from call to call (7 MB a step at the paper's size with the exact
   * reduce, not allocated and first-touched anew): each result is then valid until the next call of the same function
   * (`meanOutput`'s until the next `meanOutput`), which the trainer's step order guarantees (the sum is read by
   * the conversion to the mean, the mean by AdamW).
   */
  readonly reuseOutputs?: boolean;
}

export function nativeOps(kernel: NativeKernel, threads: number, options: NativeOpsOptions = {}): StepOps {
  const o = { threads };
  const sums = options.reuseOutputs ? reusable(Float64Array) : () => undefined;
  const floatSums = options.reuseOutputs ? reusable(Float32Array) : () => undefined;
  // one mean is live at a time (AdamW reads it before the next step makes another): one array serves them all
  const means = options.reuseOutputs ? reusable(Float32Array) : (n: number) => new Float32Array(n);
  return {
    name: 'native',
    blockMaxAbs: (blocks, layout) => kernel.blockMaxAbs(blocks, layout.sizes, o),
    fixedSum: (blocks, exponents, layout) => kernel.fixedSum(blocks, exponents, layout.sizes, { ...o, out: sums(layout.total) }),
    meanFromFixed: (sum, exponents, layout, examples) => kernel.meanFromFixed(sum, exponents, layout.sizes, examples, { ...o, out: means(layout.total) }),
    meanFromFixedRange: (sum, exponents, layout, examples, start, end, out) => {
      const pieces = tensorPieces(layout, start, end);
      return kernel.meanFromFixedMarked(
        sum.subarray(start, end),
        Int32Array.from(pieces, (p) => exponents[p.t]),
        pieces.map((p) => p.end - p.start),
        examples,
        out.subarray(start, end),
        o,
      );
    },
    meanOutput: (layout) => means(layout.total),
    allFinite: (v) => Number.isFinite(kernel.maxAbs(v, o)),
    floatSum: (blocks, layout) => kernel.floatSum(blocks, layout.sizes, { ...o, out: floatSums(layout.total) }),
    meanFromFloat: (sum, layout, examples) => kernel.meanFromFloat(sum, layout.sizes, examples, { ...o, out: means(layout.total) }),
    adamwStep: (params, grads, state, cfg) => kernel.adamwStep(params, grads, state, cfg, o),
  };
}

/** One array of the asked length, kept while the length stays the same. */
function reusable<T extends Float32Array | Float64Array>(make: new (n: number) => T): (n: number) => T {
  let kept: T | undefined;
  return (n) => (kept?.length === n ? kept : (kept = new make(n)));
}
