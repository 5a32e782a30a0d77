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
