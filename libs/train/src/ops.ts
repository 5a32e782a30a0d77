/**
 * The arithmetic of the update half of a step (reductions and AdamW), behind one interface: JavaScript, or the
 * native kernel's versions, which compute the same bits faster (its tests check equality bit for bit), so the
 * choice never changes a trajectory.
 */
import { adamwStep, type AdamWConfig, type AdamWState, type BlockGradient, type Parameters } from '@nbm/model';
import type { NativeKernel } from '@nbm/kernels';
import { blockMaxAbs, fixedSum, floatSum, meanFromFixed, meanFromFloat, type GradientLayout } from '@nbm/collective';

export interface StepOps {
  readonly name: string;
  blockMaxAbs(blocks: readonly BlockGradient[], layout: GradientLayout): Float64Array;
  fixedSum(blocks: readonly BlockGradient[], exponents: Int32Array, layout: GradientLayout): Float64Array;
  meanFromFixed(sum: Float64Array, exponents: Int32Array, layout: GradientLayout, examples: number): Float32Array[];
  floatSum(blocks: readonly BlockGradient[], layout: GradientLayout): Float32Array;
  meanFromFloat(sum: Float32Array, layout: GradientLayout, examples: number): Float32Array[];
  adamwStep(params: Parameters, grads: readonly Float32Array[], state: AdamWState, cfg: AdamWConfig): void;
}

export const jsOps: StepOps = { name: 'js', blockMaxAbs, fixedSum, meanFromFixed, floatSum, meanFromFloat, adamwStep };

export function nativeOps(kernel: NativeKernel, threads: number): StepOps {
  const o = { threads };
  return {
    name: 'native',
    blockMaxAbs: (blocks, layout) => kernel.blockMaxAbs(blocks, layout.sizes, o),
    fixedSum: (blocks, exponents, layout) => kernel.fixedSum(blocks, exponents, layout.sizes, o),
    meanFromFixed: (sum, exponents, layout, examples) => kernel.meanFromFixed(sum, exponents, layout.sizes, examples, o),
    floatSum: (blocks, layout) => kernel.floatSum(blocks, layout.sizes, o),
    meanFromFloat: (sum, layout, examples) => kernel.meanFromFloat(sum, layout.sizes, examples, o),
    adamwStep: (params, grads, state, cfg) => kernel.adamwStep(params, grads, state, cfg, o),
  };
}
