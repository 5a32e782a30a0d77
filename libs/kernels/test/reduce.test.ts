import { expect } from 'chai';
import { blockMaxAbs, chooseExponent, fixedSum, floatSum, gradientLayout, meanFromFixed, meanFromFloat } from '@nbm/collective';
import type { BlockGradient } from '@nbm/model';
import { bitwiseEqual, kernelOrSkip, lcg } from './helpers.ts';

/** Blocks of random gradients over several magnitudes, with exact zeros and halves (rounding ties). */
function blocks(sizes: number[], count: number, seed: number): BlockGradient[] {
  const rnd = lcg(seed);
  return Array.from({ length: count }, () => ({
    grads: sizes.map((n) =>
      Float32Array.from({ length: n }, () => {
        const u = rnd();
        if (u < 0.03) return 0;
        if (u < 0.06) return (Math.floor(rnd() * 64) - 32 + 0.5) * 2 ** -21; // ties for Math.round at e = 21, both signs
        return (rnd() - 0.5) * 10 ** (4 * rnd() - 3);
      }),
    ),
    stats: {} as BlockGradient['stats'],
  }));
}

/** The layout of tensors of `sizes` (what @nbm/collective's JavaScript reductions take). */
const layoutOf = (sizes: number[]) => gradientLayout({ values: sizes.map((n) => ({ length: n })) });

describe("native block reductions equal @nbm/collective's JavaScript ones bit for bit", () => {
  const sizes = [1, 5, 17, 70_001, 3, 131_072];

  it('blockMaxAbs, fixedSum and meanFromFixed (the exact reduce), on every tier, with 1 and 2 threads', function () {
    const kernel = kernelOrSkip(this);
    const bs = blocks(sizes, 8, 3);
    const layout = layoutOf(sizes);
    const max = blockMaxAbs(bs, layout);
    const exps = Int32Array.from(max, (m) => chooseExponent(m, 8));
    exps[1] = exps[3] = 21; // where the constructed halves are exact ties for Math.round (thousands of them)
    const sum = fixedSum(bs, exps, layout);
    const mean = meanFromFixed(sum, exps, layout, 128);
    for (const tier of kernel.tiers) {
      for (const threads of [1, 2]) {
        const kt = kernel.withTier(tier);
        expect(bitwiseEqual(kt.blockMaxAbs(bs, sizes, { threads }), max), tier).to.equal(true);
        const nsum = kt.fixedSum(bs, exps, sizes, { threads });
        expect(bitwiseEqual(nsum, sum), tier).to.equal(true);
        kt.meanFromFixed(nsum, exps, sizes, 128, { threads }).forEach((m, t) => expect(bitwiseEqual(m, mean[t]), `${tier}: tensor ${t}`).to.equal(true));
      }
    }
  });

  it('floatSum and meanFromFloat (the fast reduce)', function () {
    const kernel = kernelOrSkip(this);
    const bs = blocks(sizes, 5, 9);
    const layout = layoutOf(sizes);
    const sum = floatSum(bs, layout);
    const mean = meanFromFloat(sum, layout, 96);
    for (const tier of kernel.tiers) {
      const kt = kernel.withTier(tier);
      const nsum = kt.floatSum(bs, sizes, { threads: 2 });
      expect(bitwiseEqual(nsum, sum), tier).to.equal(true);
      kt.meanFromFloat(nsum, sizes, 96, { threads: 2 }).forEach((m, t) => expect(bitwiseEqual(m, mean[t]), `${tier}: tensor ${t}`).to.equal(true));
    }
  });

  it('no blocks (an empty shard): zeros of the given sizes; blocks of other sizes are refused', function () {
    const kernel = kernelOrSkip(this);
    expect(Array.from(kernel.blockMaxAbs([], [3, 2]))).to.deep.equal([0, 0]);
    expect(Array.from(kernel.fixedSum([], new Int32Array([10, 10]), [3, 2]))).to.deep.equal([0, 0, 0, 0, 0]);
    expect(Array.from(kernel.floatSum([], [3, 2]))).to.deep.equal([0, 0, 0, 0, 0]);
    expect(() => kernel.floatSum(blocks([4, 40], 2, 1), [4, 41])).to.throw(RangeError, 'blocks[0] has tensors of sizes [4, 40], expected [4, 41]');
  });

  it('NaN and infinities: maxAbs says Infinity, fixedSum refuses', function () {
    const kernel = kernelOrSkip(this);
    const bs = blocks([4, 40], 2, 1);
    bs[1].grads[1][7] = Number.NaN;
    bs[0].grads[0][2] = -Infinity;
    expect(Array.from(kernel.blockMaxAbs(bs, [4, 40]))).to.deep.equal([Infinity, Infinity]);
    expect(() => kernel.fixedSum(bs, new Int32Array([10, 10]), [4, 40])).to.throw(RangeError, 'a gradient is not finite at element 2 of the sum');
    expect(() => kernel.fixedSum(blocks([4], 2, 2), new Int32Array([80]), [4])).to.throw(RangeError, /^fixed-point overflow at element \d of the sum$/);
  });
});
