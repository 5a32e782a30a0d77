import { expect } from 'chai';
import { selectBackend, tf } from '@nbm/backend';
import { conditional64, createTfjsEngine, initParameters, type ExampleBlock, type ModelConfig, type Parameters } from '../src/index.ts';
import { chainRandoms, runChain } from '../src/chain.ts';
import { conditionals } from '../src/networks.ts';
import { freeEnergy64 } from '../src/reference.ts';
import { parameterTensors, trainingStreams } from '../src/tfjs-engine.ts';
import { toFloat64 } from './reference.ts';

function block(c: ModelConfig, m: number, seed: number): ExampleBlock {
  const x = new Float32Array(m * c.nx);
  const y = new Float32Array(m * c.ny);
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = 0; i < x.length; i++) x[i] = rnd() * 2 - 1;
  for (let i = 0; i < y.length; i++) y[i] = c.visible === 'ising' ? (rnd() < 0.5 ? -1 : 1) : rnd() * 2 - 1;
  return { count: m, x, y, index: Uint32Array.from({ length: m }, (_, i) => 100 + 3 * i) };
}

/** The negative samples the engine's chain produces for this block (same keyed draws). */
function negatives(c: ModelConfig, params: Parameters, blk: ExampleBlock, seed: number, step: number, k: number): number[][] {
  const pt = parameterTensors(params);
  const out = tf.tidy(() => {
    const cond = conditionals(c, pt, tf.tensor2d(blk.x, [blk.count, c.nx]));
    return runChain(c, cond, chainRandoms(c, blk.index, trainingStreams({ seed, step }), k), k).arraySync() as number[][];
  });
  tf.dispose(Object.values(pt));
  return out;
}

function rows(a: Float32Array, n: number): number[][] {
  return Array.from({ length: a.length / n }, (_, r) => Array.from(a.subarray(r * n, (r + 1) * n)));
}

describe('CD-k gradient (tfjs engine)', () => {
  before(async () => {
    await selectBackend('cpu');
  });

  for (const visible of ['gaussian', 'ising'] as const) {
    it(`matches central finite differences of Σ F(y) − F(ỹ) for every parameter tensor (${visible})`, () => {
      const c: ModelConfig = { nx: 3, ny: 6, nh: 4, width: 5, visible };
      const params = initParameters(c, 5);
      // push one precision output past the clip so that its zero gradient is checked too
      const pBias = params.specs.findIndex((s) => s.name === 'precision_net.net.2.bias');
      params.values[pBias][0] = 9;
      params.values[8] = params.values[8].map((v) => v * 4);
      const blk = block(c, 3, 42);
      const k = 5;
      const engine = createTfjsEngine(c);
      const [result] = engine.blockGradients(params, [blk], { seed: 3, step: 17 }, k);
      const yNeg = negatives(c, params, blk, 3, 17, k);
      const xs = rows(blk.x, c.nx);
      const ys = rows(blk.y, c.ny);
      const p64 = toFloat64(params);
      const loss = () => xs.reduce((s, x, b) => {
        const kk = conditional64(c, p64, x);
        return s + freeEnergy64(c, kk, ys[b]) - freeEnergy64(c, kk, yNeg[b]);
      }, 0);
      const h = 1e-6;
      p64.specs.forEach((spec, i) => {
        const v = p64.values[i];
        const fd = new Float64Array(v.length);
        for (let j = 0; j < v.length; j++) {
          const keep = v[j];
          v[j] = keep + h;
          const up = loss();
          v[j] = keep - h;
          const down = loss();
          v[j] = keep;
          fd[j] = (up - down) / (2 * h);
        }
        const scale = Math.max(1e-3, ...Array.from(fd, Math.abs));
        for (let j = 0; j < v.length; j++) {
          expect(result.grads[i][j], `${spec.name}[${j}]`).to.be.closeTo(fd[j], 2e-4 * scale);
        }
      });
      // the clipped precision output receives no gradient
      const pb = result.grads[pBias];
      expect(pb[0]).to.equal(0);
      expect(Array.from(pb).some((g) => g !== 0)).to.equal(true);
    });
  }

  it('is a pure function of the block: the same block alone or among others gives the same bits', () => {
    const c: ModelConfig = { nx: 4, ny: 7, nh: 3, width: 5, visible: 'gaussian' };
    const params = initParameters(c, 9);
    const engine = createTfjsEngine(c);
    const a = block(c, 4, 1);
    const b = block(c, 4, 2);
    const [alone] = engine.blockGradients(params, [a], { seed: 1, step: 2 }, 3);
    const [, together] = engine.blockGradients(params, [b, a], { seed: 1, step: 2 }, 3);
    alone.grads.forEach((g, i) => expect(Buffer.from(g.buffer).equals(Buffer.from(together.grads[i].buffer))).to.equal(true));
    const [other] = engine.blockGradients(params, [a], { seed: 1, step: 3 }, 3);
    expect(other.stats.freeEnergyModel).to.not.equal(alone.stats.freeEnergyModel);
  });
});
