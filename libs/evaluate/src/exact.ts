import type { VisibleType } from '@nbm/model';
import { couplings, type Conditional } from './conditional.ts';
import { LogSumExp, logCosh } from './math.ts';

/** Largest nh `evaluate` enumerates by default: 2^20 ≈ 1e6 hidden states per context. */
export const MAX_EXACT_HIDDEN = 20;
/** Hard limit of `exactLogZ` itself (2^30 states; the Gray-code counter is a 31-bit integer). */
const ENUMERATION_LIMIT = 30;
/** The incrementally updated sums are recomputed from h every this many states, so rounding cannot accumulate. */
const RESYNC = 4096;

/**
 * ln Z(x) of the model with W = 0 (the hidden units then contribute only their count, Σ_h 1 = 2^nh):
 * - Gaussian: `(ny/2)·ln 2π − ½ Σ_i ln P_i + nh·ln 2` (a product of 1-D Gaussian integrals);
 * - Ising: `Σ_i [ln 2cosh(P_i μ_i) − ½ P_i (1 + μ_i²)] + nh·ln 2` (see `exactLogZ`).
 * It is the base of AIS, and a check: a W = 0 model's log p(y|x) is the matching diagonal log density.
 */
export function baseLogZ(k: Conditional, visible: VisibleType): number {
  let fields = 0;
  if (visible === 'ising') for (let i = 0; i < k.ny; i++) fields += logCosh(k.precision[i] * k.mu[i]);
  return visibleConstant(k, visible) + fields + k.nh * Math.LN2;
}

/** The h-independent part of ln Z: Gaussian `(ny/2) ln 2π − ½ Σ ln P`; Ising `ny·ln 2 − ½ Σ P (1 + μ²)`. */
function visibleConstant(k: Conditional, visible: VisibleType): number {
  let c = 0;
  if (visible === 'gaussian') {
    for (let i = 0; i < k.ny; i++) c -= 0.5 * Math.log(k.precision[i]);
    return c + 0.5 * k.ny * Math.log(2 * Math.PI);
  }
  for (let i = 0; i < k.ny; i++) c -= 0.5 * k.precision[i] * (1 + k.mu[i] * k.mu[i]);
  return c + k.ny * Math.LN2;
}

/** The index of the bit that changes between Gray codes t − 1 and t (t ≥ 1): the lowest set bit of t. */
function flippedBit(t: number): number {
  return 31 - Math.clz32(t & -t);
}

/**
 * The exact ln Z(x) = ln Σ_h Σ_y exp(−U(y,h|x)) (∫ dy for Gaussian units), by enumerating h ∈ {±1}^nh in Gray-code
 * order (consecutive states differ in one unit, so each costs O(nh) or O(ny) updates), summed by log-sum-exp in
 * float64.
 *
 * Gaussian units: integrating y out of exp(−½dᵀPd + dᵀWh) gives (2π)^{ny/2} |P|^{−½} exp(½ hᵀJh), J = Wᵀ P⁻¹ W, so
 * `ln Z = (ny/2) ln 2π − ½ Σ ln P_i + ln Σ_h exp(½ hᵀJh)`. As hᵀJh = (−h)ᵀJ(−h), only the 2^{nh−1} states with
 * h_{nh} = +1 are enumerated and the sum doubled. Flipping h_k changes ½hᵀJh by −2h_k (Jh)_k + 2J_kk: O(nh) a state.
 *
 * Ising units (y ∈ {±1}^ny, so (y_i − μ_i)² = 1 − 2μ_i y_i + μ_i²):
 * `−U = Σ_i [y_i a_i − ½P_i(1 + μ_i²)] − μᵀWh` with a = Pμ + Wh; summing each y_i over ±1 gives
 * `Σ_y exp(−U) = exp(−½ Σ P_i(1 + μ_i²) − μᵀWh) Π_i 2cosh(a_i)`, so
 * `ln Z = ny ln 2 − ½ Σ P_i(1 + μ_i²) + ln Σ_h exp(−(Wᵀμ)ᵀh + Σ_i ln cosh(P_iμ_i + (Wh)_i))`.
 * Flipping h_k moves a by −2h_k W[:,k]: O(ny) a state.
 *
 * Cost: 2^{nh−1}·nh (Gaussian) or 2^nh·ny (Ising) multiply-adds; nh ≤ 20 takes well under a minute per context.
 * @throws RangeError for nh > 30
 */
