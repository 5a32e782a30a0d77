import { gradientLayout } from '@nbm/collective';
import { expect } from 'chai';
import { selectBackend, tf } from '@nbm/backend';
import { createTfjsEngine, initAdamW, initParameters, type ModelConfig } from '@nbm/model';
import { PAPER_DEFAULTS, jsOps, type TrainConfig, type TrainState } from '../src/index.ts';
import { hostShard } from '../src/shard.ts';
import { localReducer, reduceAndApply } from '../src/update.ts';

describe('tensor memory', function () {
  this.timeout(120_000);

  it('the number of live tensors after 1,000 steps equals that after 10', async () => {
    await selectBackend('cpu');
    const model: ModelConfig = { nx: 3, ny: 5, nh: 4, width: 4, visible: 'gaussian' };
    const cfg: TrainConfig = { ...PAPER_DEFAULTS, out: '-', batchSize: 4, blockSize: 2, gibbsSteps: 2, lr: 1e-3 };
    const params = initParameters(model, 1);
    const state: TrainState = { params, optimizer: initAdamW(params), epoch: 0, stepInEpoch: 0, globalStep: 0, nonFiniteRun: 0 };
    const engine = createTfjsEngine(model);
    const layout = gradientLayout(params);
    const block = (i: number) => ({
      count: 2,
      x: Float32Array.of(1, 0, 0, 0, 1, 0),
      y: Float32Array.from({ length: 10 }, (_, j) => Math.sin(i + j)),
      index: Uint32Array.of(2 * i, 2 * i + 1),
    });
    const step = async () => {
      const grads = engine.blockGradients(state.params, [block(0), block(1)], { seed: 1, step: state.globalStep }, cfg.gibbsSteps);
      await reduceAndApply(state, hostShard(grads, jsOps, layout), cfg, layout, 4, 2, model.ny, localReducer);
    };
    for (let i = 0; i < 10; i++) await step();
    const after10 = tf.memory().numTensors;
    for (let i = 10; i < 1000; i++) await step();
    expect(tf.memory().numTensors).to.equal(after10);
    expect(state.globalStep).to.equal(1000);
  });
});
