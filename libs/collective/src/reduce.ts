/**
 * Element-wise reduction kernels the ring applies to an incoming chunk: `dst[i] = op(dst[i], src[i])`.
 * Each element is combined exactly once per hop, in an order fixed by the ring schedule, and the
 * all-gather then hands every rank the same reduced bytes.
 */
import { addFixedInto } from './fixed-point.ts';

/** Reduction operator of a collective. */
export type ReduceOp = 'sum' | 'max';

/** Buffers the ring reduces. */
export type ReduceBuffer = Float32Array | Float64Array;

/** A kernel combining `src` into `dst` (same length, same type). */
export type Kernel = (dst: ReduceBuffer, src: ReduceBuffer) => void;

function sumInto(dst: ReduceBuffer, src: ReduceBuffer): void {
  // For float32, the float64 sum of two float32 values rounds to the correctly rounded float32 sum.
  for (let i = 0; i < dst.length; i++) dst[i] += src[i];
}

function maxInto(dst: ReduceBuffer, src: ReduceBuffer): void {
  // Math.max propagates NaN: a NaN flag anywhere becomes NaN everywhere.
  for (let i = 0; i < dst.length; i++) dst[i] = Math.max(dst[i], src[i]);
}

function sumFixedInto(dst: ReduceBuffer, src: ReduceBuffer): void {
  addFixedInto(dst as Float64Array, src as Float64Array);
}

/**
 * The kernel for `op`. With `exact` (Float64Array of fixed-point integers only), a sum that leaves
 * ±(2^53 − 1) marks the element NaN instead of rounding; `fromFixed` then reports the overflow.
 */
export function kernelFor(op: ReduceOp, exact: boolean): Kernel {
  if (op === 'max') return maxInto;
  return exact ? sumFixedInto : sumInto;
}
