import type { AdamWConfig, AdamWState, BlockGradient, BlockStats, ChainKey, ExampleBlock, ModelConfig, Parameters } from '@nbm/model';
import { Stream, type ChainStreamIds, type RandomKey } from '@nbm/random';
import type { AddonShardArgs, NativeAddon } from './addon.ts';
import { adamwScalars, checkAdamwShapes } from './adamw.ts';
import { split } from './reduce.ts';
import { checkBlock, checkContexts, checkInt, checkParameters, checkU32 } from './validate.ts';


/** The training chain's streams (docs/architecture.md, invariant 1: keyed randomness). */
export const TRAINING_STREAMS: ChainStreamIds = { hidden: Stream.hidden, visible: Stream.visible };

export interface RunOptions {
  /** threads of this call (the calling thread included); default 1 here, the engine passes its own */
  readonly threads?: number;
  /** build W(x) from the dense formula even for one-hot contexts (tests: the fast path gives the same bits) */
  readonly forceDense?: boolean;
}

export interface BlockOptions extends RunOptions {
  /**
   * Arrays to write the results into, one array of 10 (parameterSpecs sizes) per block, instead of new ones:
   * every element is overwritten. Saves allocating and first-touching ≈ 2.4 MB per block and call at the
   * paper's size. They must not overlap each other, the parameters or the blocks' data.
   */
  readonly out?: readonly (readonly Float32Array[])[];
  /**
   * Filled with seconds: wall time of [W(x) panels, examples, gradient rows, first layers], then CPU time
   * summed over threads inside the examples [networks, positive phase, chain, energies and gradients].
   */
  readonly profile?: Float64Array;
}

export interface ShardOptions extends RunOptions {
  /** as BlockOptions.profile, with no time for the rows (they are summed by the shard's fixedSum or floatSum) */
  readonly profile?: Float64Array;
}

export interface OutputOptions<T> extends RunOptions {
  /**
   * The flat result array (every element is written) instead of a new one: saves allocating and first-touching
   * megabytes per step at the paper's size. It must not overlap the inputs.
   */
  readonly out?: T;
}

export interface ChainOptions extends RunOptions {
  /** return every step's hidden and visible states */
  readonly trace?: boolean;
  /** the streams of the draws; default: the key's, else the training streams */
  readonly streams?: ChainStreamIds;
  /** replace the last visible draw by its noise-free value (see `sample`) */
  readonly denoise?: boolean;
}

export interface ChainResult {
  /** the final visible state ỹ: (m, ny) */
  readonly y: Float32Array;
  /** with trace: h drawn at each step, ±1: (m, k, nh) */
  readonly hTrace?: Int8Array;
  /** with trace: y after each step: (m, k, ny) */
  readonly yTrace?: Float32Array;
}

/** A shard of blocks computed by `NativeKernel.shard`, summed on request (valid until the next `shard`). */
export interface NativeShard {
  /** each block's statistics, in block order */
  readonly stats: readonly BlockStats[];
  /**
   * Per tensor, the largest |g| over the blocks or more, (tensors,): exact for the first layers (0, 1, 4, 5), a
   * bound from the examples alone for the rest (native/kernel.inc, block_bounds); +∞ where anything was not
   * finite. Choose the exponents of `fixedSum` from it.
   */
  readonly bounds: Float64Array;
  /**
   * Σ over blocks of round(g · 2^e[t]), exact in float64 integers, (total,): `fixedSum` of the same blocks'
   * `blockGradients`, bit for bit.
   * @throws RangeError where a gradient is not finite or too large for the exponents (bounds rule both out)
   */
  fixedSum(exponents: Int32Array, options?: OutputOptions<Float64Array>): Float64Array;
  /** float32 sum in block order, (total,): `floatSum` of the same blocks' `blockGradients`, bit for bit. */
  floatSum(options?: OutputOptions<Float32Array>): Float32Array;
}

/** At most this many threads per call. */
export const MAX_THREADS = 1024;

/**
 * The native CPU kernel of one instruction-set tier: keyed random draws, Gibbs chains and CD-k gradients.
 * Every result is a pure function of its inputs: the same on any thread count, and on any tier (the tiers
 * differ in speed only; see native/simd.inc).
 */
export class NativeKernel {
  constructor(
    private readonly addon: NativeAddon,
    /** the instruction-set tier used: 'avx512', 'avx2' or 'generic' */
    readonly tier: string,
  ) {}

  /** Tiers this CPU can run, best first. */
  get tiers(): readonly string[] {
    return this.addon.info().tiers;
  }

  /** The same kernel on another tier (which must be in `tiers`). */
  withTier(tier: string): NativeKernel {
    if (!this.tiers.includes(tier)) throw new RangeError(`tier '${tier}' is not available on this CPU (available: ${this.tiers.join(', ')})`);
    return new NativeKernel(this.addon, tier);
  }

