import { expect } from 'chai';
import { selectBackend, tf } from '@nbm/backend';
import { Stream } from '@nbm/random';
import { conditional64, initParameters, type ModelConfig, type Parameters } from '../src/index.ts';
import { chainRandoms, runChain, sampleHidden, sampleVisible } from '../src/chain.ts';
import { conditionals } from '../src/networks.ts';
import { freeEnergy64 } from '../src/reference.ts';
import { parameterTensors } from '../src/tfjs-engine.ts';
import { spins } from './reference.ts';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** A model with weights large enough that h and y are strongly coupled (a real test of the chain). */
function coupledModel(c: ModelConfig, seed: number): Parameters {
  const p = initParameters(c, seed);
  const w = p.specs.findIndex((s) => s.name === 'weights_net.net.0.bias');
  p.values[w] = p.values[w].map((v) => v * 3);
  return p;
}

/** n copies of one context, as a chain batch with example indices 0..n-1 */
function repeatedContext(x: number[], n: number): Float32Array {
  const out = new Float32Array(n * x.length);
  for (let b = 0; b < n; b++) out.set(x, b * x.length);
  return out;
}

describe('Gibbs conditionals', () => {
  before(async () => {
    await selectBackend('cpu');
  });

  it('P(h = +1 | y) is sigmoid(2 Wᵀ(y − μ)) and y | h has mean μ + Wh/P and variance 1/P (Gaussian)', () => {
    const c: ModelConfig = { nx: 2, ny: 3, nh: 2, width: 4, visible: 'gaussian' };
    const params = coupledModel(c, 3);
    const x = [1, 0];
    const n = 20000;
    const k = conditional64(c, params, x);
    const y0 = [0.7, -0.4, 1.2];
    const h0 = [1, -1];
    const pt = parameterTensors(params);
    const { hMean, yMean, yVar } = tf.tidy(() => {
      const kk = conditionals(c, pt, tf.tensor2d(repeatedContext(x, n), [n, 2]));
      const r = chainRandoms(c, Uint32Array.from({ length: n }, (_, i) => i), { seed: 5, counter: 0, hiddenStream: Stream.hidden, visibleStream: Stream.visible }, 1);
      const h = sampleHidden(tf.tensor2d(repeatedContext(y0, n), [n, 3]), kk, tf.tensor2d(r.hidden, [n, 2]));
      const y = sampleVisible(c, tf.tensor2d(repeatedContext(h0, n), [n, 2]), kk, tf.tensor2d(r.visible, [n, 3]));
      const moments = tf.moments(y, 0);
      return { hMean: tf.mean(h, 0).arraySync() as number[], yMean: moments.mean.arraySync() as number[], yVar: moments.variance.arraySync() as number[] };
    });
    tf.dispose(Object.values(pt));
    for (let j = 0; j < 2; j++) {
      let z = 0;
      for (let i = 0; i < 3; i++) z += k.W[i * c.nh + j] * (y0[i] - k.mu[i]);
      const p = sigmoid(2 * z);
      // E[h] = 2p − 1, SE = 2·sqrt(p(1−p)/n); 5 SE
      expect(hMean[j]).to.be.closeTo(2 * p - 1, 10 * Math.sqrt((p * (1 - p)) / n));
    }
    for (let i = 0; i < 3; i++) {
      const field = k.W[i * c.nh + 0] * h0[0] + k.W[i * c.nh + 1] * h0[1];
      const mean = k.mu[i] + field / k.P[i];
      const v = 1 / k.P[i];
      expect(yMean[i]).to.be.closeTo(mean, 5 * Math.sqrt(v / n));
      // the sample variance's SE is v·sqrt(2/n)
      expect(yVar[i]).to.be.closeTo(v, 5 * v * Math.sqrt(2 / n));
    }
  });

  it('P(y_i = +1 | h) is sigmoid(2(P μ + W h)_i) (Ising)', () => {
    const c: ModelConfig = { nx: 2, ny: 3, nh: 2, width: 4, visible: 'ising' };
    const params = coupledModel(c, 4);
    const x = [0, 1];
    const n = 20000;
    const k = conditional64(c, params, x);
    const h0 = [-1, 1];
    const pt = parameterTensors(params);
    const yMean = tf.tidy(() => {
      const kk = conditionals(c, pt, tf.tensor2d(repeatedContext(x, n), [n, 2]));
      const r = chainRandoms(c, Uint32Array.from({ length: n }, (_, i) => i), { seed: 6, counter: 0, hiddenStream: Stream.hidden, visibleStream: Stream.visible }, 1);
      const y = sampleVisible(c, tf.tensor2d(repeatedContext(h0, n), [n, 2]), kk, tf.tensor2d(r.visible, [n, 3]));
      return tf.mean(y, 0).arraySync() as number[];
    });
    tf.dispose(Object.values(pt));
    for (let i = 0; i < 3; i++) {
      const a = k.P[i] * k.mu[i] + k.W[i * c.nh + 0] * h0[0] + k.W[i * c.nh + 1] * h0[1];
      const p = sigmoid(2 * a);
      expect(yMean[i]).to.be.closeTo(2 * p - 1, 10 * Math.sqrt((p * (1 - p)) / n));
    }
  });
});

