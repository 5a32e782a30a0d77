/** Shared test fixtures: the kernel (or a skip), deterministic data, and comparisons with stated tolerances. */
import { initParameters, type ExampleBlock, type ModelConfig, type Parameters } from '@nbm/model';
import { registerFillAccelerator } from '@nbm/random';
import { loadNativeKernel, type NativeKernel } from '../src/index.ts';

/**
 * The native kernel, or null with the reason printed once. The kernel tests skip where the addon did not
 * build (it is optional on users' machines); NBM_REQUIRE_NATIVE=1 turns that into a failure (CI here).
 */
export function kernelOrSkip(ctx: Mocha.Context): NativeKernel {
  const s = loadNativeKernel();
  if (s.ok) return s.kernel;
  if (process.env.NBM_REQUIRE_NATIVE === '1') throw new Error(`native kernel required but unavailable: ${s.reason}`);
  console.log(`      (skipped: native kernel unavailable: ${s.reason})`);
  ctx.skip();
}

/**
 * Runs f with @nbm/random's fills in JavaScript only (importing this library registers the kernel as their
 * accelerator): the reference the kernel's draws are compared with.
 */
export function javascriptFills<T>(f: () => T): T {
  const previous = registerFillAccelerator(undefined);
  try {
    return f();
  } finally {
    registerFillAccelerator(previous);
  }
}

/** A small deterministic generator (LCG) for test data; not for anything statistical. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/**
 * A block of m examples: one-hot contexts (class (first + b) % nx) or dense ones in [−1, 1]; data y uniform in
 * [−1, 1] (Gaussian) or ±1 (Ising); global indices first, first + 1, …
 */
export function makeBlock(c: ModelConfig, m: number, seed: number, opts: { dense?: boolean; first?: number } = {}): ExampleBlock {
  const rnd = lcg(seed);
  const first = opts.first ?? 0;
  const x = new Float32Array(m * c.nx);
  for (let b = 0; b < m; b++) {
    if (opts.dense) for (let j = 0; j < c.nx; j++) x[b * c.nx + j] = rnd() * 2 - 1;
    else x[b * c.nx + ((first + b) % c.nx)] = 1;
  }
  const y = new Float32Array(m * c.ny);
  for (let i = 0; i < y.length; i++) y[i] = c.visible === 'ising' ? (rnd() < 0.5 ? -1 : 1) : rnd() * 2 - 1;
  return { count: m, x, y, index: Uint32Array.from({ length: m }, (_, b) => first + b) };
}

/**
 * PyTorch-style initial parameters, with the weights net scaled up (so that W·h matters in the chain and
 * z = Wᵀd is O(1), as after some training) and a few precision outputs pushed beyond the clip on both sides
 * (so that the clip's zero gradient is exercised).
 */
export function makeParams(c: ModelConfig, seed: number): Parameters {
  const p = initParameters(c, seed);
  for (const i of [8, 9]) p.values[i] = p.values[i].map((v) => v * 6);
  const b2 = p.values[7];
  b2[0] = 12;
  if (c.ny > 2) b2[2] = -12;
  return p;
}

/** max |a − e| / max |e|: the normwise relative error of one array. */
export function normwiseError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

export function bitwiseEqual(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
