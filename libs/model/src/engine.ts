import type { ModelConfig } from './config.ts';
import type { Parameters } from './parameters.ts';

/**
 * A block of training examples: the unit whose gradient is computed in one piece.
 * Blocks are cut from the global minibatch by global example index, so the same block is computed the same way
 * on any worker (docs/architecture.md, invariant 1: keyed randomness).
 */
export interface ExampleBlock {
  /** m examples */
  readonly count: number;
  /** contexts x: (m, nx) row-major */
  readonly x: Float32Array;
  /** data y, already transformed (Gaussian or ±1): (m, ny) row-major */
  readonly y: Float32Array;
  /** global example index of each row, (m,): keys the example's Gibbs-chain draws */
  readonly index: Uint32Array;
}

/**
 * Keys the Gibbs chain's draws: streams (default `hidden`/`visible`) with counter (step, example index, Gibbs
 * step, ·). Validation passes use the `evalHidden`/`evalVisible` streams with the epoch as `step`.
 */
export interface ChainKey {
  readonly seed: number;
  /** the global optimiser step (or the epoch, for validation) */
  readonly step: number;
  readonly hiddenStream?: number;
  readonly visibleStream?: number;
}

/**
 * Per-block sums (float64) from which the trainer forms the batch metrics once every block is in.
 * CD loss = (freeEnergyData − freeEnergyModel) / B; MSE_bias = squaredErrorBias / (B·ny).
 * MSE_var needs the batch mean of y (the official code's `y.mean()` is over the whole batch tensor), so the
 * block reports the power sums it needs: with c the batch mean and v = 1/P,
 * Σ((y−c)² − v)² = Σy⁴ − 4cΣy³ + 6c²Σy² − 4c³Σy + n·c⁴ − 2(Σvy² − 2cΣvy + c²Σv) + Σv².
 */
export interface BlockStats {
  freeEnergyData: number;
  freeEnergyModel: number;
  squaredErrorBias: number;
  sumY: number;
  sumY2: number;
  sumY3: number;
  sumY4: number;
  sumV: number;
  sumVY: number;
  sumVY2: number;
  sumV2: number;
  /** false if any loss term or gradient was NaN or ±Inf */
  finite: boolean;
}

/** The result of one block: the gradient of Σ_b [F(y_b|x_b) − F(ỹ_b|x_b)] (a sum, not a mean) per parameter. */
export interface BlockGradient {
  /** one array per parameter, in `parameterSpecs` order and layout */
  readonly grads: Float32Array[];
  readonly stats: BlockStats;
  /**
   * The largest |g| of each array of `grads` (NaN or ±Inf: Infinity), where the engine found it while writing
   * them: (tensors,). The exact reduction then needs no pass over the gradients to choose its exponents.
   */
  readonly maxAbs?: Float64Array;
}

/**
 * A shard's block gradients left where the engine computed them and reduced there on request: on a GPU engine
 * one readback of the statistics and bounds, one of the sum, instead of every block's gradients. Valid until
 * the engine's next call. Flat vectors are in parameter order (tensor t after the sizes of the tensors before it).
 */
export interface ShardGradients {
  /** each block's statistics, in block order */
  readonly stats: readonly BlockStats[];
  /**
   * Per tensor, the largest |g| over the blocks or an upper bound on it that the engine finds without the
   * gradients (to float rounding, which the fixed point's factor-2 headroom absorbs); NaN or ±Inf anywhere gives
   * Infinity: (tensors,). The exponents of `fixedSum` are chosen from its MAX over the workers, so it must
   * depend on each block alone.
   */
  bounds(): Promise<Float64Array>;
  /** Σ over blocks of round(g · 2^e[t]) (halves toward +∞), exact, as float64 integers: (total,) */
  fixedSum(exponents: Int32Array): Promise<Float64Array>;
  /** float32 sum of the blocks in block order: (total,) */
  floatSum(): Promise<Float32Array>;
}

/**
 * The NBM math the trainer needs, behind one interface with three implementations: tfjs (any backend, the
 * reference), the native CPU kernel and the WebGPU kernels. All draw the chain's random numbers from the same
 * keyed Philox streams, so they agree on the same inputs to rounding; each is its own bit-domain.
 */
export interface GradientEngine {
  readonly name: string;
  /**
   * The CD-k gradient sum of each block at the given parameters (one result per block, in order). A block's
   * result depends only on the parameters, that block's examples and the key: never on the other blocks, the
   * thread count or the engine's history, so any worker computes any block bit for bit the same.
   */
  blockGradients(params: Parameters, blocks: readonly ExampleBlock[], key: ChainKey, gibbsSteps: number): BlockGradient[] | Promise<BlockGradient[]>;
  /**
   * The same blocks' gradients kept on the engine's device and summed there (engines with a device memory);
   * without it the trainer reduces `blockGradients`' arrays on the host.
   */
  shardGradients?(params: Parameters, blocks: readonly ExampleBlock[], key: ChainKey, gibbsSteps: number): Promise<ShardGradients>;
  /** Frees whatever the engine holds (tensors, native buffers). */
  dispose(): void;
}

/** An engine that computes on the host: its results are ready when the call returns (tfjs, the native kernel). */
export interface HostGradientEngine extends GradientEngine {
  blockGradients(params: Parameters, blocks: readonly ExampleBlock[], key: ChainKey, gibbsSteps: number): BlockGradient[];
}

export type { ModelConfig };
