import { expect } from 'chai';
import { Stream, fillBits, fillUniform, openUnitFromBits, philox4x32, unitFromBits } from '@nbm/random';
import { PHILOX_WGSL } from '../src/philox.wgsl.ts';
import { bufferFrom, computePipeline, destroyAll, emptyBuffer, runAndRead, Usage } from '../src/compute.ts';
import { keyedDraws, philoxBlocks } from '../src/philox.ts';
import { suiteGpu } from './gpu.ts';

const hex = (a: ArrayLike<number>) => Array.from(a, (v) => v.toString(16).padStart(8, '0')).join(' ');
const bitsOf = (f: Float32Array) => new Uint32Array(f.buffer, f.byteOffset, f.length);

/** Deterministic "random" u32s for the tests: Philox itself (CPU), keyed apart from anything the model uses. */
function randomU32(n: number, salt: number): Uint32Array {
  const out = new Uint32Array(n);
  fillBits(out, { seed: 0x5eed, stream: 0xfeed0000 + salt }, 0, 0, 0);
  return out;
}

/** Index of the first difference of two u32 arrays, with both values, or null. */
function firstDifference(got: Uint32Array, want: Uint32Array): string | null {
  if (got.length !== want.length) return `length ${got.length} ≠ ${want.length}`;
  for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) return `at ${i}: ${got[i].toString(16)} ≠ ${want[i].toString(16)}`;
  return null;
}

