import { selectBackend, type BackendRequest } from '@nbm/backend';

/** The backend samples are drawn on, and why. */
export interface SampleBackend {
  readonly name: string;
  readonly reason: string;
}

/**
 * Activates the tfjs backend for sampling. `auto` takes tensorflow (tfjs-node-gpu / tfjs-node) when it loads, else
 * wasm — without the timing probe `selectBackend('auto')` runs: the backend decides the bits of the samples, so the
 * same request on the same installation must always land on the same one.
 */
export async function activateSampleBackend(request: BackendRequest): Promise<SampleBackend> {
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
    return { name: c.name, reason: `auto: wasm, since tensorflow is not available (${why}); chosen without a timing probe, so the same request always gives the same bits` };
  }
}