  /** n raw u32 draws at counter (a, b, c, ·): `@nbm/random`'s fillBits. */
  philoxBits(key: RandomKey, a: number, b: number, c: number, n: number): Uint32Array {
    this.checkDraw(key, a, b, c, n);
    return this.addon.draw('bits', key.seed, key.stream, a, b, c, n, this.tier);
  }

  /** n uniforms in [0, 1) at counter (a, b, c, ·): `@nbm/random`'s fillUniform. */
  uniforms(key: RandomKey, a: number, b: number, c: number, n: number): Float32Array {
    this.checkDraw(key, a, b, c, n);
    return this.addon.draw('uniform', key.seed, key.stream, a, b, c, n, this.tier);
  }

  /** n standard normals at counter (a, b, c, ·): `@nbm/random`'s fillNormal. */
  normals(key: RandomKey, a: number, b: number, c: number, n: number): Float32Array {
    this.checkDraw(key, a, b, c, n);
    return this.addon.draw('normal', key.seed, key.stream, a, b, c, n, this.tier);
  }

  /** `@nbm/random`'s fillUniform into `out`, bit for bit. */
  fillUniform(out: Float32Array, key: RandomKey, a: number, b: number, c: number): void {
    this.checkDraw(key, a, b, c, out.length);
    this.addon.fill('uniform', out, key.seed, key.stream, a, b, c, this.tier);
  }

  /**
   * Standard normals into `out`: `@nbm/random`'s fillNormal's bits except possibly at the returned indices,
   * where the value lies within 2^-40 of its magnitude of a float32 rounding boundary (undefined: none).
   */
  fillNormal(out: Float32Array, key: RandomKey, a: number, b: number, c: number): Uint32Array | undefined {
    this.checkDraw(key, a, b, c, out.length);
    return this.addon.fill('normal', out, key.seed, key.stream, a, b, c, this.tier);
  }

  /**
   * k-step Gibbs chains from y = μ(x), one per row: x (m, nx), index (m,) the global example index keying each
   * chain's draws at counter (key.step, index, Gibbs step, ·). Returns ỹ (m, ny), with `trace` every step's
   * states too.
   */
  gibbsChain(config: ModelConfig, params: Parameters, x: Float32Array, index: Uint32Array, key: ChainKey, k: number, options: ChainOptions = {}): ChainResult {
    const values = checkParameters(config, params);
    checkContexts(config, x, index);
    this.checkKey(key, k);
    const streams = options.streams ?? { hidden: key.hiddenStream ?? Stream.hidden, visible: key.visibleStream ?? Stream.visible };
    checkU32('streams.hidden', streams.hidden);
    checkU32('streams.visible', streams.visible);
    return this.addon.chain({
      config,
      params: values,
      x,
      index,
      seed: key.seed,
      step: key.step,
      k,
      hiddenStream: streams.hidden,
      visibleStream: streams.visible,
      trace: options.trace ?? false,
      denoise: options.denoise ?? false,
      threads: threadsOf(options),
      tier: this.tier,
      forceDense: options.forceDense ?? false,
    });
  }

  /**
   * Samples y ~ p(y|x) as the official `sample` does (chain from μ(x), k steps; `denoise`: Gaussian μ + W h/P,
   * Ising tanh(σ(2a)), from the last h). x: (m, nx), index (m,) → (m, ny). For `nbm sample`, pass its streams.
   */
  sample(
    config: ModelConfig,
    params: Parameters,
    x: Float32Array,
    index: Uint32Array,
    key: { readonly seed: number; readonly step: number },
    k: number,
    denoise: boolean,
    streams: ChainStreamIds = { hidden: Stream.sampleHidden, visible: Stream.sampleVisible },
    options: RunOptions = {},
  ): Float32Array {
    return this.gibbsChain(config, params, x, index, key, k, { ...options, streams, denoise }).y;
  }

  /** The CD-k gradient sum and statistics of each block (GradientEngine.blockGradients). */
  blockGradients(config: ModelConfig, params: Parameters, blocks: readonly ExampleBlock[], key: ChainKey, k: number, options: BlockOptions = {}): BlockGradient[] {
    return this.addon.blockGradients({ ...this.trainingArgs(config, params, blocks, key, k, options), out: options.out });
  }

