import { conditional64, type ModelConfig, type Parameters } from '@nbm/model';

/**
 * The NBM at one context x, in float64: everything log Z(x), F(y|x) and the diagnostics need.
 * Shapes: mu, precision: (ny); weights: (ny, nh) row-major (`weights[i·nh + j]` = W_ij), already ÷ √ny.
 */
export interface Conditional {
  readonly ny: number;
  readonly nh: number;
  /** μ(x): (ny) */
  readonly mu: Float64Array;
  /** P(x) > 0: (ny) */
  readonly precision: Float64Array;
  /** W(x) ÷ √ny: (ny, nh) row-major */
  readonly weights: Float64Array;
}

/**
 * A Conditional from plain arrays (tests and callers that build models by hand), checked for consistent sizes and
 * positive, finite precisions.
 * @param mu (ny) @param precision (ny) @param weights (ny, nh) row-major
 */
export function makeConditional(mu: ArrayLike<number>, precision: ArrayLike<number>, weights: ArrayLike<number>, nh: number): Conditional {
  const ny = mu.length;
  if (!Number.isInteger(nh) || nh < 1) throw new RangeError(`nh must be a positive integer, got ${nh}`);
  if (precision.length !== ny) throw new RangeError(`precision has length ${precision.length}, expected ny = ${ny}`);
  if (weights.length !== ny * nh) throw new RangeError(`weights has length ${weights.length}, expected ny × nh = ${ny} × ${nh}`);
  for (let i = 0; i < ny; i++) {
    if (!(precision[i] > 0) || !Number.isFinite(precision[i])) throw new RangeError(`precision[${i}] = ${precision[i]} is not a positive finite number`);
  }
  return { ny, nh, mu: Float64Array.from(mu), precision: Float64Array.from(precision), weights: Float64Array.from(weights) };
}

/**
 * μ(x), P(x), W(x) of docs/model.md#networks at one context, in float64 from the (float32) parameters:
 * @nbm/model's float64 reference (`conditional64`), which clips log P where the float32 engines do.
 * @param x (nx) one context
 */
export function conditionalAt(c: ModelConfig, p: Parameters, x: ArrayLike<number>): Conditional {
  const k = conditional64(c, p, x);
  return { ny: c.ny, nh: c.nh, mu: k.mu, precision: k.P, weights: k.W };
}

/** J = Wᵀ diag(1/P) W: (nh, nh) row-major, symmetric positive semi-definite. */
export function couplings(k: Conditional): Float64Array {
  const { ny, nh, weights: W, precision: P } = k;
  const J = new Float64Array(nh * nh);
  for (let i = 0; i < ny; i++) {
    const inv = 1 / P[i];
    const row = i * nh;
    for (let a = 0; a < nh; a++) {
      const wa = W[row + a] * inv;
      if (wa === 0) continue;
      for (let b = a; b < nh; b++) J[a * nh + b] += wa * W[row + b];
    }
  }
  for (let a = 0; a < nh; a++) for (let b = 0; b < a; b++) J[a * nh + b] = J[b * nh + a];
  return J;
}
