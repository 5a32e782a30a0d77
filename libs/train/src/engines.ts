import { createNativeEngine, defaultThreads, requireNativeKernel } from '@nbm/kernels';
import { EngineUnavailableError, createTfjsEngine, resolveEngine, type GradientEngine, type ModelConfig } from '@nbm/model';
import { ConfigError, type KernelRequest } from './config.ts';
import { jsOps, nativeOps, type StepOps } from './ops.ts';

export interface EngineChoice {
  readonly engine: GradientEngine;
  /** the registry's name of the engine: 'native' or 'tfjs' */
  readonly kind: 'native' | 'tfjs';
  readonly reason: string;
  /** the update's arithmetic: native where the kernel loaded (same bits, faster), else JavaScript */
  readonly ops: StepOps;
}

/**
 * Builds the training engine the registry's rule chooses for `request` (`--kernel`): an explicit engine, or `auto`
 * (the highest-priority engine available here; see `resolveEngine`).
 * @throws ConfigError when the requested engine is unknown or unavailable, naming why
 */
export async function chooseEngine(model: ModelConfig, request: KernelRequest, threads: number): Promise<EngineChoice> {
  const decision = await resolveEngine(request, 'train', '--kernel').catch((e: unknown) => {
    throw e instanceof EngineUnavailableError ? new ConfigError(e.message) : e;
  });
  if (decision.name === 'native') {
    const kernel = requireNativeKernel();
    const n = threads > 0 ? threads : defaultThreads();
    return {
      // outputs are reused from step to step: each step's block gradients are consumed before the next
      engine: createNativeEngine(model, { threads: n, reuseOutputs: true, kernel }),
      kind: 'native',
      reason: `${decision.reason}, ${n} threads`,
      ops: nativeOps(kernel, n),
    };
  }
  return { engine: createTfjsEngine(model), kind: 'tfjs', reason: decision.reason, ops: jsOps };
}
