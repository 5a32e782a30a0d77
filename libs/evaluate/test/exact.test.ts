import { expect } from 'chai';
import { couplings, type Conditional } from '../src/conditional.ts';
import { exactLogZ } from '../src/exact.ts';
import { logLikelihood } from '../src/likelihood.ts';
import { randomConditional } from './models.ts';

/** All ±1 vectors of length n, as arrays. */
function spins(n: number): number[][] {
  return Array.from({ length: 2 ** n }, (_, s) => Array.from({ length: n }, (_, j) => ((s >> j) & 1 ? 1 : -1)));
}

/** U(y, h|x) = ½ (y − μ)ᵀ P (y − μ) − (y − μ)ᵀ W h, as docs/model.md#energy-and-free-energy writes it. */
function energy(k: Conditional, y: ArrayLike<number>, h: number[]): number {
  let u = 0;
  for (let i = 0; i < k.ny; i++) {
    const d = y[i] - k.mu[i];
    u += 0.5 * k.precision[i] * d * d;
    for (let j = 0; j < k.nh; j++) u -= d * k.weights[i * k.nh + j] * h[j];
  }
  return u;
}

function logSumExp(terms: number[]): number {
  const m = Math.max(...terms);
  return m + Math.log(terms.reduce((s, t) => s + Math.exp(t - m), 0));
}

/**
 * ln ∫∫ g(y) dy over R² by the trapezoid rule on a grid that covers every mode by ±14 standard deviations. For
 * smooth, rapidly decaying integrands (Gaussian mixtures here) the trapezoid rule converges geometrically in the
 * spacing: with spacing σ/6 the error is below exp(−2π²·36) relative, i.e. rounding only.
 */
function quadrature2d(k: Conditional, logG: (y: [number, number]) => number): number {
  const lo: number[] = [];
  const step: number[] = [];
  const count: number[] = [];
  for (let i = 0; i < 2; i++) {
    const sd = 1 / Math.sqrt(k.precision[i]);
    let shift = 0; // the largest mode offset (Wh)_i / P_i over h
    for (let j = 0; j < k.nh; j++) shift += Math.abs(k.weights[i * k.nh + j]) / k.precision[i];
    lo.push(k.mu[i] - shift - 14 * sd);
    step.push(sd / 6);
    count.push(Math.ceil((2 * shift + 28 * sd) / (sd / 6)) + 1);
  }
  const terms: number[] = [];
  for (let a = 0; a < count[0]; a++) {
    for (let b = 0; b < count[1]; b++) {
      const w = (a === 0 || a === count[0] - 1 ? 0.5 : 1) * (b === 0 || b === count[1] - 1 ? 0.5 : 1);
      terms.push(Math.log(w) + logG([lo[0] + a * step[0], lo[1] + b * step[1]]));
    }
  }
  return logSumExp(terms) + Math.log(step[0] * step[1]);
}

describe('exact log Z by enumeration over h', () => {
  for (const coupling of [0.5, 3]) {
    it(`Gaussian (ny 2, nh 3, λ_max(J) = ${coupling}): equals 2-D quadrature of Σ_h exp(−U) over y to 1e-9`, () => {
      for (const seed of [1, 2, 3]) {
        const k = randomConditional(seed, { ny: 2, nh: 3, visible: 'gaussian', coupling });
        const hs = spins(3);
        const integral = quadrature2d(k, (y) => logSumExp(hs.map((h) => -energy(k, y, h))));
        expect(exactLogZ(k, 'gaussian'), `seed ${seed}`).to.be.closeTo(integral, 1e-9);
      }
    });
  }

  it('Gaussian: the density exp(log p(y|x)) integrates to 1 (checks the nh·ln 2 constant)', () => {
    const k = randomConditional(4, { ny: 2, nh: 3, visible: 'gaussian', coupling: 2 });
    const logZ = exactLogZ(k, 'gaussian');
    expect(quadrature2d(k, (y) => logLikelihood(k, y, logZ))).to.be.closeTo(0, 1e-9);
  });

  for (const [ny, nh] of [[6, 4], [3, 7]]) {
    it(`Ising (ny ${ny}, nh ${nh}): equals brute-force Σ_y Σ_h exp(−U) to 1e-10, and Σ_y p(y|x) = 1`, () => {
      for (const seed of [1, 2, 3]) {
        const k = randomConditional(seed, { ny, nh, visible: 'ising', coupling: 3, logPrecisionSpread: 2 });
        const ys = spins(ny);
        const hs = spins(nh);
        const brute = logSumExp(ys.flatMap((y) => hs.map((h) => -energy(k, y, h))));
        const logZ = exactLogZ(k, 'ising');
        expect(logZ, `seed ${seed}`).to.be.closeTo(brute, 1e-10);
        expect(logSumExp(ys.map((y) => logLikelihood(k, y, logZ))), `seed ${seed}: Σ_y p`).to.be.closeTo(0, 1e-10);
      }
    });
  }

  // The Gray-code walk updates sums incrementally and re-synchronises every 4096 states; nh = 14 crosses that
  // several times. The reference evaluates every state from scratch.
  it('the Gray-code walk equals direct evaluation of every hidden state (nh 14, both unit types)', () => {
    const nh = 14;
    const hs = spins(nh);
    const g = randomConditional(5, { ny: 5, nh, visible: 'gaussian', coupling: 2.5 });
    const J = couplings(g);
    const quad = (h: number[]) => {
      let s = 0;
      for (let a = 0; a < nh; a++) for (let b = 0; b < nh; b++) s += h[a] * J[a * nh + b] * h[b];
      return 0.5 * s;
    };
    let constG = 0.5 * g.ny * Math.log(2 * Math.PI);
    for (const p of g.precision) constG -= 0.5 * Math.log(p);
    expect(exactLogZ(g, 'gaussian')).to.be.closeTo(constG + logSumExp(hs.map(quad)), 1e-9);

    const s = randomConditional(6, { ny: 5, nh, visible: 'ising', coupling: 2.5 });
    const term = (h: number[]) => {
      let v = 0;
      for (let i = 0; i < s.ny; i++) {
        let wh = 0;
        for (let j = 0; j < nh; j++) wh += s.weights[i * nh + j] * h[j];
        // Σ_{y_i = ±1} exp(−½P(y−μ)² + (y−μ)(Wh)): summed directly, no log-cosh identity
        const e = (y: number) => -0.5 * s.precision[i] * (y - s.mu[i]) ** 2 + (y - s.mu[i]) * wh;
        v += logSumExp([e(1), e(-1)]);
      }
      return v;
    };
    expect(exactLogZ(s, 'ising')).to.be.closeTo(logSumExp(hs.map(term)), 1e-9);
  });

  it('refuses nh > 30 with a message naming the 2^nh states', () => {
    const k = randomConditional(1, { ny: 2, nh: 31, visible: 'gaussian', coupling: 1 });
    expect(() => exactLogZ(k, 'gaussian')).to.throw(RangeError, /2\^nh hidden states; nh = 31/);
  });
});
