import type * as Webgpu from 'webgpu'; // WebGPU types

/** The WebGPU buffer-usage and map-mode bits (fixed by the specification), so callers need no Dawn globals. */
export const Usage = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;
const MAP_MODE_READ = 0x0001;

/** Storage usage for a buffer that kernels read or write and that is copied to and from. */
export const STORAGE_USAGE = Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST;

const align4 = (n: number) => Math.max(4, Math.ceil(n / 4) * 4);

/** A new buffer holding `data` (its size rounded up to 4 bytes, the tail zero). Default usage {@link STORAGE_USAGE}. */
export function bufferFrom(device: GPUDevice, data: ArrayBufferView, usage: number = STORAGE_USAGE, label?: string): GPUBuffer {
  const buffer = device.createBuffer({ size: align4(data.byteLength), usage, mappedAtCreation: true, label });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buffer.unmap();
  return buffer;
}

/** A new zero-filled buffer of `byteLength` bytes (rounded up to 4). Default usage {@link STORAGE_USAGE}. */
export function emptyBuffer(device: GPUDevice, byteLength: number, usage: number = STORAGE_USAGE, label?: string): GPUBuffer {
  return device.createBuffer({ size: align4(byteLength), usage, label });
}

const pipelines = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

/**
 * The compute pipeline for (code, entryPoint) with layout 'auto', compiled once per device and cached. A WGSL or
 * pipeline error rejects with the compiler's messages.
 */
export function computePipeline(device: GPUDevice, code: string, entryPoint: string): Promise<GPUComputePipeline> {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  const key = `${entryPoint}\0${code}`;
  let p = cache.get(key);
  if (!p) {
    p = compile(device, code, entryPoint);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

async function compile(device: GPUDevice, code: string, entryPoint: string): Promise<GPUComputePipeline> {
  // inside an error scope, so that Dawn reports a bad shader to us rather than printing it as uncaptured
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code, label: entryPoint });
  let pipeline: GPUComputePipeline | null = null;
  let failure = '';
  try {
    pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint }, label: entryPoint });
  } catch (e) {
    failure = (e as Error).message;
  }
  const scoped = await device.popErrorScope();
  if (pipeline && !scoped) return pipeline;
  const info = await module.getCompilationInfo();
  const messages = info.messages
    .filter((m) => m.type === 'error')
    .map((m) => `${m.lineNum}:${m.linePos} ${m.message}`)
    .join('; ');
  const why = [failure, scoped?.message].filter(Boolean).map((m) => (m as string).split('\n')[0]).join('; ');
  throw new Error(`compute pipeline '${entryPoint}' failed: ${why}${messages ? ` (${messages})` : ''}`);
}

/** One dispatch: the pipeline, the buffers of bind group 0 (binding i = buffers[i]) and the workgroup grid. */
export interface ComputePass {
  readonly pipeline: GPUComputePipeline;
  readonly buffers: readonly GPUBuffer[];
  /** workgroups in x, y, z (y, z default 1); see {@link grid1d} for a 1-D count */
  readonly workgroups: readonly [number, number?, number?];
}

/**
 * Spreads a 1-D count of workgroups over x and y within the device's maxComputeWorkgroupsPerDimension (x · y ≥
 * count; the surplus invocations must check their index). Throws a RangeError past what two dimensions hold.
 */
export function grid1d(device: GPUDevice, count: number): [number, number] {
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (count <= max) return [Math.max(1, count), 1];
  const y = Math.ceil(count / max);
  if (y > max) throw new RangeError(`${count} workgroups exceed ${max}² (maxComputeWorkgroupsPerDimension)`);
  return [Math.ceil(count / y), y];
}

/** Records `passes` into one compute pass of `encoder` (one bind group per dispatch). */
export function encodeCompute(device: GPUDevice, encoder: GPUCommandEncoder, passes: readonly ComputePass[]): void {
  const pass = encoder.beginComputePass();
  for (const p of passes) {
    const bindGroup = device.createBindGroup({
      layout: p.pipeline.getBindGroupLayout(0),
      entries: p.buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(p.workgroups[0], p.workgroups[1] ?? 1, p.workgroups[2] ?? 1);
  }
  pass.end();
}

async function checked<T>(device: GPUDevice, body: () => Promise<T>): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = await body();
  } finally {
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    const error = validation ?? oom;
    if (error) throw new Error(`WebGPU ${validation ? 'validation' : 'out-of-memory'} error: ${error.message}`);
  }
  return result;
}

/** Runs `passes` and waits until the GPU finished them. WebGPU validation and out-of-memory errors reject. */
export async function runCompute(device: GPUDevice, passes: readonly ComputePass[]): Promise<void> {
  await checked(device, async () => {
    const encoder = device.createCommandEncoder();
    encodeCompute(device, encoder, passes);
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  });
}

/**
 * Runs `passes` (none: just reads), then copies bytes [byteOffset, byteOffset + byteLength) of `source` (a buffer
 * with COPY_SRC usage; default: all of it) to a staging buffer in the same submission and returns them. The staging
 * buffer is destroyed before returning, whatever happens. byteOffset and byteLength must be multiples of 4.
 */
export async function runAndRead(
  device: GPUDevice,
  passes: readonly ComputePass[],
  source: GPUBuffer,
  byteOffset = 0,
  byteLength: number = source.size - byteOffset,
): Promise<ArrayBuffer> {
  if (byteOffset % 4 || byteLength % 4) throw new RangeError(`read range must be 4-byte aligned, got offset ${byteOffset}, length ${byteLength}`);
  if (byteOffset + byteLength > source.size) throw new RangeError(`read range ${byteOffset}+${byteLength} is past the buffer (${source.size} bytes)`);
  const staging = device.createBuffer({ size: Math.max(4, byteLength), usage: Usage.MAP_READ | Usage.COPY_DST, label: 'readback' });
  try {
    return await checked(device, async () => {
      const encoder = device.createCommandEncoder();
      if (passes.length) encodeCompute(device, encoder, passes);
      if (byteLength) encoder.copyBufferToBuffer(source, byteOffset, staging, 0, byteLength);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(MAP_MODE_READ, 0, Math.max(4, byteLength));
      const bytes = staging.getMappedRange(0, Math.max(4, byteLength)).slice(0, byteLength);
      staging.unmap();
      return bytes;
    });
  } finally {
    staging.destroy();
  }
}

/** Reads bytes of `buffer` (COPY_SRC usage) back to the host; see {@link runAndRead}. */
export function readBuffer(device: GPUDevice, buffer: GPUBuffer, byteOffset = 0, byteLength: number = buffer.size - byteOffset): Promise<ArrayBuffer> {
  return runAndRead(device, [], buffer, byteOffset, byteLength);
}

/** Destroys the given buffers (null/undefined skipped). */
export function destroyAll(...buffers: ReadonlyArray<GPUBuffer | null | undefined>): void {
  for (const b of buffers) b?.destroy();
}