  /**
   * The CD-k gradients of `blocks` as one shard whose sum over its blocks is formed on request, without any
   * block's gradient of the row tensors (2, 3, 6, 7, 8, 9: all but 0.1% of the values at the paper's size) ever
   * being written: each row is summed over the blocks while it is computed. Its `bounds` come before the sum, so
   * that fixed-point exponents can be chosen first. The shard is valid until this process's next `shard` call.
   */
  shard(config: ModelConfig, params: Parameters, blocks: readonly ExampleBlock[], key: ChainKey, k: number, options: ShardOptions = {}): NativeShard {
    const args = this.trainingArgs(config, params, blocks, key, k, options);
    const begun = this.addon.shardBegin(args);
    const { addon, tier } = this;
    const threads = args.threads;
    return {
      stats: begun.stats,
      bounds: begun.bounds,
      fixedSum(exponents, sumOptions = {}) {
        if (exponents.length !== begun.bounds.length) throw new RangeError(`exponents has ${exponents.length} entries, the model has ${begun.bounds.length} tensors`);
        return addon.shardSum(begun.token, exponents, threadsOf({ threads, ...sumOptions }), tier, sumOptions.out);
      },
      floatSum(sumOptions = {}) {
        return addon.shardSum(begun.token, undefined, threadsOf({ threads, ...sumOptions }), tier, sumOptions.out);
      },
    };
  }

  /**
   * One AdamW step in place, equal bit for bit to `@nbm/model`'s adamwStep (same float32 roundings; see
   * native/kernel.inc): about 20× faster than the JavaScript loop on the paper model's 604k parameters.
   * grads: the mean gradient, one array per parameter in `params` order.
   */
  adamwStep(params: Parameters, grads: readonly Float32Array[], state: AdamWState, cfg: AdamWConfig, options: RunOptions = {}): void {
    const threads = threadsOf(options);
    checkAdamwShapes(params, grads, state);
    const k = adamwScalars(cfg, state.step + 1);
    state.step += 1;
    params.specs.forEach((spec, i) => {
      k[6] = Math.fround(1 - cfg.lr * cfg.decay[spec.group]);
      this.addon.adamw(params.values[i], grads[i], state.m[i], state.v[i], k, threads, this.tier);
    });
  }

  // Block reductions: the arithmetic of @nbm/collective's block-sums.ts (blockMaxAbs, fixedSum, meanFromFixed,
  // floatSum, meanFromFloat) and @nbm/collective's fixed point, bit for bit, on `threads` threads. Gradients
  // are flat in parameter order (tensor t at the sum of the sizes before it). `sizes` are the tensors' sizes:
  // a worker whose shard has no blocks (more workers than blocks) still reduces zeros of the right shape.

  // The ring's element-wise sums (@nbm/collective's reduce.ts), bit for bit, on the calling thread.

  /** dst[i] += src[i] in float32 (each one correctly rounded addition). */
  sumF32(dst: Float32Array, src: Float32Array): void {
    this.addon.combine('sumF32', dst, src);
  }

  /** dst[i] += src[i] in float64. */
  sumF64(dst: Float64Array, src: Float64Array): void {
    this.addon.combine('sumF64', dst, src);
  }

  /** `@nbm/collective`'s packFixed: src (n) into dst (6n bytes). */
  packFixed(src: Float64Array, dst: Uint8Array): void {
    this.addon.packed('pack', src, dst, this.tier);
  }

  /** `@nbm/collective`'s unpackFixed: src (6n bytes) into dst (n). */
  unpackFixed(src: Uint8Array, dst: Float64Array): void {
    this.addon.packed('unpack', dst, src, this.tier);
  }

  /** `@nbm/collective`'s addPackedInto: dst (n) += src (6n bytes); true when no element overflowed. */
  addPacked(dst: Float64Array, src: Uint8Array): boolean {
    return this.addon.packed('add', dst, src, this.tier);
  }

  /** Largest |v[i]|, Infinity where any element is NaN or ±Inf (one vector; blockMaxAbs's rule). */
  maxAbs(v: Float32Array, options: RunOptions = {}): number {
    return this.addon.reduce('maxAbs', [{ grads: [v] }], threadsOf(options), this.tier)[0];
  }

  /** Largest |g| of each tensor over the blocks (NaN or ±Inf anywhere gives Infinity): (tensors,). */
  blockMaxAbs(blocks: readonly BlockGradient[], sizes: readonly number[], options: RunOptions = {}): Float64Array {
    if (!checkBlockSizes(blocks, sizes)) return new Float64Array(sizes.length);
    return this.addon.reduce('maxAbs', blocks, threadsOf(options), this.tier);
  }

  /**
   * Σ over blocks of round(g · 2^e[t]) (Math.round), exact in float64 integers: (total,).
   * @throws RangeError where a gradient is not finite or a sum leaves ±(2^47 − 1) (the trainer's bounds rule
   *   both out before it sums)
   */
  fixedSum(blocks: readonly BlockGradient[], exponents: Int32Array, sizes: readonly number[], options: OutputOptions<Float64Array> = {}): Float64Array {
    const threads = threadsOf(options);
    if (!checkBlockSizes(blocks, sizes)) return options.out ? options.out.fill(0) : new Float64Array(total(sizes));
    return this.addon.reduce('fixedSum', blocks, exponents, threads, this.tier, options.out);
  }

