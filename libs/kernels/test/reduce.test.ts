import { expect } from 'chai';
import { FIXED_MAX, PACKED_BYTES, addFixedInto, addPackedInto, blockMaxAbs, carriedMaxAbs, chooseExponent, fixedSum, floatSum, gradientLayout, meanFromFixed, meanFromFloat, packFixed, unpackFixed } from '@nbm/collective';
import type { BlockGradient, ModelConfig } from '@nbm/model';
import { bitwiseEqual, kernelOrSkip, lcg, makeBlock, makeParams } from './helpers.ts';

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

  it('fixedSum and meanFromFixed write into a given output array, every element, and refuse one of another shape', function () {
    const kernel = kernelOrSkip(this);
    const bs = blocks(sizes, 3, 5);
    const layout = layoutOf(sizes);
    const exps = Int32Array.from(blockMaxAbs(bs, layout), (m) => chooseExponent(m, 3));
    const want = fixedSum(bs, exps, layout);
    const wantMean = meanFromFixed(want, exps, layout, 48);
    const sumOut = new Float64Array(layout.total).fill(NaN); // stale contents must not leak into the result
    const meanOut = new Float32Array(layout.total).fill(NaN);
    for (let round = 0; round < 2; round++) {
      const sum = kernel.fixedSum(bs, exps, sizes, { threads: 2, out: sumOut });
      expect(sum).to.equal(sumOut);
      expect(bitwiseEqual(sum, want)).to.equal(true);
      const mean = kernel.meanFromFixed(sum, exps, sizes, 48, { threads: 2, out: meanOut });
      expect(mean[0].buffer).to.equal(meanOut.buffer);
      mean.forEach((m, t) => expect(bitwiseEqual(m, wantMean[t]), `tensor ${t}`).to.equal(true));
    }
    expect(Array.from(kernel.fixedSum([], exps, sizes, { out: sumOut }).subarray(0, 30))).to.deep.equal(new Array(30).fill(0));
    expect(() => kernel.fixedSum(bs, exps, sizes, { out: new Float64Array(layout.total - 1) })).to.throw(RangeError, /out must have 201099 elements/);
    expect(() => kernel.meanFromFixed(want, exps, sizes, 48, { out: new Float64Array(layout.total) as unknown as Float32Array })).to.throw(TypeError, /out must be a Float32Array/);
  });

  it('floatSum and meanFromFloat write into a given output array too', function () {
    const kernel = kernelOrSkip(this);
    const bs = blocks(sizes, 3, 6);
    const layout = layoutOf(sizes);
    const want = floatSum(bs, layout);
    const wantMean = meanFromFloat(want, layout, 48);
    const sumOut = new Float32Array(layout.total).fill(NaN);
    const meanOut = new Float32Array(layout.total).fill(NaN);
    const sum = kernel.floatSum(bs, sizes, { threads: 2, out: sumOut });
    expect(sum).to.equal(sumOut);
    expect(bitwiseEqual(sum, want)).to.equal(true);
    const mean = kernel.meanFromFloat(sum, sizes, 48, { threads: 2, out: meanOut });
    expect(mean[0].buffer).to.equal(meanOut.buffer);
    mean.forEach((m, t) => expect(bitwiseEqual(m, wantMean[t]), `tensor ${t}`).to.equal(true));
    expect(Array.from(kernel.floatSum([], sizes, { out: sumOut }).subarray(0, 30))).to.deep.equal(new Array(30).fill(0));
    expect(() => kernel.floatSum(bs, sizes, { out: new Float32Array(3) })).to.throw(RangeError, /out must have 201099 elements/);
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

  describe('the maxima the kernel writes with each block (blockGradients maxAbs) equal blockMaxAbs of its gradients, on every tier', () => {
    const CASES: Array<{ name: string; c: ModelConfig; m: number; dense?: boolean; nan?: number }> = [
      { name: 'Gaussian, one-hot x, ny 37 (a partial row chunk), width 40 (a partial vector)', c: { nx: 6, ny: 37, nh: 20, width: 40, visible: 'gaussian' }, m: 5 },
      { name: 'Ising, dense x, nh 17', c: { nx: 4, ny: 21, nh: 17, width: 7, visible: 'ising' }, m: 3, dense: true },
      { name: 'Gaussian, MNIST-sized 784 × 64', c: { nx: 10, ny: 784, nh: 64, width: 32, visible: 'gaussian' }, m: 16 },
      { name: 'a NaN in the bias net: Infinity where blockMaxAbs says so', c: { nx: 3, ny: 9, nh: 4, width: 5, visible: 'gaussian' }, m: 2, nan: 2 },
      { name: 'a NaN in the weights net', c: { nx: 3, ny: 19, nh: 4, width: 5, visible: 'ising' }, m: 2, nan: 8 },
    ];
    for (const { name, c, m, dense, nan } of CASES) {
      it(name, function () {
        const kernel = kernelOrSkip(this);
        const params = makeParams(c, 4);
        if (nan !== undefined) params.values[nan][1] = Number.NaN;
        const bs = [0, 1, 2].map((i) => makeBlock(c, m, 30 + i, { dense, first: i * m }));
        const layout = gradientLayout(params);
        for (const [tier, threads] of kernel.tiers.flatMap((t) => [[t, 1], [t, 2]] as const)) {
          const got = kernel.withTier(tier).blockGradients(c, params, bs, { seed: 3, step: 9 }, 3, { threads });
          for (const [i, b] of got.entries()) {
            expect(b.maxAbs, `block ${i}`).to.be.instanceOf(Float64Array);
            expect(Array.from(b.maxAbs!), `block ${i}, ${tier}, ${threads} thread(s)`).to.deep.equal(Array.from(blockMaxAbs([{ grads: b.grads }], layout)));
          }
          expect(Array.from(carriedMaxAbs(got, layout)!)).to.deep.equal(Array.from(blockMaxAbs(got.map((b) => ({ grads: b.grads })), layout)));
          if (nan !== undefined) expect(got.some((b) => b.maxAbs!.includes(Infinity)), 'Infinity somewhere').to.equal(true);
        }
      });
    }

    it('carriedMaxAbs: undefined unless every block carries maxima; zeros for no blocks', () => {
      const layout = layoutOf([2, 3]);
      expect(carriedMaxAbs(blocks([2, 3], 2, 5), layout)).to.equal(undefined);
      expect(Array.from(carriedMaxAbs([], layout)!)).to.deep.equal([0, 0]);
      const two = [{ grads: [], maxAbs: Float64Array.of(1, 5) }, { grads: [], maxAbs: Float64Array.of(3, Infinity) }];
      expect(Array.from(carriedMaxAbs(two, layout)!)).to.deep.equal([3, Infinity]);
    });
  });
});

