import { philox4x32 } from './philox.ts';

/**
 * Every random draw in nbm is named by a key (seed, stream) and a counter (a, b, c, block).
 * The stream says what the numbers are for, so that two uses never share numbers:
 *
 * | stream      | a                | b                     | c               | used for                            |
 * |-------------|------------------|-----------------------|-----------------|-------------------------------------|
 * | init        | parameter index  | 0                     | 0               | PyTorch-style initialisation        |
 * | split       | 0                | 0                     | 0               | train/validation split permutation  |
 * | permutation | epoch            | 0                     | 0               | minibatch order of an epoch         |
 * | dataTrain   | global step      | global example index  | 0               | Gaussian/Ising transform (training) |
 * | dataEval    | epoch            | example index         | split id        | transform of validation/test reads  |
 * | hidden      | global step      | global example index  | Gibbs step      | h draws of the CD chain             |
 * | visible     | global step      | global example index  | Gibbs step      | y draws of the CD chain             |
 * | sampleHidden| request seed hi  | global sample index   | Gibbs step      | h draws of `nbm sample`             |
 * | sampleVisible| request seed hi | global sample index   | Gibbs step      | y draws of `nbm sample`             |
 * | evalHidden  | epoch            | example index         | Gibbs step      | h draws of validation CD loss       |
 * | evalVisible | epoch            | example index         | Gibbs step      | y draws of validation CD loss       |
 *
 * The block counter is the index of the 4-wide Philox output inside a vector (element i is lane i % 4 of block
 * i / 4), so vectors of any length draw the same numbers for their common prefix.
 * None of these depends on worker rank or world size (docs/architecture.md, invariant 1: keyed randomness).
 */
export const Stream = {
  init: 1,
  split: 2,
  permutation: 3,
  dataTrain: 4,
  dataEval: 5,
  hidden: 6,
  visible: 7,
  sampleHidden: 8,
  sampleVisible: 9,
  fashionTest: 10,
  ais: 11,
  evalHidden: 12,
  evalVisible: 13,
} as const;
export type StreamId = (typeof Stream)[keyof typeof Stream];

/** The streams a Gibbs chain's hidden and visible draws come from (training: `hidden`/`visible`; sampling: its own). */
export interface ChainStreamIds {
  readonly hidden: number;
  readonly visible: number;
}

/** A generator key: the run's seed and the stream the draws are for. */
export interface RandomKey {
  readonly seed: number;
  readonly stream: number;
}

/** 2^-24: uniforms carry 24 random bits, so each is exactly representable in float32. */
const UNIT = 5.9604644775390625e-8;
const TWO_PI = 2 * Math.PI;

/** Checks that a seed is a u32 (what the generator's key holds). */
export function assertSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`seed must be an integer in [0, 4294967295], got ${seed}`);
  }
}

/** Fills `out` with raw u32 draws for counter (a, b, c, ·). */
export function fillBits(out: Uint32Array, key: RandomKey, a: number, b: number, c: number): void {
  const n = out.length;
  const full = n & ~3;
  for (let i = 0; i < full; i += 4) philox4x32(a, b, c, i >>> 2, key.seed, key.stream, out, i);
  if (full < n) {
    const tail = new Uint32Array(4);
    philox4x32(a, b, c, full >>> 2, key.seed, key.stream, tail, 0);
    for (let i = full; i < n; i++) out[i] = tail[i - full];
  }
}

/** u32 → [0, 1) with 24 bits: (u >> 8) · 2^-24. */
export function unitFromBits(u: number): number {
  return (u >>> 8) * UNIT;
}

/** u32 → (0, 1] with 24 bits, for logarithms. */
export function openUnitFromBits(u: number): number {
  return ((u >>> 8) + 1) * UNIT;
}

/**
 * A faster implementation of the fills, registered by a library that has one (@nbm/kernels registers the native
 * kernel's). It gives the JavaScript's bits, except at the normals it lists as lying near a float32 rounding
 * boundary (where a log, sin or cos a few double ulps from V8's may round the other way), which fillNormal then
 * recomputes here. So whether one is registered never changes a draw.
 */
export interface FillAccelerator {
  /** fillUniform's values into out */
  uniform(out: Float32Array, key: RandomKey, a: number, b: number, c: number): void;
  /** fillNormal's values into out except possibly at the returned indices (undefined: none) */
  normal(out: Float32Array, key: RandomKey, a: number, b: number, c: number): Uint32Array | undefined;
}