export function exactLogZ(k: Conditional, visible: VisibleType): number {
  if (k.nh > ENUMERATION_LIMIT) {
    throw new RangeError(`exact log Z enumerates 2^nh hidden states; nh = ${k.nh} is too many (at most ${ENUMERATION_LIMIT}; use AIS)`);
  }
  return visibleConstant(k, visible) + (visible === 'gaussian' ? gaussianHiddenSum(k) : isingHiddenSum(k));
}

/** ln Σ_{h ∈ {±1}^nh} exp(½ hᵀJh). */
function gaussianHiddenSum(k: Conditional): number {
  const nh = k.nh;
  const J = couplings(k);
  const h = new Float64Array(nh).fill(-1);
  h[nh - 1] = 1; // the mirror image −h has the same value: enumerate half, add ln 2
  const g = new Float64Array(nh); // g = J h
  let s = 0; // ½ hᵀJh
  const resync = () => {
    s = 0;
    for (let a = 0; a < nh; a++) {
      let ga = 0;
      for (let b = 0; b < nh; b++) ga += J[a * nh + b] * h[b];
      g[a] = ga;
      s += 0.5 * h[a] * ga;
    }
  };
  resync();
  const acc = new LogSumExp();
  acc.add(s);
  const states = 2 ** (nh - 1);
  for (let t = 1; t < states; t++) {
    const q = flippedBit(t);
    const hq = h[q];
    s += -2 * hq * g[q] + 2 * J[q * nh + q];
    h[q] = -hq;
    const col = q; // J is symmetric: column q = row q
    for (let a = 0; a < nh; a++) g[a] -= 2 * hq * J[a * nh + col];
    if (t % RESYNC === 0) resync();
    acc.add(s);
  }
  return acc.value() + Math.LN2;
}

/** ln Σ_{h ∈ {±1}^nh} exp(−(Wᵀμ)ᵀh + Σ_i ln cosh(P_iμ_i + (Wh)_i)). */
function isingHiddenSum(k: Conditional): number {
  const { ny, nh, mu, precision: P, weights: W } = k;
  const h = new Float64Array(nh).fill(-1);
  const a = new Float64Array(ny); // P μ + W h
  const m = new Float64Array(nh); // Wᵀ μ
  for (let i = 0; i < ny; i++) for (let j = 0; j < nh; j++) m[j] += W[i * nh + j] * mu[i];
  let linear = 0; // −mᵀh
  const resync = () => {
    linear = 0;
    for (let j = 0; j < nh; j++) linear -= m[j] * h[j];
    for (let i = 0; i < ny; i++) {
      let ai = P[i] * mu[i];
      for (let j = 0; j < nh; j++) ai += W[i * nh + j] * h[j];
      a[i] = ai;
    }
  };
  const value = () => {
    let v = linear;
    for (let i = 0; i < ny; i++) v += logCosh(a[i]);
    return v;
  };
  resync();
  const acc = new LogSumExp();
  acc.add(value());
  const states = 2 ** nh;
  for (let t = 1; t < states; t++) {
    const q = flippedBit(t);
    const hq = h[q];
    linear += 2 * m[q] * hq;
    h[q] = -hq;
    const step = 2 * hq;
    for (let i = 0; i < ny; i++) a[i] -= step * W[i * nh + q];
    if (t % RESYNC === 0) resync();
    acc.add(value());
  }
  return acc.value();
}
