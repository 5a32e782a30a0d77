import { fillBits, unitFromBits } from '@nbm/random';
import type { ChainDraws } from './ais.ts';
import { couplings, type Conditional } from './conditional.ts';
import { sigmoid } from './math.ts';

/** J per Conditional, so that the chains of one estimate compute it once. */
const couplingCache = new WeakMap<Conditional, Float64Array>();

/**
 * One AIS chain for Gaussian units, over h alone: f_t(h) = exp(t · ½ hᵀJh), J = Wᵀ P⁻¹ W (nh, nh), which is the
 * model's hidden marginal with W scaled by √t (`exactLogZ` derives it). Returns the chain's ln w.
 * - base draw (t = 0, h uniform): h_j = +1 when u_j < ½, u from counter (contextId, chain, 1);
 * - step k: ln w += (t_k − t_{k−1}) · ½ hᵀJh, then (k < K) one sweep j = 0 … nh−1 with
 *   P(h_j = +1) = σ(2 t_k φ_j), φ_j = Σ_{i≠j} J_ji h_i, u from counter (contextId, chain, 2k).
 * g = Jh and s = ½ hᵀJh are kept up to date at each flip: flipping h_j changes s by −2 h_j φ_j and g by −2 h_j J[:,j].
 * @param t (K + 1) the schedule t_0 = 0 … t_K = 1
 */
export function annealHidden(k: Conditional, t: Float64Array, draws: ChainDraws, chain: number): number {
  const nh = k.nh;
  let J = couplingCache.get(k);
  if (!J) couplingCache.set(k, (J = couplings(k)));
  const { key, contextId } = draws;
  const bits = new Uint32Array(nh);
  const h = new Float64Array(nh);
  const g = new Float64Array(nh);
  fillBits(bits, key, contextId, chain, 1);
  for (let j = 0; j < nh; j++) h[j] = unitFromBits(bits[j]) < 0.5 ? 1 : -1;
  let s = 0;
  for (let a = 0; a < nh; a++) {
    let v = 0;
    for (let b = 0; b < nh; b++) v += J[a * nh + b] * h[b];
    g[a] = v;
    s += 0.5 * h[a] * v;
  }
  let logW = 0;
  const steps = t.length - 1;
  for (let step = 1; step <= steps; step++) {
    const tk = t[step];
    logW += (tk - t[step - 1]) * s;
    if (step === steps) break; // a last transition would not change the estimate
    fillBits(bits, key, contextId, chain, 2 * step);
    for (let j = 0; j < nh; j++) {
      const hj = h[j];
      const phi = g[j] - J[j * nh + j] * hj;
      const next = unitFromBits(bits[j]) < sigmoid(2 * tk * phi) ? 1 : -1;
      if (next === hj) continue;
      s -= 2 * hj * phi;
      const change = -2 * hj;
      for (let a = 0; a < nh; a++) g[a] += change * J[a * nh + j];
      h[j] = next;
    }
  }
  return logW;
}
