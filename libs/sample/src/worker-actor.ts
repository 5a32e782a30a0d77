/**
 * The sampling actor a worker process serves (next to training's, in the same `nbm worker`): the coordinator
 * loads the model into it once per job with `sampleLoad`, then calls `sampleChunk` for chunk after chunk.
 */
import { fromNamedTensors, namedTensors, parameterSpecs, type ModelConfig, type Parameters } from '@nbm/model';
import { parametersHash } from '@nbm/run';
import type { ActorMethod, CallContext, TypedArray } from '@nbm/runtime';
import { activateSampleBackend, type ChainRunner, type SampleBackend, type SampleBackendRequest } from './backend.ts';
import { sampleRange, type DrawSettings } from './compute.ts';

/** Arguments of `sampleLoad`; the parameters travel as tensors `p0` … `p{n−1}` in parameterSpecs order. */
export interface SampleLoad {
  /** names the job: chunk calls must carry it */
  readonly job: string;
  readonly model: ModelConfig;
  /** parametersHash of the parameters: checked on arrival */
  readonly hash: string;
  readonly settings: DrawSettings;
  /** the backend to sample on; the coordinator resolves `auto` once so that every worker uses the same */
  readonly backend: SampleBackendRequest;
}

/** What `sampleLoad` answers: the backend it activated (its name decides the bits: all workers must agree). */
export interface SampleLoaded {
  readonly backend: string;
  readonly reason: string;
  /** the WebGPU adapter kind, where the backend is `webgpu`: it decides the bits too */
  readonly device?: string;
}

/** Arguments of `sampleChunk`; the contexts travel as tensor `x`: (count, nx). It answers tensor `y`: (count, ny). */
export interface SampleChunkCall {
  readonly job: string;
  /** global index of the first row; starts a block */
  readonly first: number;
  readonly count: number;
}

/** Rebuilds the parameters from their wire form, checking every size and the hash. */
function receiveParameters(load: SampleLoad, tensors: Record<string, TypedArray>): Parameters {
  const specs = parameterSpecs(load.model);
  const params = { specs, values: fromNamedTensors(specs, tensors, 'p', 'sampleLoad: parameter') };
  const hash = parametersHash(params);
  if (hash !== load.hash) throw new Error(`sampleLoad: the parameters arrived with hash ${hash.slice(0, 12)}, expected ${load.hash.slice(0, 12)}`);
  return params;
}

/** The parameters as `sampleLoad` tensors. */
export function parameterTensorsOf(params: Parameters): Record<string, Float32Array> {
  return namedTensors(params.values);
}

class SamplingActor {
  constructor(private readonly device?: number) {}

  private loaded?: { load: SampleLoad; params: Parameters; backend: SampleBackend; chains?: ChainRunner };

  async load(load: SampleLoad, tensors: Record<string, TypedArray>): Promise<SampleLoaded> {
    const params = receiveParameters(load, tensors);
    this.unload();
    const backend = await activateSampleBackend(load.backend, { device: this.device });
    this.loaded = { load, params, backend, chains: await backend.chains?.(load.model) };
    return { backend: backend.name, reason: backend.reason, ...(backend.device ? { device: backend.device } : {}) };
  }

  async chunk(call: SampleChunkCall, tensors: Record<string, TypedArray>, signal: AbortSignal): Promise<Float32Array> {
    if (!this.loaded) throw new Error('sampleChunk before sampleLoad');
    const { load, params, chains } = this.loaded;
    if (call.job !== load.job) throw new Error(`sampleChunk for job ${call.job}, but job ${load.job} is loaded`);
    const x = tensors.x;
    if (!(x instanceof Float32Array) || x.length !== call.count * load.model.nx) {
      throw new Error(`sampleChunk: tensor x must be float32 (count, nx) = (${call.count}, ${load.model.nx})`);
    }
    return sampleRange(load.model, params, x, call.first, load.settings, signal, chains);
  }

  unload(): void {
    this.loaded?.backend.close?.();
    this.loaded = undefined;
  }
}

/**
 * The sampling actor's methods as the runtime serves them: `sampleLoad`, `sampleChunk`, `sampleUnload`.
 * Their names do not collide with the training actor's, so one worker can serve both tables:
 * `runWorker({ methods: { ...trainingWorker(o).methods, ...samplingWorker().methods }, … })`.
 */
export function samplingWorker(opts: { readonly device?: number } = {}): { methods: Record<string, ActorMethod>; close: () => void } {
  const actor = new SamplingActor(opts.device);
  const methods: Record<string, ActorMethod> = {
    sampleLoad: async ([load], tensors) => ({ value: await actor.load(load as SampleLoad, tensors) }),
    sampleChunk: async ([call], tensors, ctx: CallContext) => {
      const y = await actor.chunk(call as SampleChunkCall, tensors, ctx.signal);
      return { value: { first: (call as SampleChunkCall).first, count: (call as SampleChunkCall).count }, frames: { y } };
    },
    sampleUnload: () => {
      actor.unload();
      return { value: true };
    },
  };
  return { methods, close: () => actor.unload() };
}
