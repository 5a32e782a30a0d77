import { availableParallelism } from 'node:os';
import { parameterSpecs, sizeOf, validateModelConfig, type HostGradientEngine, type ModelConfig, type ShardGradients } from '@nbm/model';
import { MAX_THREADS, type NativeKernel } from './kernel.ts';
import { requireNativeKernel } from './load.ts';
import { checkInt } from './validate.ts';

export interface NativeEngineOptions {
  /** threads per call, the calling thread included; default: the cores available to this process */
  readonly threads?: number;
  /**
   * Write each call's gradients (and each shard's sums) into the arrays of the call before (same block count
   * and sizes) instead of new ones: no allocation and no page faults on the hot path. The results of a call are
   * then valid only until the next call (a trainer that reduces them before the next step is fine). Default false.
   */
  readonly reuseOutputs?: boolean;
  /** the kernel to use; default: `loadNativeKernel()`'s (throws if it is unavailable) */
  readonly kernel?: NativeKernel;
}

/** The cores this process may use. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(MAX_THREADS, availableParallelism()));
}

/**
 * The native CPU implementation of `GradientEngine`: each block's CD-k gradient (networks, fused Gibbs chain,
 * free energies, gradients, backprop) computed by the addon on `threads` threads. A block's result depends
 * only on the parameters, the block and the key, bit for bit, whatever the thread count.
 */
export function createNativeEngine(config: ModelConfig, options: NativeEngineOptions = {}): HostGradientEngine {
  validateModelConfig(config);
  const kernel = options.kernel ?? requireNativeKernel();
  const threads = options.threads ?? defaultThreads();
  checkInt('threads', threads, 1, MAX_THREADS);
  const sizes = parameterSpecs(config).map((s) => sizeOf(s.shape));
  const total = sizes.reduce((a, n) => a + n, 0);
  let pool: Float32Array[][] = [];
  let fixedOut: Float64Array | undefined;
  let floatOut: Float32Array | undefined;
  return {
    name: `native-${kernel.tier}`,
    blockGradients(params, blocks, key, gibbsSteps) {
      if (!options.reuseOutputs) return kernel.blockGradients(config, params, blocks, key, gibbsSteps, { threads });
      while (pool.length < blocks.length) pool.push(sizes.map((n) => new Float32Array(n)));
      return kernel.blockGradients(config, params, blocks, key, gibbsSteps, { threads, out: pool.slice(0, blocks.length) });
    },
    // the trainer's path: each row is summed over the blocks as it is computed (NativeKernel.shard), with
    // exponents chosen from bounds the shard gives before its sum
    async shardGradients(params, blocks, key, gibbsSteps): Promise<ShardGradients> {
      const shard = kernel.shard(config, params, blocks, key, gibbsSteps, { threads });
      const reuse = options.reuseOutputs ?? false;
      return {
        stats: shard.stats,
        bounds: async () => shard.bounds,
        fixedSum: async (exponents) => shard.fixedSum(exponents, { out: reuse ? (fixedOut ??= new Float64Array(total)) : undefined }),
        floatSum: async () => shard.floatSum({ out: reuse ? (floatOut ??= new Float32Array(total)) : undefined }),
      };
    },
    dispose() {
      // the addon's buffers and threads belong to the process; only the reused outputs are the engine's
      pool = [];
      fixedOut = floatOut = undefined;
    },
  };
}
