import { expect } from 'chai';
import type { ModelConfig } from '@nbm/model';
import { createNativeEngine } from '../src/index.ts';
import { kernelOrSkip, makeBlock, makeParams } from './helpers.ts';

const c: ModelConfig = { nx: 3, ny: 10, nh: 4, width: 5, visible: 'gaussian' };
const key = { seed: 1, step: 2 };

describe('the native kernel refuses bad input with a message that names it', () => {
  it('parameters that do not fit the config', function () {
    const kernel = kernelOrSkip(this);
    const p = makeParams(c, 1);
    const short = { specs: p.specs, values: p.values.map((v, i) => (i === 8 ? v.subarray(1) : v)) };
    expect(() => kernel.blockGradients(c, short, [makeBlock(c, 1, 1)], key, 2)).to.throw(
      RangeError,
      "parameter 'weights_net.net.0.weight' has 119 values, expected 120 (shape 40×3) for this model config",
    );
    expect(() => kernel.blockGradients(c, { specs: p.specs, values: p.values.slice(0, 9) }, [], key, 2)).to.throw(RangeError, 'parameters hold 9 tensors, the model has 10');
    const wrongType = { specs: p.specs, values: p.values.map((v, i) => (i === 0 ? (Array.from(v) as unknown as Float32Array) : v)) };
    expect(() => kernel.sample(c, wrongType, new Float32Array(3), new Uint32Array(1), key, 1, false)).to.throw(TypeError, "parameter 'bias_net.net.0.weight' must be a Float32Array");
  });

  it('blocks whose arrays do not match their count', function () {
    const kernel = kernelOrSkip(this);
    const p = makeParams(c, 1);
    const b = makeBlock(c, 2, 1);
    expect(() => kernel.blockGradients(c, p, [b, { ...b, y: b.y.subarray(1) }], key, 2)).to.throw(RangeError, 'block 1: y has 19 values, expected count × 10 = 20');
    expect(() => kernel.blockGradients(c, p, [{ ...b, index: new Uint32Array(3) }], key, 2)).to.throw(RangeError, 'block 0: index has 3 entries, expected count = 2');
    expect(() => kernel.gibbsChain(c, p, new Float32Array(5), new Uint32Array(2), key, 2)).to.throw(RangeError, 'x has 5 values, expected index.length × nx = 2 × 3');
  });

  it('bad keys, step counts, thread counts and configs', function () {
    const kernel = kernelOrSkip(this);
    const p = makeParams(c, 1);
    const b = [makeBlock(c, 1, 1)];
    expect(() => kernel.blockGradients(c, p, b, key, 0)).to.throw(RangeError, 'Gibbs steps k must be an integer in [1, 1048576], got 0');
    expect(() => kernel.blockGradients(c, p, b, { seed: -1, step: 0 }, 1)).to.throw(RangeError, 'key.seed must be an integer in [0, 4294967295], got -1');
    expect(() => kernel.blockGradients(c, p, b, { seed: 1, step: 0.5 }, 1)).to.throw(RangeError, 'key.step must be an integer');
    expect(() => kernel.blockGradients(c, p, b, key, 1, { threads: 0 })).to.throw(RangeError, 'threads must be an integer in [1, 1024], got 0');
    expect(() => createNativeEngine(c, { kernel, threads: 2.5 })).to.throw(RangeError, 'threads must be an integer in [1, 1024], got 2.5');
    expect(() => createNativeEngine({ ...c, visible: 'binary' as 'ising' }, { kernel })).to.throw(RangeError, "visible must be 'gaussian' or 'ising'");
  });

  it('the addon itself checks lengths too (it must never read out of bounds)', function () {
    kernelOrSkip(this);
    const p = makeParams(c, 1);
    // bypass the TypeScript checks: call the raw addon through the kernel's private field
    const addon = (kernelOrSkip(this) as unknown as { addon: { blockGradients(a: unknown): unknown } }).addon;
    const args = { config: c, params: p.values, blocks: [{ ...makeBlock(c, 2, 1), count: 3 }], seed: 1, step: 1, k: 1, hiddenStream: 6, visibleStream: 7, threads: 1 };
    expect(() => addon.blockGradients(args)).to.throw(RangeError, 'blocks[0].x must have 9 elements, got 6');
  });
});
