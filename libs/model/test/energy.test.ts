import { expect } from 'chai';
import { selectBackend, tf } from '@nbm/backend';
import { conditional64, initParameters, type ModelConfig } from '../src/index.ts';
import { conditionals, freeEnergy } from '../src/networks.ts';
import { energy64, freeEnergy64 } from '../src/reference.ts';
import { parameterTensors } from '../src/tfjs-engine.ts';
import { spins } from './reference.ts';

describe('free energy', () => {
  before(async () => {
    await selectBackend('cpu');
  });

  for (const visible of ['gaussian', 'ising'] as const) {
    it(`equals −log Σ_h exp(−U) + nh·ln2 by brute force over h (${visible}, nh = 8)`, () => {
      const c: ModelConfig = { nx: 3, ny: 5, nh: 8, width: 4, visible };
      const params = initParameters(c, 11);
      // larger weights than the default init, so that the logcosh term matters
      params.values[8] = params.values[8].map((v) => v * 6);
      const x = [[1, 0, 0], [0.3, -0.7, 2]];
      const y = visible === 'gaussian' ? [[0.2, -1.1, 0.5, 0.9, -0.3], [1.5, 0.1, -0.4, -2, 0.7]] : [[1, -1, 1, 1, -1], [-1, -1, 1, -1, 1]];
      const pt = parameterTensors(params);
      const F = tf.tidy(() => freeEnergy(tf.tensor2d(y), conditionals(c, pt, tf.tensor2d(x))).arraySync() as number[]);
      tf.dispose(Object.values(pt));
      for (let b = 0; b < x.length; b++) {
        const k = conditional64(c, params, x[b]);
        const terms = spins(c.nh).map((h) => -energy64(c, k, y[b], h));
        const max = Math.max(...terms);
        const logSum = max + Math.log(terms.reduce((s, t) => s + Math.exp(t - max), 0));
        const brute = -logSum + c.nh * Math.LN2;
        expect(freeEnergy64(c, k, y[b])).to.be.closeTo(brute, 1e-9);
        // float32 tfjs vs float64 brute force: relative 1e-5 of the terms' scale
        expect(F[b]).to.be.closeTo(brute, 1e-5 * (1 + Math.abs(brute)) * 10);
      }
    });
  }
});
