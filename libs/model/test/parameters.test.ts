import { expect } from 'chai';
import { fromNamedTensors, initParameters, namedTensors, parameterSpecs, type ModelConfig } from '../src/index.ts';

describe('parameters on the wire (named tensors)', () => {
  const model: ModelConfig = { nx: 3, ny: 4, nh: 2, width: 5, visible: 'gaussian' };
  const params = initParameters(model, 9);

  it('round-trips every array as a copy, in spec order, under its prefix', () => {
    const sent = namedTensors(params.values, 'm');
    expect(Object.keys(sent)).to.deep.equal(params.values.map((_, i) => `m${i}`));
    const got = fromNamedTensors(parameterSpecs(model), sent, 'm');
    got.forEach((v, i) => {
      expect(Array.from(v)).to.deep.equal(Array.from(params.values[i]));
      expect(v.buffer).to.not.equal(params.values[i].buffer);
    });
  });

  it('names the tensor and its parameter when one is missing, of another type or size', () => {
    const specs = parameterSpecs(model);
    const sent: Record<string, ArrayBufferView> = namedTensors(params.values);
    delete sent.p3;
    expect(() => fromNamedTensors(specs, sent, 'p', 'sampleLoad: parameter')).to.throw('sampleLoad: parameter p3 (bias_net.net.2.bias) is missing or not float32');
    sent.p3 = new Float64Array(4);
    expect(() => fromNamedTensors(specs, sent)).to.throw('parameter p3 (bias_net.net.2.bias) is missing or not float32');
    sent.p3 = new Float32Array(5);
    expect(() => fromNamedTensors(specs, sent)).to.throw('parameter p3 (bias_net.net.2.bias) has 5 values, expected 4');
  });
});
