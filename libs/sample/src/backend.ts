import { selectBackend, type BackendRequest } from '@nbm/backend';
import { defaultThreads, requireNativeKernel } from '@nbm/kernels';
import { EngineUnavailableError, resolveEngine, type ModelConfig, type Parameters } from '@nbm/model';
import { GpuLimitError, GpuUnavailableError, createWebgpuEngine, openGpu, type WebgpuEngine } from '@nbm/webgpu';
import { SampleError } from './errors.ts';

/** What `--backend` may ask for when sampling: a tfjs backend, the native CPU kernel or the WebGPU engine. */
export type SampleBackendRequest = BackendRequest | 'native' | 'webgpu';

/**
 * Runs k-step chains from μ(x) outside tfjs: x (m, nx), index (m,) the global sample index keying each chain's
 * draws; returns (m, ny).
 */
export type ChainRunner = (
  params: Parameters,
  x: Float32Array,
  index: Uint32Array,
  key: { readonly seed: number; readonly step: number },
  gibbsSteps: number,
  denoise: boolean,
  streams: { readonly hidden: number; readonly visible: number },
) => Float32Array | Promise<Float32Array>;

/** The backend samples are drawn on, and why. */
export interface SampleBackend {
  readonly name: string;
  readonly reason: string;
  /** what besides the name decides the bits: the WebGPU adapter kind (vendor/architecture/device) */
  readonly device?: string;
  /** set when the chains run outside tfjs (native kernel, WebGPU): the runner for a model, built once per model */
  readonly chains?: (model: ModelConfig) => Promise<ChainRunner>;
  /** releases what the backend holds (a GPU device) */
  close?(): void;
}

/**
 * Activates what samples are drawn on. The engine is the registry's choice (`resolveEngine`): `native` asks for
 * the CPU kernel, `webgpu` for the WebGPU engine on adapter `options.device` (default 0), a tfjs backend name for
 * the tfjs engine on it, `auto` for the registry's `auto`. On the tfjs
 * engine, `auto` takes tensorflow (tfjs-node-gpu / tfjs-node) where it loads, else wasm, without the timing probe
 * `selectBackend('auto')` runs: the backend decides the bits of the samples, so the same request on the same
 * installation must always land on the same one.
 * @throws SampleError when the requested engine or backend is not available here
 */
export async function activateSampleBackend(request: SampleBackendRequest, options: { readonly device?: number } = {}): Promise<SampleBackend> {
  if (request === 'native' || request === 'webgpu' || request === 'auto') {
    const decision = await resolveEngine(request, 'sample', '--backend').catch((e: unknown) => {
      throw e instanceof EngineUnavailableError ? new SampleError(e.message) : e;
    });
    if (decision.name === 'native') {
      const kernel = requireNativeKernel();
      const threads = defaultThreads();
      // the pictures' forward pass (μ, P, W per class) still runs on tfjs: give it a backend
      await selectBackend('wasm');
      const run = (model: ModelConfig): ChainRunner => (params, x, index, key, k, denoise, streams) => kernel.sample(model, params, x, index, key, k, denoise, streams, { threads });
      return { name: 'native', reason: `${decision.reason}, ${threads} threads`, chains: async (model) => run(model) };
    }
    if (decision.name === 'webgpu') {
      await selectBackend('wasm');
      return webgpuBackend(decision.reason, options.device ?? 0);
    }
  }
  // an explicit `native` or `webgpu` ends above: the registry either chose it or said why not
  if (request !== 'auto' && request !== 'native' && request !== 'webgpu') {
    const c = await selectBackend(request);
    return { name: c.name, reason: c.reason };
  }
  try {
    const c = await selectBackend('tensorflow');
    return { name: c.name, reason: `auto: ${c.reason}` };
  } catch (e) {
    const c = await selectBackend('wasm');
    const why = (e as Error).message.replace(/^--backend tensorflow: /, '').split('. ')[0];
    return { name: c.name, reason: `auto: wasm, since neither the native kernel nor tensorflow is available (${why}); chosen without a timing probe, so the same request always gives the same bits` };
  }
}

/** The WebGPU engine on adapter `device` (`nbm worker --device N`; 0 where the launcher shows each process one GPU). */
async function webgpuBackend(reason: string, device: number): Promise<SampleBackend> {
  const gpu = await openGpu({ device, allowSoftware: true }).catch((e: unknown) => {
    throw e instanceof GpuUnavailableError ? new SampleError(`--backend webgpu: ${e.message}`) : e;
  });
  const engines = new Map<string, Promise<WebgpuEngine>>();
  const a = gpu.adapter;
  return {
    name: 'webgpu',
    reason: `${reason}; ${a.description}`,
    device: `${a.vendor}/${a.architecture}/${a.deviceName}`,
    chains: async (model) => {
      const key = JSON.stringify(model);
      if (!engines.has(key)) {
        engines.set(key, createWebgpuEngine(model, gpu).catch((e: unknown) => {
          throw e instanceof GpuLimitError ? new SampleError(`--backend webgpu: ${e.message}`) : e;
        }));
      }
      const engine = await engines.get(key)!;
      return (params, x, index, key2, k, denoise, streams) => engine.sample(params, x, index, key2, k, denoise, streams);
    },
    close() {
      for (const e of engines.values()) void e.then((engine) => engine.dispose(), () => undefined);
      engines.clear();
      gpu.close();
    },
  };
}
