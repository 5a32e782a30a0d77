import { selectBackend, type BackendRequest } from '@nbm/backend';
import { defaultThreads, requireNativeKernel, type NativeKernel } from '@nbm/kernels';
import { EngineUnavailableError, resolveEngine } from '@nbm/model';
import { SampleError } from './errors.ts';

/** What `--backend` may ask for when sampling: a tfjs backend, or the native CPU kernel. */
export type SampleBackendRequest = BackendRequest | 'native';

/** The backend samples are drawn on, and why. */
export interface SampleBackend {
  readonly name: string;
  readonly reason: string;
  /** set when the chains run in the native CPU kernel */
  readonly kernel?: NativeKernel;
  readonly threads?: number;
}

/**
 * Activates what samples are drawn on. The engine is the registry's choice (`resolveEngine`): `native` asks for
 * the CPU kernel, a tfjs backend name for the tfjs engine on it, `auto` for the registry's `auto`. On the tfjs
 * engine, `auto` takes tensorflow (tfjs-node-gpu / tfjs-node) where it loads, else wasm, without the timing probe
 * `selectBackend('auto')` runs: the backend decides the bits of the samples, so the same request on the same
 * installation must always land on the same one.
 * @throws SampleError when the requested engine or backend is not available here
 */
export async function activateSampleBackend(request: SampleBackendRequest): Promise<SampleBackend> {
  if (request === 'native' || request === 'auto') {
    const decision = await resolveEngine(request, 'sample', '--backend').catch((e: unknown) => {
      throw e instanceof EngineUnavailableError ? new SampleError(e.message) : e;
    });
    if (decision.name === 'native') {
      const kernel = requireNativeKernel();
      const threads = defaultThreads();
      // the pictures' forward pass (μ, P, W per class) still runs on tfjs: give it a backend
      await selectBackend('wasm');
      return { name: 'native', reason: `${decision.reason}, ${threads} threads`, kernel, threads };
    }
  }
  // an explicit `native` ends above: the registry either chose it or said why not
  if (request !== 'auto' && request !== 'native') {
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
