import { expect } from 'chai';
import { selectBackend } from '@nbm/backend';
import { conditional64, sampleModel, wv64, type ModelConfig } from '@nbm/model';
import { Stream } from '@nbm/random';
import { bitwiseEqual, kernelOrSkip, makeBlock, makeParams, normwiseError } from './helpers.ts';
import { checkTracedChain } from './reference.ts';

/**
 * Sizes chosen against the kernel's layout: ny not a multiple of 16 (13, 17, 40) or exactly one (16), nh = 1
 * and nh not a multiple of 16, a single example, dense contexts, and both visible types.
 */
const CASES: Array<{ name: string; c: ModelConfig; m: number; k: number; dense?: boolean }> = [
  { name: 'Gaussian, ny 13, nh 5', c: { nx: 4, ny: 13, nh: 5, width: 7, visible: 'gaussian' }, m: 3, k: 6 },
  { name: 'Ising, ny 13, nh 5', c: { nx: 4, ny: 13, nh: 5, width: 7, visible: 'ising' }, m: 3, k: 6 },
  { name: 'Gaussian, nh 1, one example', c: { nx: 3, ny: 17, nh: 1, width: 4, visible: 'gaussian' }, m: 1, k: 5 },
  { name: 'Ising, nh 1, one example', c: { nx: 3, ny: 17, nh: 1, width: 4, visible: 'ising' }, m: 1, k: 5 },
  { name: 'Gaussian, dense x, ny 40, nh 20', c: { nx: 6, ny: 40, nh: 20, width: 9, visible: 'gaussian' }, m: 4, k: 8, dense: true },
  { name: 'Ising, dense x, ny 40, nh 20', c: { nx: 6, ny: 40, nh: 20, width: 9, visible: 'ising' }, m: 4, k: 8, dense: true },
  { name: 'Gaussian, ny 16, nh 70', c: { nx: 2, ny: 16, nh: 70, width: 33, visible: 'gaussian' }, m: 2, k: 4 },
];

// A draw is judged only where its uniform is more than MARGIN from its probability: float32 (kernel) and
// float64 (reference) computations of z = Wᵀd differ by ~1e-6 here, which moves σ(2z) by less than 1e-6.
const MARGIN = 1e-5;

