import { expect } from 'chai';
import { adamwStep, initAdamW, type Parameters, type ParameterSpec } from '../src/index.ts';

const spec = (name: string, group: ParameterSpec['group']): ParameterSpec => ({ name, shape: [2], group, fanIn: 1 });

describe('AdamW', () => {
  it('two steps equal a hand computation, with one decay per parameter group', () => {
    const params: Parameters = {
      specs: [spec('b', 'bias'), spec('p', 'precision'), spec('w', 'weights')],
      values: [Float32Array.of(1, -2), Float32Array.of(0.5, 0.25), Float32Array.of(-1, 3)],
    };
    const state = initAdamW(params);
    const cfg = { lr: 0.1, decay: { bias: 0.5, precision: 0.0, weights: 1.0 } };
    const g1 = [Float32Array.of(0.2, -0.4), Float32Array.of(1, 0), Float32Array.of(-3, 0.5)];
    const g2 = [Float32Array.of(-0.1, 0.3), Float32Array.of(2, 1), Float32Array.of(1, 1)];
    // by hand, in float64 (the float32 rounding of the implementation stays within 1e-6 of it)
    const ref = params.values.map((v) => Array.from(v));
    const m = ref.map((v) => v.map(() => 0));
    const v = ref.map((v) => v.map(() => 0));
    const decays = [0.5, 0.0, 1.0];
    for (const [t, g] of [[1, g1], [2, g2]] as const) {
      adamwStep(params, g, state, cfg);
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 2; j++) {
          ref[i][j] *= 1 - 0.1 * decays[i];
          m[i][j] = 0.9 * m[i][j] + 0.1 * g[i][j];
          v[i][j] = 0.999 * v[i][j] + 0.001 * g[i][j] ** 2;
          const mhat = m[i][j] / (1 - 0.9 ** t);
          const vhat = v[i][j] / (1 - 0.999 ** t);
          ref[i][j] -= (0.1 * mhat) / (Math.sqrt(vhat) + 1e-8);
        }
      }
      for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) expect(params.values[i][j]).to.be.closeTo(ref[i][j], 1e-6);
    }
    expect(state.step).to.equal(2);
    // first step of Adam moves each coordinate by ≈ lr·sign(g) after decay: a sanity value computed by hand
    // for b[0]: 1·(1 − 0.05) − 0.1 = 0.85, then step 2 decays and moves again
    expect(ref[0][0]).to.not.equal(1);
  });

  it('a zero gradient only decays the parameters', () => {
    const params: Parameters = { specs: [spec('w', 'weights')], values: [Float32Array.of(2, -4)] };
    const state = initAdamW(params);
    adamwStep(params, [new Float32Array(2)], state, { lr: 0.01, decay: { bias: 0, precision: 0, weights: 1 } });
    expect(Array.from(params.values[0])).to.deep.equal([Math.fround(2 * Math.fround(0.99)), Math.fround(-4 * Math.fround(0.99))]);
  });

  it('refuses a gradient of the wrong length, naming the parameter', () => {
    const params: Parameters = { specs: [spec('w', 'weights')], values: [Float32Array.of(2, -4)] };
    expect(() => adamwStep(params, [new Float32Array(3)], initAdamW(params), { lr: 0.01, decay: { bias: 0, precision: 0, weights: 1 } })).to.throw(/gradient of w has 3 values, expected 2/);
  });
});
