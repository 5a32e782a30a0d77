import { expect } from 'chai';
import { selectBackend } from '@nbm/backend';
import { conditionalArrays, initParameters, type ModelConfig } from '@nbm/model';
import { conditionalAt, couplings, makeConditional } from '../src/conditional.ts';

describe('conditionals in float64', () => {
  before(async () => {
    await selectBackend('cpu');
  });

  for (const visible of ['gaussian', 'ising'] as const) {
    it(`agree with @nbm/model's tfjs conditionals to float32 rounding (${visible})`, () => {
      const c: ModelConfig = { nx: 4, ny: 9, nh: 5, width: 6, visible };
      const params = initParameters(c, 3);
      // push some log-precisions past the clip at ±ln 1e3, so the clipping is compared too
      const pb = params.specs.findIndex((s) => s.name === 'precision_net.net.2.bias');
      params.values[pb] = params.values[pb].map((v, i) => (i % 3 === 0 ? 9 : i % 3 === 1 ? -9 : v));
      const x = new Float32Array([1, 0, 0, 0, 0.5, -1.5, 2, 0.25]);
      const ref = conditionalArrays(c, params, x);
      for (let m = 0; m < 2; m++) {
        const k = conditionalAt(c, params, x.subarray(m * 4, m * 4 + 4));
        for (let i = 0; i < c.ny; i++) {
          expect(k.mu[i]).to.be.closeTo(ref.mu[m * c.ny + i], 1e-6);
          expect(k.precision[i] / ref.precision[m * c.ny + i]).to.be.closeTo(1, 1e-5);
        }
        for (let i = 0; i < c.ny * c.nh; i++) expect(k.weights[i]).to.be.closeTo(ref.weights[m * c.ny * c.nh + i], 1e-6);
        // clipped where the float32 engines clip: at ln 1e3 and ln 1e-3 rounded to float32 (P within 1e-7 of the caps)
        expect(Math.max(...k.precision)).to.equal(Math.exp(Math.fround(Math.log(1e3))));
        expect(Math.min(...k.precision)).to.equal(Math.exp(Math.fround(Math.log(1e-3))));
        expect(Math.max(...k.precision)).to.be.closeTo(1e3, 1e-4);
      }
    });
  }

  it('J = Wᵀ P⁻¹ W', () => {
    const k = makeConditional([0, 0], [2, 4], [1, 2, 3, 4], 2);
    // W = [[1, 2], [3, 4]]: J_ab = W_0a W_0b / 2 + W_1a W_1b / 4
    expect(Array.from(couplings(k))).to.deep.equal([0.5 + 9 / 4, 1 + 12 / 4, 1 + 12 / 4, 2 + 16 / 4]);
  });

  it('makeConditional names the bad input', () => {
    expect(() => makeConditional([0, 0], [1, 0], [0, 0], 1)).to.throw(RangeError, /precision\[1\] = 0/);
    expect(() => makeConditional([0, 0], [1, 1], [0, 0, 0], 2)).to.throw(RangeError, /weights has length 3, expected ny × nh = 2 × 2/);
  });
});
