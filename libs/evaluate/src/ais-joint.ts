import { fillBits, unitFromBits } from '@nbm/random';
import type { ChainDraws } from './ais.ts';
import type { Conditional } from './conditional.ts';
import { dot, sigmoid } from './math.ts';

/** Wᵀ (nh, ny) per Conditional, so that z = Wᵀd is a row of dot products; computed once per estimate. */
const transposeCache = new WeakMap<Conditional, Float64Array>();

function transposed(k: Conditional): Float64Array {
  let t = transposeCache.get(k);
  if (!t) {
    t = new Float64Array(k.ny * k.nh);
    for (let i = 0; i < k.ny; i++) for (let j = 0; j < k.nh; j++) t[j * k.ny + i] = k.weights[i * k.nh + j];
    transposeCache.set(k, t);
  }
  return t;
}

/**
 * One AIS chain for Ising units over (y, h), with W scaled by β_k = √t_k. Returns the chain's ln w.
 * - base draw (β = 0): P(y_i = +1) = σ(2 P_i μ_i), u from counter (contextId, chain, 1);
 * - step k: with z = Wᵀ(y − μ), ln w += Σ_j [ln cosh(β_k z_j) − ln cosh(β_{k−1} z_j)] (the ratio of the y-marginals
 *   f_β(y) = exp(−½dᵀPd) Π_j 2cosh(β z_j)), then (k < K) block Gibbs at β_k:
 *   P(h_j = +1 | y) = σ(2 β_k z_j), u from counter (contextId, chain, 2k);
 *   P(y_i = +1 | h) = σ(2 (P_i μ_i + β_k (Wh)_i)), u from counter (contextId, chain, 2k + 1).
 * Cost: two passes over W (ny·nh) a step.
 * @param t (K + 1) the schedule t_0 = 0 … t_K = 1 (β = √t)
 */
export function annealJoint(k: Conditional, t: Float64Array, draws: ChainDraws, chain: number): number {
  const { ny, nh, mu, precision: P, weights: W } = k;
  const { key, contextId } = draws;
  const Wt = transposed(k);
  const field = Float64Array.from(P, (p, i) => p * mu[i]); // P μ
  const yBits = new Uint32Array(ny);
  const hBits = new Uint32Array(nh);
  const d = new Float64Array(ny); // y − μ
  const z = new Float64Array(nh); // Wᵀd
  const h = new Float64Array(nh);
  fillBits(yBits, key, contextId, chain, 1);
  for (let i = 0; i < ny; i++) d[i] = (unitFromBits(yBits[i]) < sigmoid(2 * field[i]) ? 1 : -1) - mu[i];
  let logW = 0;
  let previous = 0; // β_{k−1}
  const steps = t.length - 1;
  for (let step = 1; step <= steps; step++) {
    const beta = Math.sqrt(t[step]);
    for (let j = 0; j < nh; j++) z[j] = dot(Wt, j * ny, d, 0, ny);
    const last = step === steps;
    if (!last) fillBits(hBits, key, contextId, chain, 2 * step);
    for (let j = 0; j < nh; j++) {
      // ln cosh(βz) = |βz| + ln(1 + e^{−2|βz|}) − ln 2; e^{−2|βz|} also gives σ(2βz)
      const a1 = Math.abs(beta * z[j]);
      const e1 = Math.exp(-2 * a1);
      const a0 = Math.abs(previous * z[j]);
      logW += a1 + Math.log1p(e1) - (a0 + Math.log1p(Math.exp(-2 * a0)));
      if (last) continue; // a last transition would not change the estimate
      const up = z[j] >= 0 ? 1 / (1 + e1) : e1 / (1 + e1);
      h[j] = unitFromBits(hBits[j]) < up ? 1 : -1;
    }
    if (last) break;
    previous = beta;
    fillBits(yBits, key, contextId, chain, 2 * step + 1);
    for (let i = 0; i < ny; i++) {
      const wh = dot(W, i * nh, h, 0, nh);
      d[i] = (unitFromBits(yBits[i]) < sigmoid(2 * (field[i] + beta * wh)) ? 1 : -1) - mu[i];
    }
  }
  return logW;
}