  /**
   * The mean gradient from a fixed-point sum: sum · 2^−e[t] · (1/examples), rounded to float32, per tensor
   * (views of one flat array: `options.out` when given).
   */
  meanFromFixed(sum: Float64Array, exponents: Int32Array, sizes: readonly number[], examples: number, options: OutputOptions<Float32Array> = {}): Float32Array[] {
    checkInt('examples', examples, 1, 2 ** 52);
    const flat = this.addon.reduce('fromFixed', sum, exponents, Float64Array.from(sizes), 1 / examples, threadsOf(options), this.tier, options.out);
    return split(flat, sizes);
  }

  /**
   * meanFromFixed into the flat `out`, except that an element that is NaN (a reduction's overflow mark) or beyond
   * ±(2^47 − 1) is written NaN instead of raising: `@nbm/collective`'s fromFixedMarked, bit for bit. Returns true
   * when there was none.
   */
  meanFromFixedMarked(sum: Float64Array, exponents: Int32Array, sizes: readonly number[], examples: number, out: Float32Array, options: RunOptions = {}): boolean {
    checkInt('examples', examples, 1, 2 ** 52);
    return this.addon.reduce('fromFixed', sum, exponents, Float64Array.from(sizes), 1 / examples, threadsOf(options), this.tier, out, true);
  }

  /** float32 sum of the blocks in block order: (total,). */
  floatSum(blocks: readonly BlockGradient[], sizes: readonly number[], options: OutputOptions<Float32Array> = {}): Float32Array {
    const threads = threadsOf(options);
    if (!checkBlockSizes(blocks, sizes)) return options.out ? options.out.fill(0) : new Float32Array(total(sizes));
    return this.addon.reduce('floatSum', blocks, threads, this.tier, options.out);
  }

  /** The mean gradient from a float32 sum: sum / examples rounded to float32, per tensor (views of `options.out` when given). */
  meanFromFloat(sum: Float32Array, sizes: readonly number[], examples: number, options: OutputOptions<Float32Array> = {}): Float32Array[] {
    checkInt('examples', examples, 1, 2 ** 52);
    return split(this.addon.reduce('fromFloat', sum, examples, threadsOf(options), this.tier, options.out), sizes);
  }

  /** The checked arguments of a training call (blockGradients, shard) over `blocks`. */
  private trainingArgs(config: ModelConfig, params: Parameters, blocks: readonly ExampleBlock[], key: ChainKey, k: number, options: ShardOptions): AddonShardArgs {
    const values = checkParameters(config, params);
    blocks.forEach((b, i) => checkBlock(config, b, i));
    this.checkKey(key, k);
    const hidden = key.hiddenStream ?? Stream.hidden;
    const visible = key.visibleStream ?? Stream.visible;
    checkU32('key.hiddenStream', hidden);
    checkU32('key.visibleStream', visible);
    return {
      config,
      params: values,
      blocks,
      seed: key.seed,
      step: key.step,
      k,
      hiddenStream: hidden,
      visibleStream: visible,
      threads: threadsOf(options),
      tier: this.tier,
      forceDense: options.forceDense ?? false,
      profile: options.profile,
    };
  }

  private checkDraw(key: RandomKey, a: number, b: number, c: number, n: number): void {
    checkU32('seed', key.seed);
    checkU32('stream', key.stream);
    checkU32('a', a);
    checkU32('b', b);
    checkU32('c', c);
    checkInt('n', n, 0, 2 ** 31 - 1);
  }

  private checkKey(key: { readonly seed: number; readonly step: number }, k: number): void {
    checkU32('key.seed', key.seed);
    checkU32('key.step', key.step);
    checkInt('Gibbs steps k', k, 1, 1 << 20);
  }
}

const total = (sizes: readonly number[]) => sizes.reduce((a, n) => a + n, 0);

/**
 * Checks that the blocks' tensors have `sizes` (the addon takes the shape from the first block; the others it
 * checks itself). Returns false when there are no blocks: the sum is then all zeros.
 */
function checkBlockSizes(blocks: readonly BlockGradient[], sizes: readonly number[]): boolean {
  if (blocks.length === 0) return false;
  const got = blocks[0].grads.map((g) => g.length);
  if (got.length !== sizes.length || got.some((n, t) => n !== sizes[t])) {
    throw new RangeError(`blocks[0] has tensors of sizes [${got.join(', ')}], expected [${sizes.join(', ')}]`);
  }
  return true;
}

function threadsOf(options: RunOptions): number {
  const t = options.threads ?? 1;
  checkInt('threads', t, 1, MAX_THREADS);
  return t;
}