/** Gives the accelerator, or undefined where it is unavailable; asked once, at the first long fill. */
export type FillAcceleratorProvider = () => FillAccelerator | undefined;

let provider: FillAcceleratorProvider | undefined;
/** undefined: not asked yet; null: the provider has none */
let accelerator: FillAccelerator | null | undefined;

/** Registers the fills' accelerator (undefined: none, the JavaScript only). Returns the previous provider. */
export function registerFillAccelerator(p: FillAcceleratorProvider | undefined): FillAcceleratorProvider | undefined {
  const previous = provider;
  provider = p;
  accelerator = undefined;
  return previous;
}

/** Below this length a call into an accelerator costs about what the JavaScript does. */
const ACCELERATE_FROM = 64;

const isU32 = (v: number) => v >>> 0 === v;

/** The accelerator for a fill of `n` values at these counters, or null for the JavaScript. */
function acceleratorFor(n: number, key: RandomKey, a: number, b: number, c: number): FillAccelerator | null {
  if (n < ACCELERATE_FROM || !provider) return null;
  if (!isU32(key.seed) || !isU32(key.stream) || !isU32(a) || !isU32(b) || !isU32(c)) return null;
  if (accelerator === undefined) accelerator = provider() ?? null;
  return accelerator;
}

/**
 * Fills `out` with uniforms in [0, 1) for counter (a, b, c, ·).
 * out: (n,) — element i comes from lane i % 4 of block i / 4.
 */
export function fillUniform(out: Float32Array, key: RandomKey, a: number, b: number, c: number): void {
  const fast = acceleratorFor(out.length, key, a, b, c);
  if (fast) return fast.uniform(out, key, a, b, c);
  const bits = new Uint32Array(out.length);
  fillBits(bits, key, a, b, c);
  for (let i = 0; i < out.length; i++) out[i] = unitFromBits(bits[i]);
}

/** Box–Muller's radius √(−2 ln u), u ∈ (0, 1] from an even lane's bits. */
const radius = (even: number) => Math.sqrt(-2 * Math.log(openUnitFromBits(even)));
/** Box–Muller's angle 2π·v, v ∈ [0, 1) from an odd lane's bits. */
const angle = (odd: number) => TWO_PI * unitFromBits(odd);

/**
 * Fills `out` with standard normals for counter (a, b, c, ·) by Box–Muller on lane pairs (0,1) and (2,3):
 * n_{2j} = r cos θ, n_{2j+1} = r sin θ with r = √(−2 ln u), u ∈ (0,1] from the even lane, θ = 2π·v from the odd.
 * Computed in float64, rounded once to float32.
 */
export function fillNormal(out: Float32Array, key: RandomKey, a: number, b: number, c: number): void {
  const fast = acceleratorFor(out.length, key, a, b, c);
  if (fast) {
    const ties = fast.normal(out, key, a, b, c);
    if (ties) for (const i of ties) out[i] = normalAt(key, a, b, c, i);
    return;
  }
  const n = out.length;
  const padded = (n + 3) & ~3;
  const bits = new Uint32Array(padded);
  fillBits(bits, key, a, b, c);
  for (let i = 0; i < n; i += 2) {
    const r = radius(bits[i]);
    const theta = angle(bits[i + 1]);
    out[i] = r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = r * Math.sin(theta);
  }
}

/** Element i of fillNormal's vector at counter (a, b, c, ·), alone. */
function normalAt(key: RandomKey, a: number, b: number, c: number, i: number): number {
  const block = new Uint32Array(4);
  philox4x32(a, b, c, i >>> 2, key.seed, key.stream, block, 0);
  const pair = i & 2;
  const r = radius(block[pair]);
  const theta = angle(block[pair + 1]);
  return Math.fround(i & 1 ? r * Math.sin(theta) : r * Math.cos(theta));
}

/**
 * A uniformly random permutation of 0..n-1 (Fisher–Yates), keyed by (key, a).
 * Index choice uses 53 random bits from two draws, so the modulo bias is below 2^-20 for n < 2^32.
 */
export function permutation(n: number, key: RandomKey, a: number): Uint32Array {
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const block = new Uint32Array(4);
  for (let i = n - 1; i > 0; i--) {
    // one Philox block per swap: counter (a, i, 0, 0)
    philox4x32(a, i, 0, 0, key.seed, key.stream, block, 0);
    const r = ((block[0] >>> 5) * 67108864 + (block[1] >>> 6)) / 9007199254740992; // 53-bit uniform in [0,1)
    const j = Math.floor(r * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}
