import { expect } from 'chai';
import type { BlockGradient, ModelConfig } from '@nbm/model';
import { createNativeEngine } from '../src/index.ts';
import { bitwiseEqual, kernelOrSkip, makeBlock, makeParams } from './helpers.ts';

function sameBits(a: BlockGradient, b: BlockGradient): boolean {
  return a.grads.every((g, i) => bitwiseEqual(g, b.grads[i])) && JSON.stringify(a.stats) === JSON.stringify(b.stats);
}

describe('native kernel results do not depend on how they are computed', () => {
  for (const visible of ['gaussian', 'ising'] as const) {
    const c: ModelConfig = { nx: 10, ny: 100, nh: 24, width: 32, visible };
    const blocks = [makeBlock(c, 10, 1, { first: 0 }), makeBlock(c, 7, 2, { first: 10, dense: true }), makeBlock(c, 10, 3, { first: 17 })];
    const key = { seed: 2, step: 77 };

    it(`${visible}: 1, 2 and 3 threads give the same bits`, function () {
      const kernel = kernelOrSkip(this);
      const params = makeParams(c, 5);
      const [r1, r2, r3] = [1, 2, 3].map((threads) => kernel.blockGradients(c, params, blocks, key, 6, { threads }));
      r1.forEach((r, b) => {
        expect(sameBits(r, r2[b]), `block ${b}, 2 threads`).to.equal(true);
        expect(sameBits(r, r3[b]), `block ${b}, 3 threads`).to.equal(true);
      });
      const s1 = kernel.sample(c, params, blocks[1].x, blocks[1].index, key, 6, false, undefined, { threads: 1 });
      const s3 = kernel.sample(c, params, blocks[1].x, blocks[1].index, key, 6, false, undefined, { threads: 3 });
      expect(bitwiseEqual(s1, s3)).to.equal(true);
    });

    it(`${visible}: a block's result depends only on that block`, function () {
      const kernel = kernelOrSkip(this);
      const params = makeParams(c, 5);
      const together = kernel.blockGradients(c, params, blocks, key, 6, { threads: 2 });
      const alone = kernel.blockGradients(c, params, [blocks[2]], key, 6, { threads: 2 });
      expect(sameBits(together[2], alone[0])).to.equal(true);
      // and a different step draws a different chain
      const other = kernel.blockGradients(c, params, [blocks[2]], { ...key, step: 78 }, 6);
      expect(sameBits(other[0], alone[0])).to.equal(false);
    });

    it(`${visible}: every instruction-set tier gives the same bits`, function () {
      // the tiers run the same element-wise operations in the same order (native/simd.inc), so a run on a
      // machine with AVX-512 and one without agree exactly
      const kernel = kernelOrSkip(this);
      const params = makeParams(c, 6);
      const small = [makeBlock(c, 3, 4, { first: 50 }), makeBlock(c, 2, 5, { first: 60, dense: true })];
      const results = kernel.tiers.map((tier) => kernel.withTier(tier).blockGradients(c, params, small, key, 4, { threads: 2 }));
      for (let t = 1; t < results.length; t++) {
        results[0].forEach((r, b) => expect(sameBits(r, results[t][b]), `${kernel.tiers[0]} vs ${kernel.tiers[t]}, block ${b}`).to.equal(true));
      }
    });
  }

  it('results written into given arrays equal fresh ones, every element overwritten', function () {
    const kernel = kernelOrSkip(this);
    for (const visible of ['gaussian', 'ising'] as const) {
      const c: ModelConfig = { nx: 5, ny: 37, nh: 9, width: 18, visible };
      const params = makeParams(c, 2);
      const blocks = [makeBlock(c, 4, 1), makeBlock(c, 3, 2, { first: 4, dense: true })];
      const fresh = kernel.blockGradients(c, params, blocks, { seed: 3, step: 4 }, 5);
      const out = fresh.map((r) => r.grads.map((g) => new Float32Array(g.length).fill(Number.NaN)));
      const into = kernel.blockGradients(c, params, blocks, { seed: 3, step: 4 }, 5, { out, threads: 2 });
      into.forEach((r, b) => {
        expect(sameBits(r, fresh[b]), `${visible} block ${b}`).to.equal(true);
        r.grads.forEach((g, i) => expect(g).to.equal(out[b][i]));
      });
      // aliasing is refused: an output over a parameter, or two outputs over one buffer
      const alias: Float32Array[][] = out.map((o) => [...o]);
      alias[0][9] = params.values[9];
      expect(() => kernel.blockGradients(c, params, blocks, { seed: 3, step: 4 }, 5, { out: alias })).to.throw(RangeError, 'out overlaps another output, a parameter or a block');
      const twice = [out[0], out[0]];
      expect(() => kernel.blockGradients(c, params, blocks, { seed: 3, step: 4 }, 5, { out: twice })).to.throw(RangeError, 'out overlaps');
    }
  });

  it('an engine that reuses its outputs returns the same arrays, refilled', function () {
    const kernel = kernelOrSkip(this);
    const c: ModelConfig = { nx: 4, ny: 30, nh: 8, width: 6, visible: 'gaussian' };
    const params = makeParams(c, 1);
    const blocks = [makeBlock(c, 4, 1), makeBlock(c, 3, 2, { first: 4 })];
    const engine = createNativeEngine(c, { threads: 2, kernel, reuseOutputs: true });
    const first = engine.blockGradients(params, blocks, { seed: 9, step: 3 }, 5);
    const firstCopy = first.map((r) => ({ grads: r.grads.map((g) => g.slice()), stats: r.stats }));
    const second = engine.blockGradients(params, blocks, { seed: 9, step: 4 }, 5);
    expect(second[0].grads[8]).to.equal(first[0].grads[8]);
    const expected = kernel.blockGradients(c, params, blocks, { seed: 9, step: 4 }, 5);
    second.forEach((r, b) => expect(sameBits(r, expected[b])).to.equal(true));
    expect(sameBits(firstCopy[0], second[0])).to.equal(false);
  });

  it('the engine is the kernel behind GradientEngine, with its thread count', function () {
    const kernel = kernelOrSkip(this);
    const c: ModelConfig = { nx: 4, ny: 30, nh: 8, width: 6, visible: 'gaussian' };
    const params = makeParams(c, 1);
    const blocks = [makeBlock(c, 4, 1), makeBlock(c, 3, 2, { first: 4 })];
    const engine = createNativeEngine(c, { threads: 2 });
    expect(engine.name).to.equal(`native-${kernel.tier}`);
    const viaEngine = engine.blockGradients(params, blocks, { seed: 9, step: 3 }, 5);
    const direct = kernel.blockGradients(c, params, blocks, { seed: 9, step: 3 }, 5, { threads: 1 });
    viaEngine.forEach((r, b) => expect(sameBits(r, direct[b])).to.equal(true));
    // custom streams in the key (validation passes) are honoured
    const evalStreams = engine.blockGradients(params, blocks, { seed: 9, step: 3, hiddenStream: 21, visibleStream: 22 }, 5);
    expect(sameBits(evalStreams[0], viaEngine[0])).to.equal(false);
    engine.dispose();
  });
});
