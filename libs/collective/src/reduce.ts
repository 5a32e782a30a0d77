/**
 * Element-wise reduction kernels the ring applies to an incoming chunk: `dst[i] = op(dst[i], src[i])`.
 * Each element is combined exactly once per hop, in an order fixed by the ring schedule, and the
 * all-gather then hands every rank the same reduced bytes.
 */
import { addPackedInto, packFixed, unpackFixed } from './fixed-point.ts';

/** Reduction operator of a collective. */
export type ReduceOp = 'sum' | 'max';

/** Buffers the ring reduces. */
export type ReduceBuffer = Float32Array | Float64Array;

/** A kernel combining `src` into `dst` (same length, same type). */
export type Kernel = (dst: ReduceBuffer, src: ReduceBuffer) => void;

/**
 * Faster versions of the sums, registered by a library that has them (@nbm/kernels registers the native
 * kernel's): the same bits element for element (each is one IEEE-754 addition, and the packed fixed-point sum
 * marks an overflow NaN as {@link addPackedInto} does), so whether one is registered never changes a result.
 */
export interface CombineAccelerator {
  sumF32(dst: Float32Array, src: Float32Array): void;
  sumF64(dst: Float64Array, src: Float64Array): void;
  /** packFixed */
  packFixed(src: Float64Array, dst: Uint8Array): void;
  /** unpackFixed */
  unpackFixed(src: Uint8Array, dst: Float64Array): void;
  /** addPackedInto: true when no element overflowed */
  addPacked(dst: Float64Array, src: Uint8Array): boolean;
}

/** Gives the accelerator, or undefined where it is unavailable; asked once, at the first long combine. */
export type CombineAcceleratorProvider = () => CombineAccelerator | undefined;

let provider: CombineAcceleratorProvider | undefined;
/** undefined: not asked yet; null: the provider has none */
let accelerator: CombineAccelerator | null | undefined;

/** Registers the sums' accelerator (undefined: none, the JavaScript only). Returns the previous provider. */
export function registerCombineAccelerator(p: CombineAcceleratorProvider | undefined): CombineAcceleratorProvider | undefined {
  const previous = provider;
  provider = p;
  accelerator = undefined;
  return previous;
}

/** Below this length a call into an accelerator costs about what the JavaScript does. */
const ACCELERATE_FROM = 4096;

function acceleratorFor(n: number): CombineAccelerator | null {
  if (n < ACCELERATE_FROM || !provider) return null;
  if (accelerator === undefined) accelerator = provider() ?? null;
  return accelerator;
}

// One function per element type keeps each loop monomorphic (a shared loop over both types runs
// about 1.8x slower in V8).

function sumF32(dst: Float32Array, src: Float32Array): void {
  const fast = acceleratorFor(dst.length);
  if (fast) return fast.sumF32(dst, src);
  // the float64 sum of two float32 values, stored back, is the correctly rounded float32 sum
  const n = dst.length;
  for (let i = 0; i < n; i++) dst[i] += src[i];
}

function sumF64(dst: Float64Array, src: Float64Array): void {
  const fast = acceleratorFor(dst.length);
  if (fast) return fast.sumF64(dst, src);
  const n = dst.length;
  for (let i = 0; i < n; i++) dst[i] += src[i];
}

// Math.max propagates NaN: a NaN flag anywhere becomes NaN everywhere.
function maxF32(dst: Float32Array, src: Float32Array): void {
  const n = dst.length;
  for (let i = 0; i < n; i++) dst[i] = Math.max(dst[i], src[i]);
}

function maxF64(dst: Float64Array, src: Float64Array): void {
  const n = dst.length;
  for (let i = 0; i < n; i++) dst[i] = Math.max(dst[i], src[i]);
}

/** The fixed-point wire (6 bytes a value): {@link packFixed}, {@link unpackFixed} and {@link addPackedInto}, accelerated. */
export const packedWire = {
  pack(src: Float64Array, dst: Uint8Array): void {
    const fast = acceleratorFor(src.length);
    if (fast) fast.packFixed(src, dst);
    else packFixed(src, dst);
  },
  unpack(src: Uint8Array, dst: Float64Array): void {
    const fast = acceleratorFor(dst.length);
    if (fast) fast.unpackFixed(src, dst);
    else unpackFixed(src, dst);
  },
  add(dst: Float64Array, src: Uint8Array): void {
    const fast = acceleratorFor(dst.length);
    if (fast) fast.addPacked(dst, src);
    else addPackedInto(dst, src);
  },
};

/**
 * The kernel for `op` on buffers of `dtype`. (A fixed-point sum travels packed: {@link packedWire}; its MAX, of
 * integers, is exact as it is.)
 */
export function kernelFor(op: ReduceOp, dtype: 'f32' | 'f64'): Kernel {
  if (op === 'max') return (dtype === 'f32' ? maxF32 : maxF64) as Kernel;
  return (dtype === 'f32' ? sumF32 : sumF64) as Kernel;
}