const EDGES = [0, 1, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

describe('webgpu philox4x32-10 (bit for bit @nbm/random, on the test adapter)', () => {
  const gpu = suiteGpu();

  function cpuBlocks(counters: Uint32Array, keys: Uint32Array): Uint32Array {
    const n = counters.length / 4;
    const out = new Uint32Array(4 * n);
    for (let j = 0; j < n; j++) philox4x32(counters[4 * j], counters[4 * j + 1], counters[4 * j + 2], counters[4 * j + 3], keys[2 * j], keys[2 * j + 1], out, 4 * j);
    return out;
  }

  it('matches the Random123 known answers that libs/random tests', async () => {
    const counters = new Uint32Array([0, 0, 0, 0, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344]);
    const keys = new Uint32Array([0, 0, 0xffffffff, 0xffffffff, 0xa4093822, 0x299f31d0]);
    const got = await philoxBlocks(gpu.device, counters, keys);
    expect(hex(got.subarray(0, 4))).to.equal('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    expect(hex(got.subarray(4, 8))).to.equal('408f276d 41c83b0e a20bc7c6 6d5451fd');
    expect(hex(got.subarray(8, 12))).to.equal('d16cfe09 94fdcceb 5001e420 24126ea1');
  });

  it('equals philox4x32 for edge values in every key and counter word, and 4096 random (key, counter) rows', async () => {
    const rows: number[][] = [];
    const fill = randomU32(6 * 3 * EDGES.length * 6, 1);
    let r = 0;
    // each of the 6 words takes each edge value, the other words 0, all-ones or random
    for (let word = 0; word < 6; word++) {
      for (const edge of EDGES) {
        for (const rest of ['zero', 'ones', 'random'] as const) {
          const row = Array.from({ length: 6 }, () => (rest === 'zero' ? 0 : rest === 'ones' ? 0xffffffff : fill[r++]));
          row[word] = edge;
          rows.push(row);
        }
      }
    }
    const random = randomU32(6 * 4096, 2);
    for (let j = 0; j < 4096; j++) rows.push(Array.from(random.subarray(6 * j, 6 * j + 6)));
    const counters = new Uint32Array(rows.flatMap((row) => row.slice(0, 4)));
    const keys = new Uint32Array(rows.flatMap((row) => row.slice(4, 6)));
    const got = await philoxBlocks(gpu.device, counters, keys);
    expect(got.length).to.equal(4 * rows.length);
    expect(firstDifference(got, cpuBlocks(counters, keys))).to.equal(null);
  });

  describe('keyed streams (seed, stream) at counter (a, b, c), element i = lane i % 4 of block i / 4', () => {
    const lengths = [1, 2, 3, 4, 5, 7, 8, 13, 64, 129];
    const key = (stream: number, seed: number) => ({ seed, stream });

    /** Counter rows: edge values in each of a, b, c, then random ones. */
    function counterRows(count: number, salt: number): Uint32Array {
      const rows: number[] = [];
      for (const e of [0, 0xffffffff, 0x80000000]) rows.push(e, 0, 0, 0, e, 0, 0, 0, e, e, e, e);
      rows.push(...randomU32(3 * count, salt));
      return new Uint32Array(rows);
    }

    for (const [name, stream] of [['hidden', Stream.hidden], ['visible', Stream.visible], ['dataTrain', Stream.dataTrain]] as const) {
      it(`${name} stream: raw bits = fillBits and uniforms = fillUniform, float32 bit patterns equal`, async () => {
        const rows = counterRows(12, stream);
        const r = rows.length / 3;
        for (const seed of [0, 0xffffffff, 20240917]) {
          for (const length of lengths) {
            const k = key(stream, seed);
            const bits = await keyedDraws(gpu.device, k, rows, length, 'bits');
            const unif = await keyedDraws(gpu.device, k, rows, length, 'uniform');
            const wantBits = new Uint32Array(r * length);
            const wantUnif = new Float32Array(r * length);
            for (let j = 0; j < r; j++) {
              const [a, b, c] = rows.subarray(3 * j, 3 * j + 3);
              fillBits(wantBits.subarray(j * length, (j + 1) * length), k, a, b, c);
              fillUniform(wantUnif.subarray(j * length, (j + 1) * length), k, a, b, c);
            }
            const where = `seed ${seed}, length ${length}`;
            expect(firstDifference(bits, wantBits), where).to.equal(null);
            expect(firstDifference(bitsOf(unif), bitsOf(wantUnif)), where).to.equal(null);
          }
        }
      });
    }

    it('open-interval uniforms ((u >> 8) + 1) · 2^-24 = openUnitFromBits, bit for bit, up to 1 exactly', async () => {
      const rows = counterRows(8, 99);
      const k = key(Stream.visible, 7);
      const length = 37;
      const got = await keyedDraws(gpu.device, k, rows, length, 'openUnit');
      const bits = await keyedDraws(gpu.device, k, rows, length, 'bits');
      const want = Float32Array.from(bits, (u) => openUnitFromBits(u));
      expect(firstDifference(bitsOf(got), bitsOf(want))).to.equal(null);
      // the two ends of the transforms, through the shader's functions directly
      const probe = await transformProbe(new Uint32Array([0, 0xff, 0x100, 0xffffff00, 0xffffffff]));
      expect(Array.from(probe.unit)).to.deep.equal([0, 0, 2 ** -24, 1 - 2 ** -24, 1 - 2 ** -24]);
      expect(Array.from(probe.open)).to.deep.equal([2 ** -24, 2 ** -24, 2 * 2 ** -24, 1, 1]);
    });

    it("the chain's hidden draws: rows (t, b) at counter (step, globalIndex[b], t), as @nbm/model's chainRandoms lays them", async () => {
      const step = 1234;
      const index = new Uint32Array([0, 5, 70000, 0xfffffffe]);
      const gibbs = 3;
      const nh = 21;
      const k = { seed: 42, stream: Stream.hidden };
      const rows = new Uint32Array(gibbs * index.length * 3);
      for (let t = 0; t < gibbs; t++) for (let b = 0; b < index.length; b++) rows.set([step, index[b], t], 3 * (t * index.length + b));
      const got = await keyedDraws(gpu.device, k, rows, nh, 'uniform');
      const want = new Float32Array(gibbs * index.length * nh); // (k, m, nh)
      for (let t = 0; t < gibbs; t++) {
        for (let b = 0; b < index.length; b++) {
          fillUniform(want.subarray((t * index.length + b) * nh, (t * index.length + b + 1) * nh), k, step, index[b], t);
        }
      }
      expect(firstDifference(bitsOf(got), bitsOf(want))).to.equal(null);
    });

    it('nbm_spin(u, p) = unitFromBits(u) < p ? +1 : −1, also with p exactly at the uniform', async () => {
      const bits = randomU32(64, 5);
      bits.set([0, 0xffffffff, 0x00000100, 0x80000000]);
      const p = new Float32Array(64);
      for (let i = 0; i < 64; i++) p[i] = i % 3 === 0 ? unitFromBits(bits[i]) : (i % 3 === 1 ? 0.5 : (i / 64) * 1.2 - 0.1);
      p.set([0, 1, 2 ** -24, 0.5]);
      const got = await spinProbe(bits, p);
      const want = Float32Array.from(bits, (u, i) => (unitFromBits(u) < p[i] ? 1 : -1));
      expect(Array.from(got)).to.deep.equal(Array.from(want));
    });
  });

  /** Runs nbm_unit and nbm_open_unit of PHILOX_WGSL on given u32s. */
  async function transformProbe(u: Uint32Array): Promise<{ unit: Float32Array; open: Float32Array }> {
    const code = `${PHILOX_WGSL}
@group(0) @binding(0) var<storage, read> inp: array<u32>;
@group(0) @binding(1) var<storage, read_write> outp: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= arrayLength(&inp)) { return; }
  outp[2u * i] = nbm_unit(inp[i]);
  outp[2u * i + 1u] = nbm_open_unit(inp[i]);
}`;
    const device = gpu.device;
    const pipeline = await computePipeline(device, code, 'main');
    const inp = bufferFrom(device, u, Usage.STORAGE);
    const out = emptyBuffer(device, 8 * u.length, Usage.STORAGE | Usage.COPY_SRC);
    try {
      const f = new Float32Array(await runAndRead(device, [{ pipeline, buffers: [inp, out], workgroups: [Math.ceil(u.length / 64)] }], out));
      return { unit: f.filter((_, i) => i % 2 === 0), open: f.filter((_, i) => i % 2 === 1) };
    } finally {
      destroyAll(inp, out);
    }
  }

  /** Runs nbm_spin of PHILOX_WGSL on (u, p) pairs. */
  async function spinProbe(u: Uint32Array, p: Float32Array): Promise<Float32Array> {
    const code = `${PHILOX_WGSL}
@group(0) @binding(0) var<storage, read> bits: array<u32>;
@group(0) @binding(1) var<storage, read> prob: array<f32>;
@group(0) @binding(2) var<storage, read_write> spins: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= arrayLength(&bits)) { return; }
  spins[i] = nbm_spin(bits[i], prob[i]);
}`;
    const device = gpu.device;
    const pipeline = await computePipeline(device, code, 'main');
    const b = bufferFrom(device, u, Usage.STORAGE);
    const pb = bufferFrom(device, p, Usage.STORAGE);
    const out = emptyBuffer(device, 4 * u.length, Usage.STORAGE | Usage.COPY_SRC);
    try {
      return new Float32Array(await runAndRead(device, [{ pipeline, buffers: [b, pb, out], workgroups: [Math.ceil(u.length / 64)] }], out));
    } finally {
      destroyAll(b, pb, out);
    }
  }
});
