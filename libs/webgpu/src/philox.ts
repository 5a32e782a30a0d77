import { Usage, bufferFrom, computePipeline, destroyAll, emptyBuffer, grid1d, runAndRead } from './compute.ts';
import { PHILOX_KEYED_WGSL, PHILOX_TABLE_WGSL, PHILOX_WORKGROUP } from './philox.wgsl.ts';

function assertU32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${name} must be an integer in [0, 4294967295], got ${v}`);
}

/**
 * Philox4x32-10 blocks on the GPU for a table of inputs.
 * counters: (n, 4) u32 (c0, c1, c2, c3 per row); keys: (n, 2) u32 (k0, k1 per row).
 * Returns (n, 4) u32: row j = `philox4x32(c0, c1, c2, c3, k0, k1)` of @nbm/random for row j.
 */
export async function philoxBlocks(device: GPUDevice, counters: Uint32Array, keys: Uint32Array): Promise<Uint32Array> {
  if (counters.length % 4) throw new RangeError(`counters must be (n, 4), got ${counters.length} values`);
  const n = counters.length / 4;
  if (keys.length !== 2 * n) throw new RangeError(`keys must be (n, 2) = ${2 * n} values for ${n} counters, got ${keys.length}`);
  if (n === 0) return new Uint32Array(0);
  const pipeline = await computePipeline(device, PHILOX_TABLE_WGSL, 'philox_table');
  let c: GPUBuffer | null = null;
  let k: GPUBuffer | null = null;
  let out: GPUBuffer | null = null;
  try {
    c = bufferFrom(device, counters, Usage.STORAGE, 'philox counters');
    k = bufferFrom(device, keys, Usage.STORAGE, 'philox keys');
    out = emptyBuffer(device, n * 16, Usage.STORAGE | Usage.COPY_SRC, 'philox blocks');
    const workgroups = grid1d(device, Math.ceil(n / PHILOX_WORKGROUP));
    return new Uint32Array(await runAndRead(device, [{ pipeline, buffers: [c, k, out], workgroups }], out));
  } finally {
    destroyAll(c, k, out);
  }
}

/** A keyed stream (seed, stream), as @nbm/random's RandomKey. */
export interface StreamKey {
  readonly seed: number;
  readonly stream: number;
}

/** What a keyed draw returns: raw u32, uniforms in [0, 1) (`fillUniform`), or in (0, 1] (`openUnitFromBits`). */
export type KeyedTransform = 'bits' | 'uniform' | 'openUnit';

const ENTRY: Record<KeyedTransform, string> = { bits: 'keyed_bits', uniform: 'keyed_uniform', openUnit: 'keyed_open_unit' };

/**
 * Rows of draws of the keyed stream `key` on the GPU, read back.
 * rows: (r, 3) u32, the counter (a, b, c) of each row; length: draws per row.
 * Returns (r, length) row-major: row j = `fillBits(·, key, a_j, b_j, c_j)` for 'bits' (a Uint32Array), the
 * same bits through `unitFromBits` for 'uniform' (= `fillUniform`) or `openUnitFromBits` for 'openUnit' (a
 * Float32Array; bit for bit, both transforms being exact in float32).
 *
 * The model's chain layout is rows (t, b) with counter (step, globalIndex[b], t) and length nh (hidden, uniforms) or
 * ny (visible; uniforms for Ising units).
 */
export async function keyedDraws(device: GPUDevice, key: StreamKey, rows: Uint32Array, length: number, transform: 'bits'): Promise<Uint32Array>;
export async function keyedDraws(device: GPUDevice, key: StreamKey, rows: Uint32Array, length: number, transform: 'uniform' | 'openUnit'): Promise<Float32Array>;
export async function keyedDraws(device: GPUDevice, key: StreamKey, rows: Uint32Array, length: number, transform: KeyedTransform): Promise<Uint32Array | Float32Array> {
  assertU32('seed', key.seed);
  assertU32('stream', key.stream);
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`length must be a non-negative integer, got ${length}`);
  if (rows.length % 3) throw new RangeError(`rows must be (r, 3) counters (a, b, c), got ${rows.length} values`);
  const r = rows.length / 3;
  const total = r * length;
  if (total * 4 > device.limits.maxStorageBufferBindingSize) {
    throw new RangeError(`${r} × ${length} draws (${total * 4} bytes) exceed maxStorageBufferBindingSize (${device.limits.maxStorageBufferBindingSize})`);
  }
  const wrap = (buf: ArrayBuffer) => (transform === 'bits' ? new Uint32Array(buf) : new Float32Array(buf));
  if (total === 0) return wrap(new ArrayBuffer(0));
  const pipeline = await computePipeline(device, PHILOX_KEYED_WGSL, ENTRY[transform]);
  const blocksPerRow = Math.ceil(length / 4);
  const padded = new Uint32Array(4 * r);
  for (let j = 0; j < r; j++) padded.set(rows.subarray(3 * j, 3 * j + 3), 4 * j);
  const params = new Uint32Array([key.seed, key.stream, length, r, blocksPerRow, 0, 0, 0]);
  let p: GPUBuffer | null = null;
  let counters: GPUBuffer | null = null;
  let out: GPUBuffer | null = null;
  try {
    p = bufferFrom(device, params, Usage.UNIFORM, 'keyed params');
    counters = bufferFrom(device, padded, Usage.STORAGE, 'keyed rows');
    out = emptyBuffer(device, total * 4, Usage.STORAGE | Usage.COPY_SRC, 'keyed draws');
    const workgroups = grid1d(device, Math.ceil((r * blocksPerRow) / PHILOX_WORKGROUP));
    return wrap(await runAndRead(device, [{ pipeline, buffers: [p, counters, out], workgroups }], out));
  } finally {
    destroyAll(p, counters, out);
  }
}
