import { gradientLayout } from '@nbm/collective';
import { expect } from 'chai';
import { initParameters, type BlockGradient, type ModelConfig } from '@nbm/model';
import { loadNativeKernel } from '@nbm/kernels';
import { jsOps, nativeOps, type StepOps } from '../src/index.ts';

/**
 * A worker with an empty shard (more workers than blocks in the minibatch) takes part in every reduction with
 * vectors of the same lengths as everyone else's, all zeros: a shorter vector would desynchronise the ring.
 */
describe('step ops on an empty shard', () => {
  const model: ModelConfig = { nx: 3, ny: 5, nh: 4, width: 6, visible: 'gaussian' };
  const params = initParameters(model, 1);
  const layout = gradientLayout(params);
  const exponents = new Int32Array(layout.sizes.length).fill(20);
  const block: BlockGradient = {
    grads: params.values.map((v, t) => Float32Array.from(v, (_, i) => ((i % 7) - 3) * 0.25 * (t + 1))),
    stats: { freeEnergyData: 0, freeEnergyModel: 0, squaredErrorBias: 0, sumY: 0, sumY2: 0, sumY3: 0, sumY4: 0, sumV: 0, sumVY: 0, sumVY2: 0, sumV2: 0, finite: true },
  };

  const native = loadNativeKernel();
  const variants: Array<[string, StepOps | undefined]> = [
    ['js', jsOps],
    ['native', native.ok ? nativeOps(native.kernel, 1) : undefined],
  ];
  for (const [name, ops] of variants) {
    it(`${name}: bounds, fixed-point and float sums of no blocks are zeros of the layout's shape, as long as one block's`, function () {
      if (!ops) {
        if (process.env.NBM_REQUIRE_NATIVE === '1') throw new Error(`the native kernel is required: ${(native as { reason: string }).reason}`);
        this.skip();
      }
      const bounds = ops.blockMaxAbs([], layout);
      expect(bounds.length).to.equal(ops.blockMaxAbs([block], layout).length).and.to.equal(layout.sizes.length);
      expect([...bounds].every((x) => x === 0)).to.equal(true);
      const fixed = ops.fixedSum([], exponents, layout);
      expect(fixed.length).to.equal(ops.fixedSum([block], exponents, layout).length).and.to.equal(layout.total);
      expect([...fixed].every((x) => x === 0)).to.equal(true);
      const float = ops.floatSum([], layout);
      expect(float.length).to.equal(ops.floatSum([block], layout).length).and.to.equal(layout.total);
      expect([...float].every((x) => x === 0)).to.equal(true);
    });
  }
});

describe("step ops: the mean of a segment of the exact sum (a ring rank's share) equals meanFromFixed's values there", () => {
  const model: ModelConfig = { nx: 3, ny: 37, nh: 5, width: 6, visible: 'gaussian' };
  const layout = gradientLayout(initParameters(model, 2));
  const exponents = Int32Array.from(layout.sizes, (_, t) => 30 + t);
  // integers of every size up to 2^46, some halves of the float32 grid after scaling
  const sum = Float64Array.from({ length: layout.total }, (_, i) => Math.round(Math.sin(i * 12.9898) * 2 ** (12 + (i % 35))));
  const want = jsOps.meanFromFixed(sum, exponents, layout, 96);
  const wantFlat = new Float32Array(layout.total);
  want.forEach((w, t) => wantFlat.set(w, layout.offsets[t]));
  const native = loadNativeKernel();
  const variants: Array<[string, StepOps | undefined]> = [
    ['js', jsOps],
    ['native', native.ok ? nativeOps(native.kernel, 2, { reuseOutputs: true }) : undefined],
  ];
  for (const [name, ops] of variants) {
    it(`${name}: segments across tensor boundaries, bit for bit; an overflow mark comes out NaN, says so, and allFinite sees it`, function () {
      if (!ops) {
        if (process.env.NBM_REQUIRE_NATIVE === '1') throw new Error(`the native kernel is required: ${(native as { reason: string }).reason}`);
        this.skip();
      }
      const out = ops.meanOutput(layout).fill(-1);
      const cuts = [0, 1, 20, layout.offsets[2], layout.offsets[2] + 1, 400, layout.offsets[8] - 1, layout.total];
      for (let c = 0; c + 1 < cuts.length; c++) expect(ops.meanFromFixedRange(sum, exponents, layout, 96, cuts[c], cuts[c + 1], out)).to.equal(true);
      expect(Buffer.from(out.buffer, out.byteOffset, out.byteLength).equals(Buffer.from(wantFlat.buffer))).to.equal(true);
      const marked = sum.slice();
      marked[40] = NaN;
      marked[41] = 2 ** 47;
      const again = new Float32Array(layout.total);
      expect(ops.meanFromFixedRange(marked, exponents, layout, 96, 30, 50, again)).to.equal(false);
      expect([Number.isNaN(again[40]), Number.isNaN(again[41]), again[39] === wantFlat[39], again[42] === wantFlat[42]]).to.deep.equal([true, true, true, true]);
      expect(again[29]).to.equal(0); // outside the range: untouched
      expect([ops.allFinite(out), ops.allFinite(again)]).to.deep.equal([true, false]);
      again.fill(0)[again.length - 1] = -Infinity;
      expect(ops.allFinite(again)).to.equal(false);
    });
  }
});