describe('the whole chain samples the model', () => {
  before(async () => {
    await selectBackend('cpu');
  });

  function longChains(c: ModelConfig, params: Parameters, x: number[], n: number, k: number): number[][] {
    const pt = parameterTensors(params);
    const out = tf.tidy(() => {
      const kk = conditionals(c, pt, tf.tensor2d(repeatedContext(x, n), [n, c.nx]));
      const r = chainRandoms(c, Uint32Array.from({ length: n }, (_, i) => i), { seed: 8, counter: 1, hiddenStream: Stream.sampleHidden, visibleStream: Stream.sampleVisible }, k);
      return runChain(c, kk, r, k).arraySync() as number[][];
    });
    tf.dispose(Object.values(pt));
    return out;
  }

  it('Gaussian (ny 3, nh 4): sample mean and covariance match the exact mixture', () => {
    const c: ModelConfig = { nx: 2, ny: 3, nh: 4, width: 4, visible: 'gaussian' };
    const params = coupledModel(c, 21);
    const x = [1, 0];
    const k = conditional64(c, params, x);
    // exact: p(h) ∝ exp(½ hᵀJh), J = Wᵀ P⁻¹ W; y | h ~ N(μ + P⁻¹Wh, P⁻¹)
    const hs = spins(c.nh);
    const logw = hs.map((h) => {
      let e = 0;
      for (let i = 0; i < c.ny; i++) {
        let f = 0;
        for (let j = 0; j < c.nh; j++) f += k.W[i * c.nh + j] * h[j];
        e += (0.5 * f * f) / k.P[i];
      }
      return e;
    });
    const max = Math.max(...logw);
    const w = logw.map((l) => Math.exp(l - max));
    const Z = w.reduce((a, b) => a + b, 0);
    const cm = hs.map((h) => Array.from(k.mu, (m, i) => m + h.reduce((s, hj, j) => s + k.W[i * c.nh + j] * hj, 0) / k.P[i]));
    const mean = [0, 1, 2].map((i) => cm.reduce((s, m, t) => s + (w[t] / Z) * m[i], 0));
    const cov = [0, 1, 2].map((i) => [0, 1, 2].map((j) => cm.reduce((s, m, t) => s + (w[t] / Z) * (m[i] - mean[i]) * (m[j] - mean[j]), 0) + (i === j ? 1 / k.P[i] : 0)));
    // the coupling is strong: the variance along y must differ clearly from the uncoupled 1/P
    expect(Math.abs(cov[0][0] - 1 / k.P[0]) + Math.abs(cov[1][1] - 1 / k.P[1])).to.be.above(0.05);

    const n = 8000;
    const ys = longChains(c, params, x, n, 40);
    for (let i = 0; i < 3; i++) {
      const m = ys.reduce((s, y) => s + y[i], 0) / n;
      expect(m, `mean[${i}]`).to.be.closeTo(mean[i], 5 * Math.sqrt(cov[i][i] / n));
      for (let j = 0; j < 3; j++) {
        const mj = ys.reduce((s, y) => s + y[j], 0) / n;
        const cij = ys.reduce((s, y) => s + (y[i] - m) * (y[j] - mj), 0) / (n - 1);
        // SE of a sample covariance ≈ sqrt((σii σjj + σij²)/n) for near-Gaussian data; 5 SE
        const se = Math.sqrt((cov[i][i] * cov[j][j] + cov[i][j] ** 2) / n);
        expect(cij, `cov[${i}][${j}]`).to.be.closeTo(cov[i][j], 5 * se);
      }
    }
  });

  it('Ising (ny 3, nh 4): the frequencies of all 8 states match exp(−F) by chi-square', () => {
    const c: ModelConfig = { nx: 2, ny: 3, nh: 4, width: 4, visible: 'ising' };
    const params = coupledModel(c, 22);
    const x = [0, 1];
    const k = conditional64(c, params, x);
    const states = spins(c.ny);
    const logp = states.map((y) => -freeEnergy64(c, k, y));
    const max = Math.max(...logp);
    const Z = logp.reduce((s, l) => s + Math.exp(l - max), 0);
    const p = logp.map((l) => Math.exp(l - max) / Z);
    const n = 8000;
    const ys = longChains(c, params, x, n, 40);
    const counts = new Array(states.length).fill(0);
    for (const y of ys) counts[states.findIndex((s) => s.every((v, i) => v === y[i]))]++;
    const chi2 = counts.reduce((s, o, t) => s + (o - n * p[t]) ** 2 / (n * p[t]), 0);
    // 7 degrees of freedom: the 0.999 quantile is 24.32
    expect(chi2).to.be.below(24.32);
    // and the model is far from uniform, so the test has power
    expect(Math.max(...p) / Math.min(...p)).to.be.above(2);
  });
});
