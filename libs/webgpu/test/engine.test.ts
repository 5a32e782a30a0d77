/**
 * The WebGPU NBM engine against the native CPU kernel (itself checked against the float64 reference), on whatever
 * adapter the machine has (SwiftShader on CI). The two draw every random number from the same keyed Philox bits;
 * they differ by float32 rounding, by the GPU's exp/log/tanh/sin/cos, and by the Gaussian normals, which the GPU
 * forms in float32 from the same bits where @nbm/random uses float64 (its own bit-domain, as docs/architecture.md
 * says of every engine). Tolerances, normwise per tensor: Ising chains use no normals, so their gradients agree to
 * float32 roundings, amplified where a tensor's gradient is a small difference of large terms (d² − d̃², the
 * sums over the visible units of the hidden-layer gradients: up to ~100× on these tiny models), so 1e-4;
 * Gaussian gradients also inherit the normals' float32 error through 1/√P ≤ 31.6 (WGSL allows 2^-11 absolute
 * for sin/cos; SwiftShader is far better), so 5e-3. A Bernoulli draw whose uniform falls within rounding of its
 * probability would break this; the fixed seeds here have none.
 */
import { expect } from 'chai';
import { chooseExponent } from '@nbm/collective';
import { requireNativeKernel } from '@nbm/kernels';
import type { ModelConfig } from '@nbm/model';
import { Stream } from '@nbm/random';
import { bitwiseEqual, makeBlock, makeParams, normwiseError } from '../../kernels/test/helpers.ts';
import { GpuDeviceLostError, GpuLimitError, createWebgpuEngine, openGpu, type WebgpuEngine } from '../src/index.ts';
import { fromInt64Pairs } from '../src/nbm/engine.ts';
import { suiteGpu } from './gpu.ts';

const TOL = { gaussian: 5e-3, ising: 1e-4 } as const;

const CASES: Array<{ name: string; c: ModelConfig; blocks: Array<[number, boolean]> }> = [
  { name: 'odd sizes, one-hot and dense contexts', c: { nx: 5, ny: 29, nh: 7, width: 8, visible: 'gaussian' }, blocks: [[3, false], [1, true], [4, false]] },
  { name: 'odd sizes, Ising', c: { nx: 5, ny: 29, nh: 7, width: 8, visible: 'ising' }, blocks: [[3, false], [1, true], [4, false]] },
  { name: 'nh 1, one example', c: { nx: 3, ny: 11, nh: 1, width: 3, visible: 'gaussian' }, blocks: [[1, false]] },
  { name: 'nh 1, Ising, dense', c: { nx: 3, ny: 11, nh: 1, width: 3, visible: 'ising' }, blocks: [[2, true], [1, true]] },
  { name: 'more hidden units than chain threads', c: { nx: 2, ny: 9, nh: 300, width: 4, visible: 'gaussian' }, blocks: [[2, false]] },
];

function blocksOf(c: ModelConfig, spec: Array<[number, boolean]>) {
  let first = 0;
  return spec.map(([m, dense], i) => {
    const b = makeBlock(c, m, 10 + i, { first, dense });
    first += m;
    return b;
  });
}

