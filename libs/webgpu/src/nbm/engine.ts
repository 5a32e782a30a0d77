import type * as Webgpu from 'webgpu'; // WebGPU types
import {
  LOG_PRECISION_MAX,
  LOG_PRECISION_MIN,
  parameterSpecs,
  sizeOf,
  validateModelConfig,
  type BlockGradient,
  type BlockStats,
  type ChainKey,
  type ExampleBlock,
  type GradientEngine,
  type ModelConfig,
  type Parameters,
  type ShardGradients,
} from '@nbm/model';
import { Stream, type ChainStreamIds } from '@nbm/random';
import { Usage, grid1d } from '../compute.ts';
import type { GpuHandle } from '../device.ts';
import {
  chainThreads,
  DIMS_FIELDS,
  DIMS_FLOATS,
  MAX_HIDDEN,
  Mode,
  STATS_PER_EXAMPLE,
  STEP_BINDINGS,
  STEP_ENTRY_POINTS,
  STEP_WGSL,
  WRITABLE,
  type DimsField,
  type StepEntryPoint,
} from './step.wgsl.ts';

/** What the engine did on the device since it was made: counts that do not depend on the hardware. */
export interface DeviceCounters {
  /** compute dispatches */
  dispatches: number;
  /** queue.writeBuffer calls (host → device copies) */
  uploads: number;
  /** bytes uploaded */
  uploadBytes: number;
  /** buffer maps read back (device → host) */
  readbacks: number;
  /** bytes read back */
  readbackBytes: number;
  /** GPU buffers created (they grow only when a call needs more room than any call before) */
  buffersCreated: number;
  /** GPU buffers alive now */
  buffersLive: number;
}

/** A model or call that does not fit the adapter's limits; names the limit. */
export class GpuLimitError extends Error {
  override readonly name = 'GpuLimitError';
}

/**
 * The GPU device was lost (driver reset, GPU removed, the device destroyed): no call can complete. Nothing the
 * engine writes is on disk, so a run stopped by it resumes from its last checkpoint.
 */
export class GpuDeviceLostError extends Error {
  override readonly name = 'GpuDeviceLostError';
}


/** The WebGPU implementation of `GradientEngine`, plus sampling chains and device-side block sums. */
export interface WebgpuEngine extends GradientEngine {
  readonly adapter: GpuHandle['adapter'];
  readonly counters: Readonly<DeviceCounters>;
  /** Every block's gradients, read back (tests, tools); training reads one sum through `shardGradients`. */
  blockGradients(params: Parameters, blocks: readonly ExampleBlock[], key: ChainKey, gibbsSteps: number): Promise<BlockGradient[]>;
  /** Block gradients kept on the device, reduced there: one readback of the statistics and bounds, one of the sum. */
  shardGradients(params: Parameters, blocks: readonly ExampleBlock[], key: ChainKey, gibbsSteps: number): Promise<ShardGradients>;
  /**
   * k-step chains from y = μ(x): x (m, nx), index (m,) the example index keying each chain's draws at counter
   * (key.step, index, Gibbs step, ·). Returns ỹ (m, ny), or with `denoise` the noise-free value from the last h.
   */
  sample(params: Parameters, x: Float32Array, index: Uint32Array, key: { readonly seed: number; readonly step: number }, k: number, denoise: boolean, streams?: ChainStreamIds): Promise<Float32Array>;
}

export interface WebgpuEngineOptions {
  /** most examples per device pass; default: as many as the adapter's storage-binding limit allows (≤ 4096) */
  readonly maxExamplesPerPass?: number;
}

const WG = 64;

/** Float offsets of the per-example vectors in the work buffer, for `examples` examples. */
function workLayout(c: ModelConfig, examples: number, tensors: number): { offsets: Record<string, number>; size: number } {
  const parts: Array<[string, number]> = [
    ['wAb', c.width], ['wAp', c.width], ['wMu', c.ny], ['wP', c.ny], ['wS', c.ny], ['wY', c.ny], ['wD', c.ny], ['wDm', c.ny],
    ['wGob', c.ny], ['wGop', c.ny], ['wGab', c.width], ['wGap', c.width], ['wT', c.nh], ['wTm', c.nh], ['wH', c.nh],
    ['wStats', STATS_PER_EXAMPLE], ['wW', c.ny * c.nh], ['wWt', c.ny * c.nh],
  ];
  const offsets: Record<string, number> = {};
  let at = 0;
  for (const [name, per] of parts) {
    offsets[name] = at;
    at += per * examples;
  }
  offsets.wMax = at;
  return { offsets, size: at + tensors };
}

