import type { Conditional } from './conditional.ts';
import { logCosh } from './math.ts';

/**
 * The free energy of docs/model.md#energy-and-free-energy in float64, as the implementation defines it (without the constant nh·ln 2):
 * `F(y|x) = ½ Σ_i P_i d_i² − Σ_j ln cosh((Wᵀd)_j)`, d = y − μ.
 * @param y (ny) visible units, read from `y[offset .. offset + ny)`
 */
export function conditionalFreeEnergy(k: Conditional, y: ArrayLike<number>, offset = 0): number {
  const { ny, nh, mu, precision: P, weights: W } = k;
  const z = new Float64Array(nh);
  let self = 0;
  for (let i = 0; i < ny; i++) {
    const d = y[offset + i] - mu[i];
    self += 0.5 * P[i] * d * d;
    if (d === 0) continue;
    const row = i * nh;
    for (let j = 0; j < nh; j++) z[j] += W[row + j] * d;
  }
  let phi = 0;
  for (let j = 0; j < nh; j++) phi += logCosh(z[j]);
  return self - phi;
}

/**
 * `log p(y|x) = −F(y|x) + nh·ln 2 − log Z(x)`.
 *
 * The constant: the joint is `p(y, h|x) = exp(−U(y,h|x)) / Z(x)` with `Z(x) = Σ_h ∫ exp(−U) dy` (Σ_y for Ising
 * units), and `Σ_{h ∈ {±1}^nh} exp((Wᵀd)ᵀh) = Π_j 2 cosh((Wᵀd)_j)`, so the marginal is
 * `exp(−½ dᵀPd + Σ_j ln cosh((Wᵀd)_j) + nh·ln 2) / Z = exp(−F + nh·ln 2) / Z`: F drops the nh·ln 2 that Σ_h
 * adds, and this puts it back. For Gaussian units it is a log density (per unit of y^ny), for Ising units a log
 * probability.
 * @param logZ ln Z(x) as `exactLogZ` / `aisLogZ` compute it (the full sum over h, the 2^nh included)
 */
export function logLikelihood(k: Conditional, y: ArrayLike<number>, logZ: number, offset = 0): number {
  return -conditionalFreeEnergy(k, y, offset) + k.nh * Math.LN2 - logZ;
}