describe('WebGPU NBM engine', function () {
  this.timeout(120_000);
  const gpu = suiteGpu();

  describe('block gradients vs the native kernel', () => {
    for (const { name, c, blocks: spec } of CASES) {
      it(`${name}: gradients and statistics within ${TOL[c.visible]}`, async () => {
        const native = requireNativeKernel();
        const engine = await createWebgpuEngine(c, gpu.handle);
        try {
          const params = makeParams(c, 4);
          const blocks = blocksOf(c, spec);
          for (const k of [1, 6]) {
            const key = { seed: 12, step: 345 + k };
            const want = native.blockGradients(c, params, blocks, key, k, { threads: 1 });
            const got = await engine.blockGradients(params, blocks, key, k);
            want.forEach((w, b) => {
              w.grads.forEach((g, t) => expect(normwiseError(got[b].grads[t], g), `k ${k} block ${b} ${params.specs[t].name}`).to.be.at.most(TOL[c.visible]));
              for (const [f, v] of Object.entries(w.stats)) {
                const x = got[b].stats[f as keyof typeof w.stats];
                if (typeof v === 'boolean') expect(x, f).to.equal(v);
                else expect(Math.abs((x as number) - v), `k ${k} block ${b} ${f}`).to.be.at.most(TOL[c.visible] * Math.max(1, Math.abs(v)));
              }
            });
          }
        } finally {
          engine.dispose();
        }
      });
    }

    it('a block gives the same bits alone or among others, and other bits at another step', async () => {
      const c: ModelConfig = { nx: 4, ny: 13, nh: 5, width: 6, visible: 'gaussian' };
      const engine = await createWebgpuEngine(c, gpu.handle);
      try {
        const params = makeParams(c, 2);
        const [a, b] = blocksOf(c, [[3, false], [2, true]]);
        const [alone] = await engine.blockGradients(params, [b], { seed: 1, step: 2 }, 4);
        const [, together] = await engine.blockGradients(params, [a, b], { seed: 1, step: 2 }, 4);
        const [other] = await engine.blockGradients(params, [b], { seed: 1, step: 3 }, 4);
        alone.grads.forEach((g, t) => expect(bitwiseEqual(g, together.grads[t]), params.specs[t].name).to.equal(true));
        expect(bitwiseEqual(alone.grads[8], other.grads[8])).to.equal(false);
      } finally {
        engine.dispose();
      }
    });
  });

  describe('sums on the device', () => {
    it('max |g|, the exact fixed-point sum and the float32 sum equal the native kernel on the same block gradients, bit for bit', async () => {
      const native = requireNativeKernel();
      const c: ModelConfig = { nx: 5, ny: 29, nh: 7, width: 8, visible: 'gaussian' };
      const engine = await createWebgpuEngine(c, gpu.handle);
      try {
        const params = makeParams(c, 4);
        const blocks = blocksOf(c, [[3, false], [1, true], [4, false], [2, false]]);
        const key = { seed: 5, step: 9 };
        const host = await engine.blockGradients(params, blocks, key, 3);
        const sizes = host[0].grads.map((g) => g.length);
        const shard = await engine.shardGradients(params, blocks, key, 3);
        const max = await shard.bounds();
        expect(bitwiseEqual(max, native.blockMaxAbs(host, sizes))).to.equal(true);
        // the minibatch's exponents as the trainer picks them, and two off them (coarser and finer)
        for (const shift of [0, -7, 1]) {
          const exponents = Int32Array.from(max, (m) => chooseExponent(m, blocks.length) + shift);
          const got = await shard.fixedSum(exponents);
          expect(bitwiseEqual(got, native.fixedSum(host, exponents, sizes)), `shift ${shift}`).to.equal(true);
        }
        expect(bitwiseEqual(await shard.floatSum(), native.floatSum(host, sizes))).to.equal(true);
        shard.stats.forEach((s, b) => expect(s).to.deep.equal(host[b].stats));
      } finally {
        engine.dispose();
      }
    });

    it('decodes 64-bit two’s complement pairs exactly', () => {
      const values = [0, 1, -1, 2 ** 32, -(2 ** 32), 2 ** 52, -(2 ** 52), 123456789012345, -987654321098765];
      const bits = new Uint32Array(values.length * 2);
      values.forEach((v, i) => {
        const big = BigInt.asUintN(64, BigInt(v));
        bits[2 * i] = Number(big & 0xffffffffn);
        bits[2 * i + 1] = Number(big >> 32n);
      });
      expect(Array.from(fromInt64Pairs(bits))).to.deep.equal(values);
    });

    it('a non-finite gradient gives an infinite bound', async () => {
      const c: ModelConfig = { nx: 2, ny: 5, nh: 3, width: 2, visible: 'gaussian' };
      const engine = await createWebgpuEngine(c, gpu.handle);
      try {
        const params = makeParams(c, 1);
        params.values[3][1] = NaN; // μ's output bias: NaN reaches μ, every gradient of the bias net and the stats
        const shard = await engine.shardGradients(params, blocksOf(c, [[2, false]]), { seed: 1, step: 1 }, 2);
        const max = await shard.bounds();
        expect(max[3]).to.equal(Infinity);
        expect(shard.stats[0].finite).to.equal(false);
      } finally {
        engine.dispose();
      }
    });
  });

  describe('device traffic', () => {
    const c: ModelConfig = { nx: 4, ny: 13, nh: 5, width: 6, visible: 'ising' };

    async function stepCounts(engine: WebgpuEngine, blocks: number, k: number) {
      const params = makeParams(c, 3);
      const before = { ...engine.counters };
      const shard = await engine.shardGradients(params, blocksOf(c, Array.from({ length: blocks }, () => [2, false] as [number, boolean])), { seed: 1, step: 1 }, k);
      const max = await shard.bounds();
      await shard.fixedSum(Int32Array.from(max, (m) => chooseExponent(m, blocks)));
      const now = engine.counters;
      return { dispatches: now.dispatches - before.dispatches, uploads: now.uploads - before.uploads, readbacks: now.readbacks - before.readbacks };
    }

    it('a step takes 8 dispatches, 5 uploads and 2 readbacks, whatever k and the number of blocks', async () => {
      const engine = await createWebgpuEngine(c, gpu.handle);
      try {
        for (const [blocks, k] of [[1, 1], [1, 32], [6, 1], [6, 32]]) {
          expect(await stepCounts(engine, blocks, k), `${blocks} blocks, k ${k}`).to.deep.equal({ dispatches: 8, uploads: 5, readbacks: 2 });
        }
      } finally {
        engine.dispose();
      }
    });

    it('creates no buffer once warm: 50 steps of the same shape leave the live buffers as they were', async () => {
      const engine = await createWebgpuEngine(c, gpu.handle);
      try {
        await stepCounts(engine, 3, 2);
        const warm = { ...engine.counters };
        for (let i = 0; i < 50; i++) await stepCounts(engine, 3, 2);
        expect(engine.counters.buffersCreated).to.equal(warm.buffersCreated);
        expect(engine.counters.buffersLive).to.equal(warm.buffersLive);
        engine.dispose();
        expect(engine.counters.buffersLive).to.equal(0);
      } finally {
        engine.dispose();
      }
    });
  });

  describe('sampling', () => {
    for (const visible of ['gaussian', 'ising'] as const) {
      it(`${visible}: chains and denoised samples track the native kernel's; split passes give the same bits`, async () => {
        const native = requireNativeKernel();
        const c: ModelConfig = { nx: 5, ny: 29, nh: 7, width: 8, visible };
        const params = makeParams(c, 6);
        const m = 9;
        const x = new Float32Array(m * c.nx);
        for (let b = 0; b < m; b++) x[b * c.nx + (b % c.nx)] = 1;
        const index = Uint32Array.from({ length: m }, (_, b) => 100 + b);
        const key = { seed: 3, step: 0 };
        const whole = await createWebgpuEngine(c, gpu.handle);
        const split = await createWebgpuEngine(c, gpu.handle, { maxExamplesPerPass: 4 });
        try {
          for (const denoise of [false, true]) {
            const got = await whole.sample(params, x, index, key, 5, denoise);
            const want = native.sample(c, params, x, index, key, 5, denoise, { hidden: Stream.sampleHidden, visible: Stream.sampleVisible });
            expect(normwiseError(got, want), `denoise ${denoise}`).to.be.at.most(TOL[visible]);
            expect(bitwiseEqual(await split.sample(params, x, index, key, 5, denoise), got), `split, denoise ${denoise}`).to.equal(true);
          }
        } finally {
          whole.dispose();
          split.dispose();
        }
      });
    }
  });

  describe('limits', () => {
    it('a step past the storage-binding limit runs in several passes of whole blocks: the same bits, more dispatches', async () => {
      const c: ModelConfig = { nx: 4, ny: 13, nh: 5, width: 6, visible: 'gaussian' };
      const whole = await createWebgpuEngine(c, gpu.handle);
      const split = await createWebgpuEngine(c, gpu.handle, { maxExamplesPerPass: 3 });
      try {
        const params = makeParams(c, 2);
        const blocks = blocksOf(c, [[2, false], [1, true], [3, false], [1, false]]); // passes [2, 1], [3], [1]
        const key = { seed: 4, step: 6 };
        const [a, b] = [await whole.blockGradients(params, blocks, key, 3), await split.blockGradients(params, blocks, key, 3)];
        a.forEach((blk, i) => {
          blk.grads.forEach((g, t) => expect(bitwiseEqual(g, b[i].grads[t]), `block ${i} tensor ${t}`).to.equal(true));
          expect(b[i].stats).to.deep.equal(blk.stats);
        });
        const before = split.counters.dispatches;
        const [sa, sb] = [await whole.shardGradients(params, blocks, key, 3), await split.shardGradients(params, blocks, key, 3)];
        expect(split.counters.dispatches - before).to.equal(3 * 6 + 1);
        const max = await sa.bounds();
        expect(bitwiseEqual(await sb.bounds(), max)).to.equal(true);
        const exponents = Int32Array.from(max, (m) => chooseExponent(m, blocks.length));
        expect(bitwiseEqual(await sb.fixedSum(exponents), await sa.fixedSum(exponents))).to.equal(true);
      } finally {
        whole.dispose();
        split.dispose();
      }
    });

    it('a block larger than one pass can hold: a GpuLimitError naming the limit and what to do', async () => {
      const c: ModelConfig = { nx: 2, ny: 5, nh: 3, width: 2, visible: 'gaussian' };
      const engine = await createWebgpuEngine(c, gpu.handle, { maxExamplesPerPass: 2 });
      try {
        let error: unknown = null;
        await engine.blockGradients(makeParams(c, 1), blocksOf(c, [[3, false]]), { seed: 1, step: 1 }, 1).catch((e: unknown) => (error = e));
        expect(error).to.be.instanceOf(GpuLimitError);
        expect((error as Error).message).to.match(/a block of 3 examples exceeds the 2 that fit one device pass \(the adapter's maxStorageBufferBindingSize, \d+ bytes\); use a smaller --block-size/);
      } finally {
        engine.dispose();
      }
    });

    it('a lost device: every later call fails with a GpuDeviceLostError saying so', async () => {
      const c: ModelConfig = { nx: 2, ny: 5, nh: 3, width: 2, visible: 'gaussian' };
      const own = await openGpu({ allowSoftware: true }); // a device of its own: destroying it is the loss
      const engine = await createWebgpuEngine(c, own);
      const args = [makeParams(c, 1), blocksOf(c, [[2, false]]), { seed: 1, step: 1 }, 1] as const;
      await engine.shardGradients(...args);
      own.close();
      for (let i = 0; i < 2; i++) {
        const error = await engine.shardGradients(...args).then(() => null, (e: unknown) => e);
        expect(error).to.be.instanceOf(GpuDeviceLostError);
        expect((error as Error).message).to.match(/the WebGPU device \(.*\) was lost \(destroyed.*restart, with --resume/);
      }
      engine.dispose();
    });

    it('nh past the workgroup arrays: refused with the limit', async () => {
      let error: unknown = null;
      await createWebgpuEngine({ nx: 2, ny: 5, nh: 2000, width: 2, visible: 'gaussian' }, gpu.handle).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(GpuLimitError);
      expect((error as Error).message).to.match(/at most 1024 hidden units/);
    });
  });
});
