import { registerEngine, type EngineEntry } from '@nbm/model';
import { registerCombineAccelerator } from '@nbm/collective';
import { registerFillAccelerator } from '@nbm/random';
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

// @nbm/random's long fills (the data transform's noise, 784 values a row) through the kernel: the same bits
registerFillAccelerator(() => {
  const s = loadNativeKernel();
  if (!s.ok) return undefined;
  const kernel = s.kernel;
  return {
    uniform: (out, key, a, b, c) => kernel.fillUniform(out, key, a, b, c),
    normal: (out, key, a, b, c) => kernel.fillNormal(out, key, a, b, c),
  };
});

// the ring's sums of incoming chunks through the kernel (JavaScript's loops took 2–4 ms a hop for 300k values here)
registerCombineAccelerator(() => {
  const s = loadNativeKernel();
  return s.ok ? s.kernel : undefined;
});
