import { createNativeEngine, defaultThreads, loadNativeKernel, requireNativeKernel } from '@nbm/kernels';
import { tf } from '@nbm/backend';
import { EngineUnavailableError, createAsyncTfjsEngine, createTfjsEngine, resolveEngine, type GradientEngine, type ModelConfig } from '@nbm/model';
import { GpuLimitError, GpuUnavailableError, createWebgpuEngine, openGpu } from '@nbm/webgpu';
import { ConfigError, type KernelRequest } from './config.ts';
import { jsOps, nativeOps, type StepOps } from './ops.ts';

/** The engines a training run can compute with (the registry's names). */
export type EngineKind = 'native' | 'tfjs' | 'webgpu';

export interface EngineChoice {
  readonly engine: GradientEngine;
  /** the registry's name of the engine */
  readonly kind: EngineKind;
  readonly reason: string;
  /**
   * What decides the bits of a block's gradient beyond the engine: the WebGPU adapter (vendor, architecture,
   * device); replicas must agree on it
   */
  readonly device?: string;
  /** the update's arithmetic: native where the kernel loaded (same bits, faster), else JavaScript */
  readonly ops: StepOps;
}

/** Native threads for `threads` (0: all cores). */
const threadsOf = (threads: number) => (threads > 0 ? threads : defaultThreads());

/** The host half of a step (reductions, AdamW): the native kernel's where it loads, else JavaScript's (same bits). */
function hostOps(threads: number): StepOps {
  const s = loadNativeKernel();
  return s.ok ? nativeOps(s.kernel, threadsOf(threads), { reuseOutputs: true }) : jsOps;
}

/**
 * Builds the training engine the registry's rule chooses for `request` (`--engine`, or its older name `--kernel`): an explicit engine, or `auto`
 * (the highest-priority engine available here; see `resolveEngine`). `device` is the WebGPU adapter's index.
 * @throws ConfigError when the requested engine is unknown or unavailable, naming why
 */
export async function chooseEngine(model: ModelConfig, request: KernelRequest, threads: number, device = 0): Promise<EngineChoice> {
  const decision = await resolveEngine(request, 'train', '--engine').catch((e: unknown) => {
    throw e instanceof EngineUnavailableError ? new ConfigError(e.message) : e;
  });
  if (decision.name === 'native') {
    const kernel = requireNativeKernel();
    const n = threadsOf(threads);
    return {
      // outputs are reused from step to step: each step's block gradients are consumed before the next
      engine: createNativeEngine(model, { threads: n, reuseOutputs: true, kernel }),
      kind: 'native',
      reason: `${decision.reason}, ${n} threads`,
      ops: nativeOps(kernel, n, { reuseOutputs: true }),
    };
  }
  if (decision.name === 'webgpu') return webgpuChoice(model, decision.reason, threads, device);
  // tfjs's webgpu backend reads back only asynchronously
  const engine = tf.getBackend() === 'webgpu' ? createAsyncTfjsEngine(model) : createTfjsEngine(model);
  return { engine, kind: 'tfjs', reason: decision.reason, ops: jsOps };
}

async function webgpuChoice(model: ModelConfig, reason: string, threads: number, device: number): Promise<EngineChoice> {
  const gpu = await openGpu({ device, allowSoftware: true }).catch((e: unknown) => {
    throw e instanceof GpuUnavailableError ? new ConfigError(`--engine webgpu: ${e.message}`) : e;
  });
  try {
    const engine = await createWebgpuEngine(model, gpu);
    const a = gpu.adapter;
    return {
      engine: {
        name: engine.name,
        blockGradients: engine.blockGradients,
        shardGradients: engine.shardGradients,
        dispose() {
          engine.dispose();
          gpu.close();
        },
      },
      kind: 'webgpu',
      reason: `${reason}; device ${device}: ${a.description}`,
      device: `${a.vendor}/${a.architecture}/${a.deviceName}`,
      ops: hostOps(threads),
    };
  } catch (e) {
    gpu.close();
    throw e instanceof GpuLimitError ? new ConfigError(`--engine webgpu: ${e.message}`) : e;
  }
}
