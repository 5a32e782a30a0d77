/**
 * Turning block gradients into the step's mean gradient: the JavaScript every faster implementation (the native
 * kernel's, the WebGPU engine's device-side sums) must equal bit for bit.
 *
 * `exact` (the default) sums in 48-bit fixed point held as float64 integers, so the sum is exact and
 * the same in any order or grouping of blocks: N workers ≡ 1 worker bit for bit (docs/architecture.md, invariant 2: exact sums). The
 * scale of each parameter tensor comes from the largest |gradient| of that tensor over the whole minibatch (a MAX
 * reduction in distributed runs) and the number of blocks.
 * `fast` sums float32 in block order (and, distributed, in ring order).
 */
import { chooseExponent, fromFixed, fromFixedMarked, toFixed } from './fixed-point.ts';

/** A block's gradient sums, one array per parameter tensor (@nbm/model's BlockGradient has this shape). */
export interface BlockSums {
  readonly grads: readonly Float32Array[];
  /** the largest |g| of each tensor, where the engine computed it while writing the block (NaN/Inf: Infinity) */
  readonly maxAbs?: Float64Array;
}

/** Where each parameter tensor sits in one flat gradient vector (what travels on the ring). */
export interface GradientLayout {
  readonly sizes: readonly number[];
  readonly offsets: readonly number[];
  readonly total: number;
}

/** The layout of a model's parameter tensors (`values`: one array per tensor, in order). */
export function gradientLayout(params: { readonly values: readonly { readonly length: number }[] }): GradientLayout {
  const sizes = params.values.map((v) => v.length);
  const offsets: number[] = [];
  let total = 0;
  for (const s of sizes) {
    offsets.push(total);
    total += s;
  }
  return { sizes, offsets, total };
}

/** Largest |g| of each parameter tensor over the given blocks: (tensors,). NaN/Inf propagate as Infinity. */
export function blockMaxAbs(blocks: readonly BlockSums[], layout: GradientLayout): Float64Array {
  const max = new Float64Array(layout.sizes.length);
  for (const b of blocks) {
    b.grads.forEach((g, t) => {
      let m = max[t];
      for (let i = 0; i < g.length; i++) {
        const a = Math.abs(g[i]);
        if (!(a <= m)) m = Number.isNaN(a) ? Infinity : a;
      }
      max[t] = m;
    });
  }
  return max;
}

/**
 * blockMaxAbs from the maxima the blocks carry, with no pass over their gradients: undefined unless every block
 * carries them (for none, zeros). The engine that wrote them must find the same numbers blockMaxAbs would.
 */
export function carriedMaxAbs(blocks: readonly BlockSums[], layout: GradientLayout): Float64Array | undefined {
  if (!blocks.every((b) => b.maxAbs?.length === layout.sizes.length)) return undefined;
  const max = new Float64Array(layout.sizes.length);
  for (const b of blocks) b.maxAbs!.forEach((m, t) => (max[t] = m > max[t] ? m : max[t]));
  return max;
}

/** Per-tensor exponents from the minibatch-wide max |g| and the minibatch's block count. */
export function fixedExponents(maxAbs: Float64Array, totalBlocks: number): Int32Array {
  return Int32Array.from(maxAbs, (m) => chooseExponent(m, totalBlocks));
}

/** This process's blocks summed in fixed point into one flat vector (integers in float64). */
export function fixedSum(blocks: readonly BlockSums[], exponents: Int32Array, layout: GradientLayout): Float64Array {
  const sum = new Float64Array(layout.total);
  for (const b of blocks) {
    b.grads.forEach((g, t) => toFixed(g, exponents[t], sum.subarray(layout.offsets[t], layout.offsets[t] + layout.sizes[t]), true));
  }
  return sum;
}

/** The mean gradient (sum ÷ examples), one float32 array per parameter, from the flat fixed-point sum. */
export function meanFromFixed(sum: Float64Array, exponents: Int32Array, layout: GradientLayout, examples: number): Float32Array[] {
  return layout.sizes.map((n, t) => {
    const out = new Float32Array(n);
    fromFixed(sum.subarray(layout.offsets[t], layout.offsets[t] + n), exponents[t], 1 / examples, out);
    return out;
  });
}

/** The parts of the tensors that elements [start, end) of the flat vector cover: tensor t, flat [start, end). */
export function tensorPieces(layout: GradientLayout, start: number, end: number): { t: number; start: number; end: number }[] {
  const pieces: { t: number; start: number; end: number }[] = [];
  layout.sizes.forEach((n, t) => {
    const s = Math.max(start, layout.offsets[t]);
    const e = Math.min(end, layout.offsets[t] + n);
    if (s < e) pieces.push({ t, start: s, end: e });
  });
  return pieces;
}

/**
 * Elements [start, end) of the flat mean gradient from the fixed-point sum, into `out` (flat, (total,)): the
 * values of {@link meanFromFixed}, but an element the reduction marked NaN comes out NaN (see fromFixedMarked).
 * Returns true when none was marked.
 */
export function meanFromFixedRange(sum: Float64Array, exponents: Int32Array, layout: GradientLayout, examples: number, start: number, end: number, out: Float32Array): boolean {
  let ok = true;
  for (const p of tensorPieces(layout, start, end)) ok = fromFixedMarked(sum.subarray(p.start, p.end), exponents[p.t], 1 / examples, out.subarray(p.start, p.end)) && ok;
  return ok;
}

/** `fast` mode: float32 sum of this process's blocks, in block order, into one flat vector. */
export function floatSum(blocks: readonly BlockSums[], layout: GradientLayout): Float32Array {
  const sum = new Float32Array(layout.total);
  for (const b of blocks) {
    b.grads.forEach((g, t) => {
      const o = layout.offsets[t];
      for (let i = 0; i < g.length; i++) sum[o + i] += g[i];
    });
  }
  return sum;
}

export function meanFromFloat(sum: Float32Array, layout: GradientLayout, examples: number): Float32Array[] {
  return layout.sizes.map((n, t) => {
    const out = new Float32Array(n);
    const o = layout.offsets[t];
    for (let i = 0; i < n; i++) out[i] = sum[o + i] / examples;
    return out;
  });
}
