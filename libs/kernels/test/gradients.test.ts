import { expect } from 'chai';
import { selectBackend } from '@nbm/backend';
import { createTfjsEngine, type ModelConfig } from '@nbm/model';
import { kernelOrSkip, makeBlock, makeParams, normwiseError } from './helpers.ts';
import { blockGradient64 } from '@nbm/model';

const CASES: Array<{ name: string; c: ModelConfig; m: number; k: number; dense?: boolean }> = [
  { name: 'Gaussian, ny 13, nh 5', c: { nx: 4, ny: 13, nh: 5, width: 7, visible: 'gaussian' }, m: 3, k: 6 },
  { name: 'Ising, ny 13, nh 5', c: { nx: 4, ny: 13, nh: 5, width: 7, visible: 'ising' }, m: 3, k: 6 },
  { name: 'Gaussian, nh 1, B 1', c: { nx: 3, ny: 17, nh: 1, width: 4, visible: 'gaussian' }, m: 1, k: 3 },
  { name: 'Ising, nh 1, B 1', c: { nx: 3, ny: 17, nh: 1, width: 4, visible: 'ising' }, m: 1, k: 3 },
  { name: 'Gaussian, dense x, width 40', c: { nx: 6, ny: 37, nh: 20, width: 40, visible: 'gaussian' }, m: 5, k: 5, dense: true },
  { name: 'Ising, dense x, width 40', c: { nx: 6, ny: 37, nh: 20, width: 40, visible: 'ising' }, m: 5, k: 5, dense: true },
  { name: 'Gaussian, MNIST-like 784 × 64', c: { nx: 10, ny: 784, nh: 64, width: 32, visible: 'gaussian' }, m: 4, k: 4 },
];

// Tolerance: the kernel sums in float32 (the reference in float64). Each gradient entry is a sum of a few
// hundred products at most, so its rounding error is below ~1e-6 of the array's largest entry; 1e-5 leaves a
// margin, while a wrong or missing term moves entries by O(the largest entry).
const RTOL = 1e-5;

describe('native block gradients vs a float64 reference', () => {
  for (const { name, c, m, k, dense } of CASES) {
    it(`${name}: every parameter's gradient, the free energies and statistics within ${RTOL}`, function () {
      const kernel = kernelOrSkip(this);
      const params = makeParams(c, 21);
      const blk = makeBlock(c, m, 9, { dense, first: 7 });
      const key = { seed: 5, step: 31 };
      const [got] = kernel.blockGradients(c, params, [blk], key, k, { threads: 2 });
      // the negative samples of the same keyed chain (checked against the reference in chain.test.ts)
      const yModel = kernel.gibbsChain(c, params, blk.x, blk.index, key, k).y;
      const ref = blockGradient64(c, params, blk.x, blk.y, yModel, m);
      params.specs.forEach((s, i) => {
        expect(got.grads[i].length, s.name).to.equal(ref.grads[i].length);
        expect(normwiseError(got.grads[i], ref.grads[i]), s.name).to.be.at.most(RTOL);
      });
      // the clip: units 0 and 2 of the precision net are pushed outside [ln 1e-3, ln 1e3] (makeParams)
      expect(got.grads[7][0]).to.equal(0);
      if (c.ny > 2) expect(got.grads[7][2]).to.equal(0);
      const s = got.stats;
      for (const f of ['freeEnergyData', 'freeEnergyModel', 'squaredErrorBias', 'sumY', 'sumY2', 'sumV', 'sumVY2'] as const) {
        expect(Math.abs(s[f] - ref.stats[f]), f).to.be.at.most(RTOL * Math.max(1, Math.abs(ref.stats[f])));
      }
      expect(s.finite).to.equal(true);
    });
  }

  it('flags a non-finite result instead of returning it silently', function () {
    const kernel = kernelOrSkip(this);
    const c: ModelConfig = { nx: 3, ny: 9, nh: 4, width: 5, visible: 'gaussian' };
    const params = makeParams(c, 2);
    params.values[2][3] = Number.NaN; // one weight of the bias net's output layer
    const [r] = kernel.blockGradients(c, params, [makeBlock(c, 2, 1)], { seed: 1, step: 1 }, 2);
    expect(r.stats.finite).to.equal(false);
  });

  it('empty blocks give zero gradients and statistics', function () {
    const kernel = kernelOrSkip(this);
    const c: ModelConfig = { nx: 3, ny: 9, nh: 4, width: 5, visible: 'ising' };
    const empty = { count: 0, x: new Float32Array(0), y: new Float32Array(0), index: new Uint32Array(0) };
    const [r] = kernel.blockGradients(c, makeParams(c, 2), [empty], { seed: 1, step: 1 }, 2);
    expect(r.grads.every((g) => g.every((v) => v === 0))).to.equal(true);
    expect(r.stats.freeEnergyData).to.equal(0);
    expect(r.stats.finite).to.equal(true);
  });
});

describe('native block gradients vs the tfjs engine (cpu backend)', () => {
  before(async () => {
    await selectBackend('cpu');
  });

  // Both engines draw the chain's numbers from the same Philox streams and compute in float32: they agree to
  // rounding unless a uniform lands within ~1e-7 of its probability (about one draw in 10^6-10^7; the fixed
  // seeds here have none, and the step-by-step check in chain.test.ts covers the chain itself).
  for (const visible of ['gaussian', 'ising'] as const) {
    it(`${visible}: gradients and statistics of three blocks within ${RTOL}`, function () {
      const kernel = kernelOrSkip(this);
      const c: ModelConfig = { nx: 5, ny: 29, nh: 7, width: 8, visible };
      const params = makeParams(c, 4);
      const blocks = [makeBlock(c, 3, 1, { first: 0 }), makeBlock(c, 1, 2, { first: 3, dense: true }), makeBlock(c, 4, 3, { first: 4 })];
      const key = { seed: 12, step: 345 };
      const native = kernel.blockGradients(c, params, blocks, key, 5, { threads: 2 });
      const tfjs = createTfjsEngine(c).blockGradients(params, blocks, key, 5);
      native.forEach((n, b) => {
        n.grads.forEach((g, i) => expect(normwiseError(g, tfjs[b].grads[i]), `block ${b} ${params.specs[i].name}`).to.be.at.most(RTOL));
        for (const [f, v] of Object.entries(n.stats)) {
          const t = tfjs[b].stats[f as keyof typeof n.stats];
          if (typeof v === 'boolean') expect(v, f).to.equal(t);
          else expect(Math.abs(v - (t as number)), `block ${b} ${f}`).to.be.at.most(RTOL * Math.max(1, Math.abs(t as number)));
        }
      });
    });
  }
});
