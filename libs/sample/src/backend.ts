import { selectBackend, type BackendRequest } from '@nbm/backend';
import { defaultThreads, loadNativeKernel, type NativeKernel } from '@nbm/kernels';

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
 * Activates what samples are drawn on. `native` is the CPU kernel (an error where it did not build). `auto` takes
 * the native kernel where it loaded, else tensorflow (tfjs-node-gpu / tfjs-node), else wasm — without the timing
 * probe `selectBackend('auto')` runs: the backend decides the bits of the samples, so the same request on the same
 * installation must always land on the same one.
 */
export async function activateSampleBackend(request: SampleBackendRequest): Promise<SampleBackend> {
  if (request === 'native' || request === 'auto') {
    const status = loadNativeKernel();
    if (status.ok) {
      const threads = defaultThreads();
      // the pictures' forward pass (μ, P, W per class) still runs on tfjs: give it a backend
      await selectBackend('wasm');
      return { name: 'native', reason: `${request === 'auto' ? 'auto: ' : ''}native CPU kernel (${status.kernel.tier}, ${threads} threads)`, kernel: status.kernel, threads };
    }
    if (request === 'native') throw new Error(`--backend native: the native CPU kernel is not available: ${status.reason}`);
  }
  if (request !== 'auto') {
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
