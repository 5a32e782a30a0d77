import { expect } from 'chai';
import { blockMaxAbs, fixedExponents, fixedSum, floatSum, gradientLayout } from '@nbm/collective';
import type { ModelConfig } from '@nbm/model';
import { createNativeEngine } from '../src/index.ts';
import { bitwiseEqual, kernelOrSkip, makeBlock, makeParams } from './helpers.ts';

/**
 * A shard sums each row over its blocks as the row is computed (NativeKernel.shard), so no block's gradient is
 * written. Whatever it saves, its sums must be those of the blocks' own gradients (blockGradients) reduced by
 * @nbm/collective's JavaScript, bit for bit, for the same exponents; and its bounds must bound those gradients.
 */
describe('a native shard sums its rows over the blocks as blockGradients and the JavaScript reduce would, bit for bit', () => {
  const CASES: Array<{ name: string; c: ModelConfig; sizes: number[]; dense?: boolean }> = [
    { name: 'Gaussian, one-hot x, ny 37 (a partial row item), width 40 (a partial vector), blocks of 5, 5, 2', c: { nx: 6, ny: 37, nh: 20, width: 40, visible: 'gaussian' }, sizes: [5, 5, 2] },
    { name: 'Ising, dense x, nh 17, nh 1-sized blocks of 1 and 3', c: { nx: 4, ny: 21, nh: 17, width: 7, visible: 'ising' }, sizes: [1, 3], dense: true },
    { name: 'nh 1, width 1, one block of 1', c: { nx: 2, ny: 5, nh: 1, width: 1, visible: 'gaussian' }, sizes: [1] },
    { name: 'Gaussian, MNIST-sized 784 × 64, 4 blocks of 16', c: { nx: 10, ny: 784, nh: 64, width: 32, visible: 'gaussian' }, sizes: [16, 16, 16, 16] },
  ];
  for (const { name, c, sizes, dense } of CASES) {
    it(name, function () {
      const kernel = kernelOrSkip(this);
      const params = makeParams(c, 5);
      let first = 0;
      const blocks = sizes.map((m, i) => {
        const b = makeBlock(c, m, 40 + i, { dense, first });
        first += m;
        return b;
      });
      const layout = gradientLayout(params);
      const key = { seed: 7, step: 11 };
      for (const [tier, threads] of kernel.tiers.flatMap((t) => [[t, 1], [t, 2]] as const)) {
        const k = kernel.withTier(tier);
        const grads = k.blockGradients(c, params, blocks, key, 3, { threads });
        const shard = k.shard(c, params, blocks, key, 3, { threads });
        const at = `${tier}, ${threads} thread(s)`;
        expect(shard.stats, at).to.deep.equal(grads.map((g) => g.stats));
        // bounds: at least the maxima (exact for the first layers), and the exponents chosen from them
        const max = blockMaxAbs(grads, layout);
        for (let t = 0; t < 10; t++) expect(shard.bounds[t], `tensor ${t}, ${at}`).to.be.at.least(max[t]);
        for (const t of [0, 1, 4, 5]) expect(shard.bounds[t], `tensor ${t}`).to.equal(max[t]);
        for (const exponents of [fixedExponents(shard.bounds, sizes.length), fixedExponents(max, sizes.length)]) {
          expect(bitwiseEqual(shard.fixedSum(exponents), fixedSum(grads, exponents, layout)), `fixed sums, ${at}`).to.equal(true);
        }
        expect(bitwiseEqual(shard.floatSum(), floatSum(grads, layout)), `float sums, ${at}`).to.equal(true);
      }
    });
  }

  it('the bounds are within a small factor of the maxima on the MNIST-sized model (so the exponents lose few bits)', function () {
    const kernel = kernelOrSkip(this);
    const c: ModelConfig = { nx: 10, ny: 784, nh: 64, width: 32, visible: 'gaussian' };
    const params = makeParams(c, 2);
    const blocks = [0, 1, 2, 3].map((i) => makeBlock(c, 16, 60 + i, { first: 16 * i }));
    const grads = kernel.blockGradients(c, params, blocks, { seed: 1, step: 2 }, 3);
    const shard = kernel.shard(c, params, blocks, { seed: 1, step: 2 }, 3);
    const max = blockMaxAbs(grads, gradientLayout(params));
    // a bound ≤ 2^6 × the maximum costs at most 6 of the fixed point's ≈ 44 bits (docs/architecture.md)
    for (let t = 0; t < 10; t++) expect(shard.bounds[t] / max[t], `tensor ${t}`).to.be.below(64);
  });

  it('a NaN anywhere makes its bound Infinity; a shard is valid until the next one; wrong exponents are refused', function () {
    const kernel = kernelOrSkip(this);
    const c: ModelConfig = { nx: 3, ny: 19, nh: 4, width: 5, visible: 'ising' };
    const params = makeParams(c, 4);
    const blocks = [makeBlock(c, 2, 1), makeBlock(c, 2, 2, { first: 2 })];
    const key = { seed: 3, step: 9 };
    for (const t of [2, 8]) {
      const bad = makeParams(c, 4);
      bad.values[t][1] = Number.NaN;
      expect(Array.from(kernel.shard(c, bad, blocks, key, 2).bounds), `NaN in tensor ${t}`).to.include(Infinity);
    }
    const a = kernel.shard(c, params, blocks, key, 2);
    const exponents = fixedExponents(a.bounds, 2);
    const sum = a.fixedSum(exponents);
    kernel.shard(c, params, blocks, key, 2);
    expect(() => a.fixedSum(exponents)).to.throw(RangeError, "the shard's results are gone");
    const b = kernel.shard(c, params, blocks, key, 2);
    expect(bitwiseEqual(b.fixedSum(exponents), sum)).to.equal(true);
    const tooFine = (t: number) => Int32Array.from(exponents, (e, i) => (i === t ? e + 4 : e));
    expect(() => b.fixedSum(tooFine(8))).to.throw(RangeError, /^a gradient at visible row \d+ is not finite or too large for the fixed-point exponents$/);
    expect(() => b.fixedSum(tooFine(0))).to.throw(RangeError, "fixed-point overflow in the first layers' sum");
    expect(() => b.fixedSum(new Int32Array(3))).to.throw(RangeError, 'exponents has 3 entries, the model has 10 tensors');
  });

  it('an empty shard sums to zeros of the model size', function () {
    const kernel = kernelOrSkip(this);
    const c: ModelConfig = { nx: 3, ny: 9, nh: 4, width: 5, visible: 'gaussian' };
    const params = makeParams(c, 1);
    const shard = kernel.shard(c, params, [], { seed: 1, step: 0 }, 2);
    const total = gradientLayout(params).total;
    expect(Array.from(shard.bounds)).to.deep.equal(new Array(10).fill(0));
    expect(Array.from(shard.fixedSum(new Int32Array(10)))).to.deep.equal(new Array(total).fill(0));
    expect(Array.from(shard.floatSum())).to.deep.equal(new Array(total).fill(0));
  });

  it("the native engine's shardGradients is this shard, its sums written into reused arrays", async function () {
    const kernel = kernelOrSkip(this);
    const c: ModelConfig = { nx: 4, ny: 23, nh: 6, width: 9, visible: 'gaussian' };
    const params = makeParams(c, 3);
    const blocks = [makeBlock(c, 3, 5), makeBlock(c, 3, 6, { first: 3 })];
    const engine = createNativeEngine(c, { kernel, threads: 2, reuseOutputs: true });
    const key = { seed: 2, step: 4 };
    const s1 = await engine.shardGradients!(params, blocks, key, 2);
    const exponents = fixedExponents(await s1.bounds(), 2);
    const first = await s1.fixedSum(exponents);
    const expected = kernel.shard(c, params, blocks, key, 2).fixedSum(exponents);
    expect(bitwiseEqual(first, expected)).to.equal(true);
    const s2 = await engine.shardGradients!(params, blocks, key, 2);
    expect(await s2.fixedSum(exponents), 'the same array, rewritten').to.equal(first);
  });
});