describe('native Gibbs chain vs a float64 reference, step by step', () => {
  for (const { name, c, m, k, dense } of CASES) {
    it(`${name}: every hidden and visible draw agrees, Gaussian states to 1e-5`, function () {
      const kernel = kernelOrSkip(this);
      const params = makeParams(c, 11);
      const blk = makeBlock(c, m, 5, { dense, first: 40 });
      const key = { seed: 77, step: 9 };
      const r = kernel.gibbsChain(c, params, blk.x, blk.index, key, k, { trace: true, threads: 2 });
      let draws = 0;
      let ambiguous = 0;
      for (let b = 0; b < m; b++) {
        const k64 = conditional64(c, params, blk.x.subarray(b * c.nx, (b + 1) * c.nx));
        const check = checkTracedChain(c, k64, key, blk.index[b], k, r.hTrace!.subarray(b * k * c.nh, (b + 1) * k * c.nh), r.yTrace!.subarray(b * k * c.ny, (b + 1) * k * c.ny), MARGIN);
        expect(check.wrongDraws, `example ${b}: draws decided against the reference`).to.equal(0);
        expect(check.maxVisibleError, `example ${b}: Gaussian visible state error`).to.be.at.most(1e-5);
        draws += check.draws;
        ambiguous += check.ambiguousDraws;
        // the result is the last traced state
        expect(bitwiseEqual(r.y.subarray(b * c.ny, (b + 1) * c.ny), r.yTrace!.subarray(((b + 1) * k - 1) * c.ny, (b + 1) * k * c.ny))).to.equal(true);
      }
      // ambiguity is rare (≈ 2·MARGIN per draw): if it were not, the check above would prove little
      expect(ambiguous).to.be.at.most(Math.max(2, draws * 1e-3));
      // and the chain moved: not every visible state is the start μ
      if (c.visible === 'gaussian') expect(r.yTrace!.some((v, i) => v !== r.yTrace![i % c.ny])).to.equal(true);
    });
  }

  it('one-hot contexts through the dense W(x) route give the same bits', function () {
    const kernel = kernelOrSkip(this);
    for (const visible of ['gaussian', 'ising'] as const) {
      const c: ModelConfig = { nx: 5, ny: 23, nh: 9, width: 6, visible };
      const params = makeParams(c, 3);
      const blk = makeBlock(c, 6, 2);
      const a = kernel.gibbsChain(c, params, blk.x, blk.index, { seed: 4, step: 2 }, 7);
      const b = kernel.gibbsChain(c, params, blk.x, blk.index, { seed: 4, step: 2 }, 7, { forceDense: true });
      expect(bitwiseEqual(a.y, b.y), visible).to.equal(true);
    }
  });

  it('sample(): its own streams, the official denoised outputs, any thread count', function () {
    const kernel = kernelOrSkip(this);
    for (const visible of ['gaussian', 'ising'] as const) {
      const c: ModelConfig = { nx: 4, ny: 21, nh: 6, width: 5, visible };
      const params = makeParams(c, 8);
      const blk = makeBlock(c, 5, 1, { first: 1000 });
      const key = { seed: 3, step: 12 };
      const streams = { hidden: Stream.sampleHidden, visible: Stream.sampleVisible };
      const noisy = kernel.sample(c, params, blk.x, blk.index, key, 6, false, streams, { threads: 2 });
      const traced = kernel.gibbsChain(c, params, blk.x, blk.index, key, 6, { trace: true, streams });
      expect(bitwiseEqual(noisy, traced.y)).to.equal(true);
      const training = kernel.gibbsChain(c, params, blk.x, blk.index, key, 6);
      expect(bitwiseEqual(noisy, training.y)).to.equal(false);
      // denoised: from the last h of the same chain, Gaussian μ + W h / P, Ising tanh(σ(2(Pμ + W h)))
      const clean = kernel.sample(c, params, blk.x, blk.index, key, 6, true, streams, { threads: 1 });
      for (let b = 0; b < blk.count; b++) {
        const k64 = conditional64(c, params, blk.x.subarray(b * c.nx, (b + 1) * c.nx));
        const h = traced.hTrace!.subarray((b * 6 + 5) * c.nh, (b * 6 + 6) * c.nh);
        const field = wv64(c, k64.W, h);
        for (let i = 0; i < c.ny; i++) {
          const ref = visible === 'gaussian' ? k64.mu[i] + field[i] / k64.P[i] : Math.tanh(1 / (1 + Math.exp(-2 * (k64.P[i] * k64.mu[i] + field[i]))));
          expect(Math.abs(clean[b * c.ny + i] - ref), `${visible} example ${b} unit ${i}`).to.be.at.most(1e-5 * (1 + Math.abs(ref)));
        }
      }
    }
  });
});

describe('native sample() vs the tfjs sampleModel (cpu backend)', () => {
  before(async () => {
    await selectBackend('cpu');
  });

  // Same keyed draws, both in float32: equal to rounding unless a uniform falls within ~1e-7 of its
  // probability (about one draw in 10^6; none with these seeds).
  for (const visible of ['gaussian', 'ising'] as const) {
    for (const denoise of [false, true]) {
      it(`${visible}${denoise ? ', denoised' : ''}: the same samples`, function () {
        const kernel = kernelOrSkip(this);
        const c: ModelConfig = { nx: 4, ny: 27, nh: 6, width: 5, visible };
        const params = makeParams(c, 14);
        const blk = makeBlock(c, 6, 3, { first: 500 });
        const streams = { hidden: Stream.sampleHidden, visible: Stream.sampleVisible };
        const native = kernel.sample(c, params, blk.x, blk.index, { seed: 8, step: 2 }, 7, denoise, streams, { threads: 2 });
        const tfjs = sampleModel(c, params, blk.x, blk.index, { seed: 8, counter: 2, hiddenStream: streams.hidden, visibleStream: streams.visible }, 7, denoise);
        if (visible === 'ising' && !denoise) expect(Array.from(native)).to.deep.equal(Array.from(tfjs));
        else expect(normwiseError(native, tfjs)).to.be.at.most(1e-5);
      });
    }
  }
});
