import { createNativeEngine, defaultThreads, loadNativeKernel, nativeFallbackMessage } from '@nbm/kernels';
import { createTfjsEngine, type GradientEngine, type ModelConfig } from '@nbm/model';
import { ConfigError, type KernelRequest } from './config.ts';
import { jsOps, nativeOps, type StepOps } from './ops.ts';

export interface EngineChoice {
  readonly engine: GradientEngine;
  /** 'native' or 'tfjs' */
  readonly kind: 'native' | 'tfjs';
  readonly reason: string;
  /** the update's arithmetic: native where the kernel loaded (same bits, faster), else JavaScript */
  readonly ops: StepOps;
}

/**
 * Picks the gradient engine: `native` (the CPU kernel, error if it did not build), `tfjs` (any tfjs backend),
 * or `auto` (native where it loaded and the tfjs backend is not a GPU one, else tfjs).
 */
export async function chooseEngine(model: ModelConfig, request: KernelRequest, tfjsBackend: string, threads: number): Promise<EngineChoice> {
  const tfjs = (reason: string): EngineChoice => ({ engine: createTfjsEngine(model), kind: 'tfjs', reason, ops: jsOps });
  if (request === 'tfjs') return tfjs('requested with --kernel tfjs');
  if (request === 'auto' && tfjsBackend === 'tensorflow') return tfjs('auto: libtensorflow backend loaded');
  const status = loadNativeKernel();
  if (status.ok) {
    const n = threads > 0 ? threads : defaultThreads();
    return {
      // outputs are reused from step to step: each step's block gradients are consumed before the next
      engine: createNativeEngine(model, { threads: n, reuseOutputs: true, kernel: status.kernel }),
      kind: 'native',
      reason: `${request === 'native' ? 'requested with --kernel native' : 'auto: native CPU kernel loaded'} (${status.kernel.tier}, ${n} threads)`,
      ops: nativeOps(status.kernel, n),
    };
  }
  if (request === 'native') throw new ConfigError(`--kernel native: the native CPU kernel is not available: ${status.reason}`);
  return tfjs(nativeFallbackMessage(status.reason));
}