/**
 * Opens the NBM step on `gpu` for `config`: compiles the kernels and checks the model against the adapter's limits.
 * The engine's buffers grow to the largest call seen and are then reused: a step creates no buffer.
 * @throws GpuLimitError when one example's W(x) or one block's gradient exceeds what a storage binding may hold
 */
export async function createWebgpuEngine(config: ModelConfig, gpu: GpuHandle, options: WebgpuEngineOptions = {}): Promise<WebgpuEngine> {
  validateModelConfig(config);
  if (config.nh > MAX_HIDDEN) throw new GpuLimitError(`the WebGPU engine holds at most ${MAX_HIDDEN} hidden units in a workgroup, the model has nh = ${config.nh}`);
  const device = gpu.device;
  const specs = parameterSpecs(config);
  const sizes = specs.map((s) => sizeOf(s.shape));
  const offsets: number[] = [];
  let total = 0;
  for (const n of sizes) {
    offsets.push(total);
    total += n;
  }
  const bindLimit = device.limits.maxStorageBufferBindingSize;
  const perExample = workLayout(config, 1, 0).size * 4;
  if (total * 4 > bindLimit || perExample > bindLimit) {
    throw new GpuLimitError(
      `the model does not fit the adapter's maxStorageBufferBindingSize (${bindLimit} bytes): its parameters take ${total * 4} bytes, one example's work ${perExample} bytes; use a GPU with a larger limit or a smaller model`,
    );
  }
  const fit = Math.floor((bindLimit - sizes.length * 4) / perExample);
  const maxExamples = Math.max(1, Math.min(options.maxExamplesPerPass ?? 4096, fit));

  const counters: DeviceCounters = { dispatches: 0, uploads: 0, uploadBytes: 0, readbacks: 0, readbackBytes: 0, buffersCreated: 0, buffersLive: 0 };

  const layout = device.createBindGroupLayout({
    label: 'nbm step',
    entries: STEP_BINDINGS.map((name, binding) => ({
      binding,
      visibility: 4 /* GPUShaderStage.COMPUTE */,
      buffer: { type: name === 'dims' ? 'uniform' : WRITABLE.has(name) ? 'storage' : 'read-only-storage' },
    })),
  });
  const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: STEP_WGSL, label: 'nbm step' });
  const pipelines = new Map<StepEntryPoint, GPUComputePipeline>();
  try {
    for (const entryPoint of STEP_ENTRY_POINTS) {
      const constants = entryPoint === 'chain' || entryPoint === 'max_abs' ? { CHAIN_THREADS: chainThreads(config) } : undefined;
      pipelines.set(entryPoint, await device.createComputePipelineAsync({ layout: pipelineLayout, compute: { module, entryPoint, constants }, label: entryPoint }));
    }
  } catch (e) {
    await device.popErrorScope();
    const info = await module.getCompilationInfo();
    const messages = info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
    throw new Error(`the WebGPU step kernels failed to compile: ${(e as Error).message.split('\n')[0]}${messages.length ? ` (${messages.join('; ')})` : ''}`);
  }
  const scoped = await device.popErrorScope();
  if (scoped) throw new Error(`the WebGPU step kernels failed to compile: ${scoped.message.split('\n')[0]}`);

  // Buffers, grown on demand and reused.
  const buffers = new Map<string, GPUBuffer>();
  const ensure = (name: string, bytes: number, usage: number): GPUBuffer => {
    const need = Math.max(16, Math.ceil(bytes / 16) * 16);
    const have = buffers.get(name);
    if (have && have.size >= need) return have;
    have?.destroy();
    if (have) counters.buffersLive -= 1;
    const b = device.createBuffer({ size: need, usage, label: `nbm ${name}` });
    counters.buffersCreated += 1;
    counters.buffersLive += 1;
    buffers.set(name, b);
    return b;
  };
  const STORAGE = Usage.STORAGE | Usage.COPY_DST | Usage.COPY_SRC;
  const upload = (buffer: GPUBuffer, offsetBytes: number, data: ArrayBufferView) => {
    device.queue.writeBuffer(buffer, offsetBytes, data.buffer, data.byteOffset, data.byteLength);
    counters.uploads += 1;
    counters.uploadBytes += data.byteLength;
  };

  let disposed = false;
  let lost: GpuDeviceLostError | null = null;
  void device.lost.then((info) => {
    lost = new GpuDeviceLostError(
      `the WebGPU device (${gpu.adapter.description}) was lost (${info.reason || 'unknown reason'}${info.message ? `: ${info.message.split('\n')[0]}` : ''}); nothing was written for the step it was on: restart, with --resume for a training run`,
    );
  });
  let busy: Promise<unknown> = Promise.resolve();
  /** One device job at a time: the buffers are shared by every call. A job on a lost device fails with why. */
  const serial = <T>(job: () => Promise<T>): Promise<T> => {
    if (disposed) return Promise.reject(new Error('the WebGPU engine was disposed'));
    const guarded = async () => {
      if (lost) throw lost;
      try {
        return await job();
      } catch (e) {
        // let the lost promise settle first: a job that failed because the device went away says so
        await new Promise((r) => setImmediate(r));
        throw lost ?? e;
      }
    };
    const run = busy.then(guarded, guarded);
    busy = run.catch(() => undefined);
    return run;
  };

  interface Pass {
    readonly examples: number;
    readonly blocks: number;
    /** the step's blocks (the rows of grads) */
    readonly all: number;
    readonly bindGroup: GPUBindGroup;
    readonly dims: Uint32Array;
    readonly work: GPUBuffer;
    readonly workOffsets: Record<string, number>;
    readonly indices: GPUBuffer;
    readonly grads: GPUBuffer;
    readonly fixed: GPUBuffer;
  }

  /** Where a pass's blocks go among the step's: rows [base, base + blocks) of `all` (default: the whole step). */
  interface Placement {
    readonly base: number;
    readonly all: number;
    /** upload the parameters (the first pass of a step; later ones find them there) */
    readonly uploadParams: boolean;
  }

  /** Uploads one pass's inputs (and parameters) and binds its buffers. */
  function preparePass(params: Parameters, x: Float32Array, y: Float32Array | null, index: Uint32Array, blockStarts: Uint32Array, seed: number, step: number, k: number, streams: ChainStreamIds, mode: number, placement?: Placement): Pass {
    const examples = index.length;
    const blocks = blockStarts.length - 1;
    const { base, all, uploadParams } = placement ?? { base: 0, all: blocks, uploadParams: true };
    const wl = workLayout(config, examples, sizes.length);
    const fields: Record<DimsField, number> = {
      nx: config.nx, ny: config.ny, nh: config.nh, width: config.width, examples, blocks, k, ising: config.visible === 'ising' ? 1 : 0,
      seed, step, hiddenStream: streams.hidden, visibleStream: streams.visible, mode, total,
      inY: examples * config.nx, inBlocks: examples, inExp: examples + blocks + 1,
      wAb: 0, wAp: 0, wMu: 0, wP: 0, wS: 0, wW: 0, wY: 0, wD: 0, wDm: 0, wT: 0, wTm: 0, wH: 0, wGob: 0, wGop: 0, wGab: 0, wGap: 0, wStats: 0, wMax: 0,
      t0: offsets[0], t1: offsets[1], t2: offsets[2], t3: offsets[3], t4: offsets[4], t5: offsets[5], t6: offsets[6], t7: offsets[7], t8: offsets[8], t9: offsets[9],
      norm: Math.sqrt(config.ny), lo: LOG_PRECISION_MIN, hi: LOG_PRECISION_MAX, wWt: 0, blockBase: base, allBlocks: all,
    };
    for (const [name, at] of Object.entries(wl.offsets)) fields[name as DimsField] = at;
    const dims = new Uint32Array(Math.ceil(DIMS_FIELDS.length / 4) * 4);
    const dimsF = new Float32Array(dims.buffer);
    DIMS_FIELDS.forEach((f, i) => (DIMS_FLOATS.has(f) ? (dimsF[i] = fields[f]) : (dims[i] = fields[f])));

    const dimsBuffer = ensure('dims', dims.byteLength, Usage.UNIFORM | Usage.COPY_DST);
    const paramsBuffer = ensure('params', total * 4, STORAGE);
    const inputs = ensure('inputs', (examples * (config.nx + config.ny) + 1) * 4, STORAGE);
    const indices = ensure('indices', (examples + blocks + 1 + sizes.length) * 4, STORAGE);
    const work = ensure('work', wl.size * 4, STORAGE);
    const grads = ensure('grads', Math.max(1, all) * total * 4, STORAGE);
    const fixed = ensure('fixed', total * 8, STORAGE);

    upload(dimsBuffer, 0, dims);
    if (uploadParams) {
      const flat = new Float32Array(total);
      params.values.forEach((v, t) => flat.set(v, offsets[t]));
      upload(paramsBuffer, 0, flat);
    }
    const inputData = new Float32Array(examples * (config.nx + config.ny));
    inputData.set(x);
    if (y) inputData.set(y, examples * config.nx);
    if (inputData.length) upload(inputs, 0, inputData);
    const idx = new Uint32Array(examples + blocks + 1);
    idx.set(index);
    idx.set(blockStarts, examples);
    upload(indices, 0, idx);

    const bindGroup = device.createBindGroup({
      layout,
      entries: [dimsBuffer, paramsBuffer, inputs, indices, work, grads, fixed].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return { examples, blocks, all, bindGroup, dims, work, workOffsets: wl.offsets, indices, grads, fixed };
  }

  function encode(encoder: GPUCommandEncoder, pass: Pass, steps: ReadonlyArray<[StepEntryPoint, readonly [number, number?]]>): void {
    const cp = encoder.beginComputePass();
    cp.setBindGroup(0, pass.bindGroup);
    for (const [entry, wgs] of steps) {
      cp.setPipeline(pipelines.get(entry)!);
      cp.dispatchWorkgroups(wgs[0], wgs[1] ?? 1);
      counters.dispatches += 1;
    }
    cp.end();
  }

  const elementwise = (n: number) => grid1d(device, Math.ceil(Math.max(1, n) / WG));
  const perExampleGrid = (examples: number) => grid1d(device, Math.max(1, examples));

  /** The forward passes and the chain (and, training, the backward pass): the dispatches of one pass. */
  function stepDispatches(pass: Pass, train: boolean): Array<[StepEntryPoint, readonly [number, number?]]> {
    const e = pass.examples;
    const list: Array<[StepEntryPoint, readonly [number, number?]]> = [
      ['hidden_layers', elementwise(2 * e * config.width)],
      ['outputs', elementwise(e * config.ny)],
      ['weights', elementwise(e * config.ny * config.nh)],
      ['chain', perExampleGrid(e)],
    ];
    if (train) list.push(['hidden_grads', elementwise(2 * e * config.width)], ['block_grads', elementwise(pass.blocks * total)]);
    return list;
  }

  // Staging buffers for reads, reused.
  async function read(encoder: GPUCommandEncoder, copies: ReadonlyArray<readonly [GPUBuffer, number, number]>): Promise<ArrayBuffer[]> {
    const bytes = copies.reduce((a, [, , n]) => a + n, 0);
    const staging = ensure('staging', bytes, Usage.MAP_READ | Usage.COPY_DST);
    let at = 0;
    for (const [src, off, n] of copies) {
      encoder.copyBufferToBuffer(src, off, staging, at, n);
      at += n;
    }
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    device.queue.submit([encoder.finish()]);
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    if (validation || oom) throw new Error(`WebGPU ${validation ? 'validation' : 'out-of-memory'} error in the NBM step: ${(validation ?? oom)!.message.split('\n')[0]}`);
    await staging.mapAsync(1 /* GPUMapMode.READ */, 0, Math.max(16, Math.ceil(bytes / 16) * 16));
    const mapped = staging.getMappedRange(0, Math.max(16, Math.ceil(bytes / 16) * 16));
    const out: ArrayBuffer[] = [];
    at = 0;
    for (const [, , n] of copies) {
      out.push(mapped.slice(at, at + n));
      at += n;
    }
    staging.unmap();
    counters.readbacks += 1;
    counters.readbackBytes += bytes;
    return out;
  }

  function checkCall(params: Parameters, blocks: readonly ExampleBlock[], key: ChainKey, k: number): ChainStreamIds {
    if (params.values.length !== sizes.length || params.values.some((v, t) => v.length !== sizes[t])) {
      throw new RangeError(`parameters do not match the model (${sizes.length} tensors of sizes [${sizes.join(', ')}])`);
    }
    blocks.forEach((b, i) => {
      if (b.x.length !== b.count * config.nx || b.y.length !== b.count * config.ny || b.index.length !== b.count) {
        throw new RangeError(`block ${i}: x, y and index must hold count × (nx, ny, 1) values`);
      }
    });
    const largest = blocks.reduce((a, b) => Math.max(a, b.count), 0);
    if (largest > maxExamples) {
      throw new GpuLimitError(`a block of ${largest} examples exceeds the ${maxExamples} that fit one device pass (the adapter's maxStorageBufferBindingSize, ${bindLimit} bytes); use a smaller --block-size`);
    }
    if (Math.max(1, blocks.length) * total * 4 > bindLimit) {
      throw new GpuLimitError(`${blocks.length} block gradients (${blocks.length * total * 4} bytes) exceed the adapter's maxStorageBufferBindingSize (${bindLimit} bytes)`);
    }
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`Gibbs steps k must be a positive integer, got ${k}`);
    return { hidden: key.hiddenStream ?? Stream.hidden, visible: key.visibleStream ?? Stream.visible };
  }

  function concat(blocks: readonly ExampleBlock[]) {
    const examples = blocks.reduce((a, b) => a + b.count, 0);
    const x = new Float32Array(examples * config.nx);
    const y = new Float32Array(examples * config.ny);
    const index = new Uint32Array(examples);
    const starts = new Uint32Array(blocks.length + 1);
    let at = 0;
    blocks.forEach((b, i) => {
      starts[i] = at;
      x.set(b.x, at * config.nx);
      y.set(b.y, at * config.ny);
      index.set(b.index, at);
      at += b.count;
    });
    starts[blocks.length] = at;
    return { x, y, index, starts };
  }

  /** Per-block statistics from the per-example ones (float64 sums in example order). */
  function blockStats(raw: Float32Array, starts: Uint32Array): BlockStats[] {
    const out: BlockStats[] = [];
    for (let b = 0; b + 1 < starts.length; b++) {
      const s = new Float64Array(11);
      let finite = true;
      for (let e = starts[b]; e < starts[b + 1]; e++) {
        for (let q = 0; q < 11; q++) s[q] += raw[e * STATS_PER_EXAMPLE + q];
        finite &&= Number.isFinite(raw[e * STATS_PER_EXAMPLE]) && Number.isFinite(raw[e * STATS_PER_EXAMPLE + 1]);
      }
      out.push({
        freeEnergyData: s[0], freeEnergyModel: s[1], squaredErrorBias: s[2], sumY: s[3], sumY2: s[4], sumY3: s[5], sumY4: s[6],
        sumV: s[7], sumVY: s[8], sumVY2: s[9], sumV2: s[10], finite,
      });
    }
    return out;
  }

  /**
   * A training step's device passes: one where its examples fit the storage-binding limit, else one per group of
   * whole blocks that fits (more dispatches, the same bits: a block's sums depend on it alone). Reads back the
   * statistics, the bounds and (optionally) every block's gradients.
   */
  async function trainPass(params: Parameters, blocks: readonly ExampleBlock[], key: ChainKey, k: number, readGrads: boolean) {
    const streams = checkCall(params, blocks, key, k);
    const groups = passGroups(blocks, maxExamples);
    const stats: BlockStats[] = [];
    let base = 0;
    let pass: Pass | undefined;
    let max: ArrayBuffer | undefined;
    let g: ArrayBuffer | undefined;
    for (const [i, group] of groups.entries()) {
      const last = i === groups.length - 1;
      const { x, y, index, starts } = concat(group);
      pass = preparePass(params, x, y, index, starts, key.seed, key.step, k, streams, Mode.train, { base, all: blocks.length, uploadParams: i === 0 });
      const encoder = device.createCommandEncoder();
      const steps = stepDispatches(pass, true);
      if (last) steps.push(['max_abs', [sizes.length]]);
      encode(encoder, pass, steps);
      const o = pass.workOffsets;
      const copies: Array<readonly [GPUBuffer, number, number]> = [[pass.work, o.wStats * 4, pass.examples * STATS_PER_EXAMPLE * 4]];
      if (last) copies.push([pass.work, o.wMax * 4, sizes.length * 4]);
      if (last && readGrads) copies.push([pass.grads, 0, blocks.length * total * 4]);
      const [raw, ...rest] = await read(encoder, copies);
      stats.push(...blockStats(new Float32Array(raw), starts));
      if (last) [max, g] = rest;
      base += group.length;
    }
    return { pass: pass!, stats, maxAbs: Float64Array.from(new Float32Array(max!)), grads: g ? new Float32Array(g) : null };
  }

  const engine: WebgpuEngine = {
    name: `webgpu${gpu.adapter.software ? '-software' : ''}`,
    adapter: gpu.adapter,
    counters,
    blockGradients(params, blocks, key, gibbsSteps): Promise<BlockGradient[]> {
      return serial(async () => {
        if (blocks.length === 0) return [];
        const r = await trainPass(params, blocks, key, gibbsSteps, true);
        return r.stats.map((stats, b) => ({
          stats,
          grads: sizes.map((n, t) => r.grads!.slice(b * total + offsets[t], b * total + offsets[t] + n)),
        }));
      });
    },
    shardGradients(params, blocks, key, gibbsSteps) {
      return serial(async () => {
        if (blocks.length === 0) return emptyShard(sizes, total);
        const r = await trainPass(params, blocks, key, gibbsSteps, false);
        const { pass } = r;
        return {
          stats: r.stats,
          bounds: async () => r.maxAbs,
          fixedSum: (exponents: Int32Array) =>
            serial(async () => {
              if (exponents.length !== sizes.length) throw new RangeError(`fixedSum: ${exponents.length} exponents for ${sizes.length} tensors`);
              upload(pass.indices, (pass.examples + pass.blocks + 1) * 4, exponents);
              const encoder = device.createCommandEncoder();
              encode(encoder, pass, [['fixed_sum', elementwise(total)]]);
              const [bits] = await read(encoder, [[pass.fixed, 0, total * 8]]);
              return fromInt64Pairs(new Uint32Array(bits));
            }),
          floatSum: () =>
            serial(async () => {
              const encoder = device.createCommandEncoder();
              encode(encoder, pass, [['float_sum', elementwise(total)]]);
              const [sum] = await read(encoder, [[pass.grads, 0, total * 4]]);
              return new Float32Array(sum);
            }),
        };
      });
    },
    sample(params, x, index, key, k, denoise, streams = { hidden: Stream.sampleHidden, visible: Stream.sampleVisible }) {
      return serial(async () => {
        const m = index.length;
        if (x.length !== m * config.nx) throw new RangeError(`x must hold index.length × nx = ${m * config.nx} values, got ${x.length}`);
        checkCall(params, [], { seed: key.seed, step: key.step }, k);
        const out = new Float32Array(m * config.ny);
        for (let first = 0; first < m; first += maxExamples) {
          const n = Math.min(maxExamples, m - first);
          const pass = preparePass(params, x.subarray(first * config.nx, (first + n) * config.nx), null, index.subarray(first, first + n), Uint32Array.of(0, n), key.seed, key.step, k, streams, denoise ? Mode.sampleDenoised : Mode.sample);
          const encoder = device.createCommandEncoder();
          encode(encoder, pass, stepDispatches(pass, false));
          const [y] = await read(encoder, [[pass.work, pass.workOffsets.wY * 4, n * config.ny * 4]]);
          out.set(new Float32Array(y), first * config.ny);
        }
        return out;
      });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const b of buffers.values()) b.destroy();
      counters.buffersLive -= buffers.size;
      buffers.clear();
    },
  };
  return engine;
}

/** Consecutive groups of whole blocks, each of at most `maxExamples` examples (every block fits alone). */
function passGroups(blocks: readonly ExampleBlock[], maxExamples: number): ExampleBlock[][] {
  const groups: ExampleBlock[][] = [];
  let current: ExampleBlock[] = [];
  let examples = 0;
  for (const b of blocks) {
    if (current.length > 0 && examples + b.count > maxExamples) {
      groups.push(current);
      current = [];
      examples = 0;
    }
    current.push(b);
    examples += b.count;
  }
  groups.push(current);
  return groups;
}

/** Signed 64-bit integers given as (lo, hi) u32 pairs, as float64 (exact below 2^53). */
export function fromInt64Pairs(bits: Uint32Array): Float64Array {
  const out = new Float64Array(bits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = (bits[2 * i + 1] | 0) * 4294967296 + bits[2 * i];
  return out;
}

function emptyShard(sizes: readonly number[], total: number): ShardGradients {
  return {
    stats: [],
    bounds: async () => new Float64Array(sizes.length),
    fixedSum: async () => new Float64Array(total),
    floatSum: async () => new Float32Array(total),
  };
}
