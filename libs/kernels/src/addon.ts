import type { BlockStats, ExampleBlock, ModelConfig } from '@nbm/model';

/**
 * The raw N-API addon (`build/Release/nbm_kernels.node`, source in `native/`). Everything is synchronous and
 * runs on the calling thread plus the addon's own pool of `threads − 1` threads. The addon checks lengths and
 * types again (it must never read out of bounds) but its messages are terse: call it through `NativeKernel`,
 * which validates first and names the problem.
 *
 * Shapes are row-major. `params` are the 10 arrays of `parameterSpecs(config)` in order.
 */
export interface NativeAddon {
  /** Instruction-set tiers this CPU can run, best first (e.g. `['avx512', 'avx2', 'generic']`). */
  info(): { tiers: string[] };
  /**
   * n draws of the keyed Philox stream at counter (a, b, c, ·), bit for bit as `@nbm/random`'s fillBits,
   * fillUniform, fillNormal.
   */
  draw(kind: 'bits', seed: number, stream: number, a: number, b: number, c: number, n: number, tier?: string): Uint32Array;
  draw(kind: 'uniform' | 'normal', seed: number, stream: number, a: number, b: number, c: number, n: number, tier?: string): Float32Array;
  /**
   * `draw` into `out`. For 'normal', the indices whose value lies near a float32 rounding boundary, where
   * `@nbm/random`'s may differ by an ulp (undefined: none; about 1 value in 2^15 is listed).
   */
  fill(kind: 'uniform', out: Float32Array, seed: number, stream: number, a: number, b: number, c: number, tier?: string): undefined;
  fill(kind: 'normal', out: Float32Array, seed: number, stream: number, a: number, b: number, c: number, tier?: string): Uint32Array | undefined;
  /** dst += src in place: @nbm/collective's ring sums, bit for bit. */
  combine(kind: 'sumF32', dst: Float32Array, src: Float32Array): undefined;
  combine(kind: 'sumF64', dst: Float64Array, src: Float64Array): undefined;
  /** @nbm/collective's fixed-point wire, bit for bit: 'pack' bytes ← fixed, 'unpack' fixed ← bytes, 'add' fixed += bytes. */
  packed(kind: 'pack' | 'unpack', fixed: Float64Array, bytes: Uint8Array, tier?: string): undefined;
  packed(kind: 'add', fixed: Float64Array, bytes: Uint8Array, tier?: string): boolean;
  /** k-step Gibbs chains from y = μ(x), one per row of x. */
  chain(args: AddonChainArgs): AddonChainResult;
  /** CD-k gradient sums and statistics, one result per block. */
  blockGradients(args: AddonBlockArgs): Array<{ grads: Float32Array[]; stats: BlockStats; maxAbs: Float64Array }>;
  /**
   * blockGradients' examples and first layers, keeping what the other rows need for `shardSum`: the token (valid
   * until the next shardBegin), each block's statistics, and per tensor a bound on |g| over the blocks.
   */
  shardBegin(args: AddonShardArgs): { token: number; stats: BlockStats[]; bounds: Float64Array };
  /** The shard's sum over its blocks, flat (total,): fixed point with exponents, else float32 in block order. */
  shardSum(token: number, exponents: Int32Array, threads: number, tier?: string, out?: Float64Array): Float64Array;
  shardSum(token: number, exponents: undefined, threads: number, tier?: string, out?: Float32Array): Float32Array;
  /**
   * One AdamW update of one tensor in place: p, m, v updated from g; k = [1−β1, 1−β2, β2, ε, lr/(1−β1^t),
   * √(1−β2^t), 1 − lr·decay] as float32.
   */
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, k: Float32Array, threads: number, tier?: string): void;
  /**
   * Block reductions (NativeKernel.blockMaxAbs, fixedSum, meanFromFixed, floatSum, meanFromFloat); `out`, where
   * taken, is written in place and returned.
   */
  reduce(kind: 'maxAbs', blocks: readonly { grads: Float32Array[] }[], threads: number, tier?: string): Float64Array;
  reduce(kind: 'fixedSum', blocks: readonly { grads: Float32Array[] }[], exponents: Int32Array, threads: number, tier?: string, out?: Float64Array): Float64Array;
  reduce(kind: 'floatSum', blocks: readonly { grads: Float32Array[] }[], threads: number, tier?: string, out?: Float32Array): Float32Array;
  reduce(kind: 'fromFixed', sum: Float64Array, exponents: Int32Array, sizes: Float64Array, scale: number, threads: number, tier?: string, out?: Float32Array): Float32Array;
  reduce(kind: 'fromFixed', sum: Float64Array, exponents: Int32Array, sizes: Float64Array, scale: number, threads: number, tier: string, out: Float32Array, marked: true): boolean;
  reduce(kind: 'fromFloat', sum: Float32Array, examples: number, threads: number, tier?: string, out?: Float32Array): Float32Array;
}

interface AddonCommon {
  readonly config: ModelConfig;
  readonly params: readonly Float32Array[];
  readonly seed: number;
  readonly step: number;
  /** Gibbs steps, ≥ 1 */
  readonly k: number;
  readonly hiddenStream: number;
  readonly visibleStream: number;
  readonly threads: number;
  /** instruction-set tier; the best available when omitted */
  readonly tier?: string;
  /** build W(x) from the dense formula even for one-hot x (tests: both routes give the same bits) */
  readonly forceDense?: boolean;
}

export interface AddonChainArgs extends AddonCommon {
  /** contexts: (m, nx) */
  readonly x: Float32Array;
  /** global sample index of each row, keying its draws: (m,) */
  readonly index: Uint32Array;
  readonly denoise?: boolean;
  /** also return every step's h and y */
  readonly trace?: boolean;
}

export interface AddonChainResult {
  /** final visible state (or its denoised value): (m, ny) */
  readonly y: Float32Array;
  /** with trace: hidden state after each step's h draw, ±1: (m, k, nh) */
  readonly hTrace?: Int8Array;
  /** with trace: visible state after each step: (m, k, ny) */
  readonly yTrace?: Float32Array;
}

export interface AddonBlockArgs extends AddonCommon {
  readonly blocks: readonly ExampleBlock[];
  /** Float64Array(8) to fill with timings in seconds (see BlockOptions.profile) */
  readonly profile?: Float64Array;
  /** arrays to write the results into (see BlockOptions.out) */
  readonly out?: readonly (readonly Float32Array[])[];
}

export interface AddonShardArgs extends AddonCommon {
  readonly blocks: readonly ExampleBlock[];
  /** Float64Array(8) to fill with timings in seconds (see ShardOptions.profile) */
  readonly profile?: Float64Array;
}
