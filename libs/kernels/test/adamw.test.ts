import { expect } from 'chai';
import { adamwStep, cloneParameters, initAdamW, type AdamWConfig, type ModelConfig } from '@nbm/model';
import { bitwiseEqual, kernelOrSkip, lcg, makeParams } from './helpers.ts';

describe('native AdamW', () => {
  it("equals @nbm/model's adamwStep bit for bit over several steps, on every tier and thread count", function () {
    const kernel = kernelOrSkip(this);
    // ny·nh·nx = 70 000 weights: several of the addon's 32k-element chunks, and tails that are not a
    // multiple of 16
    const c: ModelConfig = { nx: 7, ny: 250, nh: 40, width: 13, visible: 'gaussian' };
    const cfg: AdamWConfig = { lr: 0.01, decay: { bias: 0.5, precision: 0.25, weights: 1.0 } };
    for (const tier of kernel.tiers) {
      for (const threads of [1, 2]) {
        const ref = makeParams(c, 3);
        const got = cloneParameters(ref);
        const sRef = initAdamW(ref);
        const sGot = initAdamW(got);
        const rnd = lcg(17);
        for (let step = 0; step < 4; step++) {
          // gradients over many magnitudes, with zeros and signs of both kinds
          const grads = ref.values.map((v) => v.map(() => (rnd() < 0.05 ? 0 : (rnd() - 0.5) * 10 ** (6 * rnd() - 4))));
          adamwStep(ref, grads, sRef, cfg);
          kernel.withTier(tier).adamwStep(got, grads, sGot, cfg, { threads });
        }
        expect(sGot.step).to.equal(4);
        ref.values.forEach((v, i) => {
          expect(bitwiseEqual(got.values[i], v), `${tier}, ${threads} threads: ${ref.specs[i].name}`).to.equal(true);
          expect(bitwiseEqual(sGot.m[i], sRef.m[i])).to.equal(true);
          expect(bitwiseEqual(sGot.v[i], sRef.v[i])).to.equal(true);
        });
      }
    }
  });

  it('refuses gradients that do not fit the parameters', function () {
    const kernel = kernelOrSkip(this);
    const c: ModelConfig = { nx: 2, ny: 5, nh: 3, width: 4, visible: 'ising' };
    const p = makeParams(c, 1);
    const s = initAdamW(p);
    const grads = p.values.map((v, i) => (i === 3 ? new Float32Array(v.length + 1) : new Float32Array(v.length)));
    expect(() => kernel.adamwStep(p, grads, s, { lr: 1e-3, decay: { bias: 0, precision: 0, weights: 0 } })).to.throw(RangeError, 'gradient of bias_net.net.2.bias has 6 values, expected 5');
    expect(s.step).to.equal(0);
  });
});
