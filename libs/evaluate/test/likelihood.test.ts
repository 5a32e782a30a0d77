import { expect } from 'chai';
import { aisLogZ } from '../src/ais.ts';
import { exactLogZ } from '../src/exact.ts';
import { conditionalFreeEnergy, logLikelihood } from '../src/likelihood.ts';
import { type Conditional } from '../src/conditional.ts';
import { randomConditional } from './models.ts';

/** ln N(y; μ, 1/P) summed over units, written from the textbook density. */
function diagonalGaussian(k: Conditional, y: number[]): number {
  let s = 0;
  for (let i = 0; i < k.ny; i++) s += 0.5 * Math.log(k.precision[i] / (2 * Math.PI)) - 0.5 * k.precision[i] * (y[i] - k.mu[i]) ** 2;
  return s;
}

/**
 * ln Π_i p(y_i) for independent ±1 units with p(y_i) ∝ exp(−½ P_i (y_i − μ_i)²), the W = 0 model: normalised over
 * y_i ∈ {−1, +1} directly.
 */
function independentSpins(k: Conditional, y: number[]): number {
  let s = 0;
  for (let i = 0; i < k.ny; i++) {
    const e = (v: number) => Math.exp(-0.5 * k.precision[i] * (v - k.mu[i]) ** 2);
    s += Math.log(e(y[i]) / (e(1) + e(-1)));
  }
  return s;
}

describe('log-likelihood', () => {
  it('of a W = 0 model equals the diagonal Gaussian log density to 1e-9 (exact and AIS log Z)', () => {
    for (const seed of [1, 2, 3]) {
      const k = randomConditional(seed, { ny: 30, nh: 12, visible: 'gaussian', coupling: 0, logPrecisionSpread: 6 });
      const y = Array.from({ length: 30 }, (_, i) => Math.sin(seed * 7 + i) * 1.5);
      const expected = diagonalGaussian(k, y);
      expect(logLikelihood(k, y, exactLogZ(k, 'gaussian'))).to.be.closeTo(expected, 1e-9);
      expect(logLikelihood(k, y, aisLogZ(k, 'gaussian', { chains: 4, steps: 10, seed, contextId: 0 }).logZ)).to.be.closeTo(expected, 1e-9);
    }
  });

  it('of a W = 0 Ising model equals the independent-Bernoulli log probability to 1e-9 (exact and AIS log Z)', () => {
    for (const seed of [1, 2, 3]) {
      const k = randomConditional(seed, { ny: 30, nh: 12, visible: 'ising', coupling: 0, logPrecisionSpread: 6 });
      const y = Array.from({ length: 30 }, (_, i) => (Math.sin(seed * 7 + i) > 0 ? 1 : -1));
      const expected = independentSpins(k, y);
      expect(logLikelihood(k, y, exactLogZ(k, 'ising'))).to.be.closeTo(expected, 1e-9);
      expect(logLikelihood(k, y, aisLogZ(k, 'ising', { chains: 4, steps: 10, seed, contextId: 0 }).logZ)).to.be.closeTo(expected, 1e-9);
    }
  });

  it('F(y|x) = −ln Σ_h exp(−U(y,h|x)) + nh·ln 2, by brute force over h', () => {
    const k = randomConditional(9, { ny: 5, nh: 6, visible: 'gaussian', coupling: 4 });
    const y = [0.3, -1.2, 0.8, 2, -0.5];
    const terms: number[] = [];
    for (let s = 0; s < 2 ** k.nh; s++) {
      let u = 0;
      for (let i = 0; i < k.ny; i++) {
        const d = y[i] - k.mu[i];
        u += 0.5 * k.precision[i] * d * d;
        for (let j = 0; j < k.nh; j++) u -= d * k.weights[i * k.nh + j] * ((s >> j) & 1 ? 1 : -1);
      }
      terms.push(-u);
    }
    const m = Math.max(...terms);
    const logSum = m + Math.log(terms.reduce((a, t) => a + Math.exp(t - m), 0));
    expect(conditionalFreeEnergy(k, y)).to.be.closeTo(-logSum + k.nh * Math.LN2, 1e-10);
  });

  it('reads one row of a batch at an offset', () => {
    const k = randomConditional(2, { ny: 4, nh: 3, visible: 'gaussian', coupling: 1 });
    const rows = [0.1, 0.2, 0.3, 0.4, -1, 0.5, 2, -0.7];
    expect(conditionalFreeEnergy(k, rows, 4)).to.equal(conditionalFreeEnergy(k, rows.slice(4)));
  });
});
