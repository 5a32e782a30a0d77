import { registerEngine, type EngineEntry } from '@nbm/model';
import { loadNativeKernel } from './load.ts';

/** The native CPU kernel in the engine registry: above the tfjs path wherever the addon loads. */
export const NATIVE_ENGINE: EngineEntry = {
  name: 'native',
  title: 'the native CPU kernel',
  tasks: ['train', 'sample'],
  priority: 10,
  async probe() {
    const s = loadNativeKernel();
    return s.ok ? { available: true, detail: `native CPU kernel, ${s.kernel.tier}` } : { available: false, reason: s.reason };
  },
};
registerEngine(NATIVE_ENGINE);