describe("the ring's sums through the kernel equal @nbm/collective's JavaScript bit for bit", () => {
  const bits = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  /** @nbm/collective's float sums: the JavaScript element-wise addition, stored back */
  function jsSum<T extends Float32Array | Float64Array>(dst: T, src: T): T {
    for (let i = 0; i < dst.length; i++) dst[i] += src[i];
    return dst;
  }

  it('sumF32, sumF64 and the packed fixed-point sum (overflow marks at ±(2^47 − 1), NaN in, zeros of both signs)', function () {
    const kernel = kernelOrSkip(this);
    const rnd = lcg(17);
    const n = 50_001;
    const a32 = Float32Array.from({ length: n }, () => (rnd() - 0.5) * 10 ** (8 * rnd() - 4));
    const b32 = Float32Array.from({ length: n }, (_, i) => (i % 97 === 0 ? -a32[i] : (rnd() - 0.5) * 10 ** (8 * rnd() - 4)));
    a32[5] = -0;
    b32[5] = -0;
    const want32 = a32.slice();
    jsSum(want32, b32);
    const got32 = a32.slice();
    kernel.sumF32(got32, b32);
    expect(bits(got32).equals(bits(want32))).to.equal(true);

    const a64 = Float64Array.from(a32, (v) => v * Math.PI);
    const want64 = a64.slice();
    jsSum(want64, Float64Array.from(b32));
    kernel.sumF64(a64, Float64Array.from(b32));
    expect(bits(a64).equals(bits(want64))).to.equal(true);

    const fa = Float64Array.from({ length: n }, () => Math.round((rnd() - 0.5) * 2 ** 47));
    const fb = Float64Array.from({ length: n }, () => Math.round((rnd() - 0.5) * 2 ** 47));
    fa[0] = FIXED_MAX;
    fb[0] = 1; // just over
    fa[1] = -FIXED_MAX;
    fb[1] = 0; // exactly at the bound: kept
    fa[2] = NaN; // a mark from an earlier hop travels on
    const wantFixed = fa.slice();
    const jsOk = addFixedInto(wantFixed, fb);
    const packedB = new Uint8Array(n * PACKED_BYTES);
    packFixed(fb, packedB);
    const gotFixed = fa.slice();
    expect(kernel.addPacked(gotFixed, packedB)).to.equal(jsOk).and.to.equal(false);
    expect(bits(gotFixed).equals(bits(wantFixed))).to.equal(true);
    expect([Number.isNaN(gotFixed[0]), gotFixed[1], Number.isNaN(gotFixed[2])]).to.deep.equal([true, -FIXED_MAX, true]);
    const clean = fb.slice();
    expect(kernel.addPacked(clean, packedB)).to.equal(true);
  });

  it('packFixed, unpackFixed and addPacked on every tier: the 6-byte wire (marks, out-of-range values, both bounds, sums over the bound, every tail length)', function () {
    const kernel = kernelOrSkip(this);
    const rnd = lcg(23);
    // magnitudes from 1 to 2^47, both signs, with the edges and every kind of value that becomes the mark
    const values = (n: number) => {
      const v = Float64Array.from({ length: n }, () => Math.round((rnd() < 0.5 ? -1 : 1) * 2 ** (47 * rnd())));
      v.set([0, 1, -1, FIXED_MAX, -FIXED_MAX, FIXED_MAX + 1, -(FIXED_MAX + 1), NaN, 2 ** 60, -Infinity, 2 ** 51, -(2 ** 51)].slice(0, n), 0);
      return v;
    };
    for (const tier of kernel.tiers) {
      const kt = kernel.withTier(tier);
      // lengths around the vector loops' ends (8 values a step, stopping one or two short) and a long one
      for (const n of [1, 2, 7, 8, 9, 10, 16, 17, 18, 40_003]) {
        const what = `${tier}, n ${n}`;
        const src = values(n);
        const want = new Uint8Array(n * PACKED_BYTES);
        packFixed(src, want);
        const got = new Uint8Array(n * PACKED_BYTES).fill(7);
        kt.packFixed(src, got);
        expect(Buffer.from(got).equals(Buffer.from(want)), `pack, ${what}`).to.equal(true);

        const back = new Float64Array(n);
        unpackFixed(want, back);
        const backNative = new Float64Array(n).fill(3);
        kt.unpackFixed(want, backNative);
        expect(bits(backNative).equals(bits(back)), `unpack, ${what}`).to.equal(true);

        const dst = Float64Array.from({ length: n }, () => Math.round((rnd() - 0.5) * 2 ** 47));
        if (n > 3) dst[3] = 1; // FIXED_MAX + 1: just over
        if (n > 9) dst[9] = NaN; // a mark from an earlier hop
        const wantSum = dst.slice();
        const jsOk = addPackedInto(wantSum, want);
        const gotSum = dst.slice();
        expect(kt.addPacked(gotSum, want), `add's flag, ${what}`).to.equal(jsOk);
        expect(bits(gotSum).equals(bits(wantSum)), `add, ${what}`).to.equal(true);
      }
      const clean = new Float64Array(20);
      const small = new Uint8Array(20 * PACKED_BYTES);
      packFixed(Float64Array.from({ length: 20 }, (_, i) => (i % 2 ? -i : i)), small);
      expect(kt.addPacked(clean, small), tier).to.equal(true);
      expect(Array.from(clean), tier).to.deep.equal(Array.from({ length: 20 }, (_, i) => (i % 2 ? -i : i)));
    }
    expect(() => kernel.packFixed(new Float64Array(2), new Uint8Array(11))).to.throw(RangeError, /12 packed bytes/);
  });

  it('refuses arrays of other types or lengths', function () {
    const kernel = kernelOrSkip(this);
    expect(() => kernel.sumF32(new Float32Array(4), new Float32Array(5))).to.throw(RangeError, /src has 5 elements, dst 4/);
    expect(() => kernel.sumF64(new Float64Array(4), new Float32Array(4) as unknown as Float64Array)).to.throw(TypeError, /src must be a Float64Array/);
    expect(() => kernel.addPacked(new Float64Array(4), new Float32Array(6) as unknown as Uint8Array)).to.throw(TypeError, /bytes must be a Uint8Array/);
  });
});
