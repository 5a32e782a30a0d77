import { createTfjsEngine, type GradientEngine, type ModelConfig } from '@nbm/model';
import type { KernelRequest } from './config.ts';

export interface EngineChoice {
  readonly engine: GradientEngine;
  /** 'native' or 'tfjs' */
  readonly kind: 'native' | 'tfjs';
  readonly reason: string;
}

interface KernelsModule {
  loadNativeKernel(): { ok: true } | { ok: false; reason: string };
  createNativeEngine(config: ModelConfig, options?: { threads?: number }): GradientEngine;
}

/** Loads the native CPU kernel library if present; it is optional (a user's machine may not build it). */
async function loadKernels(): Promise<KernelsModule | string> {
  try {
    const name = '@nbm/kernels';
    return (await import(name)) as unknown as KernelsModule;
  } catch (e) {
    return `the kernels library did not load (${(e as Error).message.split('\n')[0]})`;
  }
}

/**
 * Picks the gradient engine: `native` (the CPU kernel, error if it did not build), `tfjs` (any tfjs backend),
 * or `auto` (native where it loaded and the tfjs backend is not a GPU one, else tfjs).
 */
export async function chooseEngine(model: ModelConfig, request: KernelRequest, tfjsBackend: string, threads: number): Promise<EngineChoice> {
  if (request === 'tfjs') return { engine: createTfjsEngine(model), kind: 'tfjs', reason: 'requested with --kernel tfjs' };
  if (request === 'auto' && tfjsBackend === 'tensorflow') {
    return { engine: createTfjsEngine(model), kind: 'tfjs', reason: 'auto: libtensorflow backend loaded' };
  }
  const kernels = await loadKernels();
  const status: { ok: boolean; reason?: string } = typeof kernels === 'string' ? { ok: false, reason: kernels } : kernels.loadNativeKernel();
  if (status.ok && typeof kernels !== 'string') {
    return {
      engine: kernels.createNativeEngine(model, threads > 0 ? { threads } : {}),
      kind: 'native',
      reason: request === 'native' ? 'requested with --kernel native' : 'auto: native CPU kernel loaded',
    };
  }
  if (request === 'native') throw new Error(`--kernel native: the native CPU kernel is not available: ${status.reason}`);
  return { engine: createTfjsEngine(model), kind: 'tfjs', reason: `native kernel unavailable (${status.reason}); training runs on the tfjs path` };
}
