import { FixedPointOverflowError, gradientLayout } from '@nbm/collective';
import { expect } from 'chai';
import { initAdamW, initParameters, type BlockGradient, type ModelConfig } from '@nbm/model';
import { TrainingDivergedError, PAPER_DEFAULTS, jsOps, type TrainConfig, type TrainState } from '../src/index.ts';
import { hostShard } from '../src/shard.ts';
import { localReducer, reduceAndApply, type GradientReducer } from '../src/update.ts';

describe('non-finite gradients', () => {
  const model: ModelConfig = { nx: 2, ny: 3, nh: 2, width: 2, visible: 'gaussian' };
  const cfg: TrainConfig = { ...PAPER_DEFAULTS, out: '-', maxNonFinite: 3 };

  function block(state: TrainState, poison: boolean): BlockGradient {
    const grads = state.params.values.map((v) => new Float32Array(v.length).fill(0.5));
    if (poison) grads[4][1] = NaN;
    return {
      grads,
      stats: { freeEnergyData: 1, freeEnergyModel: 0, squaredErrorBias: 1, sumY: 0, sumY2: 1, sumY3: 0, sumY4: 1, sumV: 1, sumVY: 0, sumVY2: 1, sumV2: 1, finite: !poison },
    };
  }

  it('skips the step (parameters and optimiser untouched), then stops after M in a row naming the step', async () => {
    const params = initParameters(model, 1);
    const state: TrainState = { params, optimizer: initAdamW(params), epoch: 0, stepInEpoch: 0, globalStep: 0, nonFiniteRun: 0 };
    const layout = gradientLayout(params);
    const before = params.values.map((v) => v.slice());
    const ok = await reduceAndApply(state, hostShard([block(state, false)], jsOps, layout), cfg, layout, 4, 1, model.ny, localReducer);
    expect(ok.skipped).to.equal(false);
    const afterGood = params.values.map((v) => v.slice());
    expect(afterGood[0]).to.not.deep.equal(before[0]);
    for (let i = 0; i < 2; i++) {
      const out = await reduceAndApply(state, hostShard([block(state, true)], jsOps, layout), cfg, layout, 4, 1, model.ny, localReducer);
      expect(out.skipped).to.equal(true);
      expect(out.metrics.finite).to.equal(false);
      params.values.forEach((v, t) => expect(Array.from(v)).to.deep.equal(Array.from(afterGood[t])));
      expect(state.optimizer.step).to.equal(1);
    }
    expect(state.globalStep).to.equal(3);
    await reduceAndApply(state, hostShard([block(state, true)], jsOps, layout), cfg, layout, 4, 1, model.ny, localReducer).then(
      () => expect.fail('should stop'),
      (e: Error) => {
        expect(e).to.be.instanceOf(TrainingDivergedError);
        expect(e.message).to.match(/non-finite loss or gradient at step 3 \(3 steps in a row/);
      },
    );
  });

  it('a finite step in between resets the count', async () => {
    const params = initParameters(model, 2);
    const state: TrainState = { params, optimizer: initAdamW(params), epoch: 0, stepInEpoch: 0, globalStep: 0, nonFiniteRun: 0 };
    const layout = gradientLayout(params);
    for (const poison of [true, true, false, true, true]) await reduceAndApply(state, hostShard([block(state, poison)], jsOps, layout), cfg, layout, 4, 1, model.ny, localReducer);
    expect(state.nonFiniteRun).to.equal(2);
  });

  it('an overflow the exact reduction marked (NaN in the sum) raises FixedPointOverflowError before AdamW', async () => {
    const params = initParameters(model, 3);
    const state: TrainState = { params, optimizer: initAdamW(params), epoch: 0, stepInEpoch: 0, globalStep: 0, nonFiniteRun: 0 };
    const layout = gradientLayout(params);
    const before = params.values.map((v) => v.slice());
    // what a ring's sum holds where a partial sum left ±(2^47 − 1): the mean there arrives NaN on every rank
    const marking: GradientReducer = {
      ...localReducer,
      sumFixedTo: async (sum, _out, convert) => {
        sum[3] = NaN;
        convert(sum, 0, sum.length);
      },
    };
    await reduceAndApply(state, hostShard([block(state, false)], jsOps, layout), cfg, layout, 4, 1, model.ny, marking).then(
      () => expect.fail('should throw'),
      (e: Error) => {
        expect(e).to.be.instanceOf(FixedPointOverflowError);
        expect((e as FixedPointOverflowError).index).to.equal(3);
      },
    );
    params.values.forEach((v, t) => expect(Array.from(v)).to.deep.equal(Array.from(before[t])));
    expect(state.optimizer.step).to.equal(0);
  });
});
