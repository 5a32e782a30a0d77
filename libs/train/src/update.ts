/**
 * The collective half of a training step: combine block gradients (local ones plus, when distributed, the other
 * workers' through a `GradientReducer`), decide on non-finite steps together, and apply AdamW.
 */
import type { AdamWConfig, BlockStats, ShardGradients } from '@nbm/model';
import type { TrainConfig } from './config.ts';
import { batchMetrics, sumStats, type BatchMetrics } from './metrics.ts';
import { jsOps, type StepOps } from './ops.ts';
import { FixedPointOverflowError, fixedExponents, type GradientLayout } from '@nbm/collective';
import type { TrainState } from './state.ts';

/** The collectives a step needs. In one process each is the identity. */
export interface GradientReducer {
  /**
   * Every worker's `local` in rank order, (world × n): the step's small vectors (bounds, flag, statistics) travel
   * in this one collective, and each worker combines them the same way
   */
  gather(local: Float64Array): Promise<Float64Array>;
  /**
   * The element-wise SUM of fixed-point integers (exact), delivered as float32: `convert(sum, start, end)` writes
   * out[start, end) from the sum there (an overflowed element, NaN in the sum, as NaN). In one process it converts
   * all of `local`; over a ring each rank converts the segment it reduced and the float32 values are gathered.
   */
  sumFixedTo(local: Float64Array, out: Float32Array, convert: (sum: Float64Array, start: number, end: number) => void): Promise<void>;
  /** element-wise SUM in float32 (`--reduce fast`) */
  sumFloat(local: Float32Array): Promise<Float32Array>;
}

export const localReducer: GradientReducer = {
  gather: async (v) => v,
  sumFixedTo: async (v, _out, convert) => convert(v, 0, v.length),
  sumFloat: async (v) => v,
};

const STAT_KEYS = ['freeEnergyData', 'freeEnergyModel', 'squaredErrorBias', 'sumY', 'sumY2', 'sumY3', 'sumY4', 'sumV', 'sumVY', 'sumVY2', 'sumV2'] as const;

/** Block statistics as a flat vector, so that they ride the step's one small collective. */
function statsVector(s: BlockStats): Float64Array {
  const v = new Float64Array(STAT_KEYS.length);
  STAT_KEYS.forEach((k, i) => (v[i] = s[k]));
  return v;
}

export function adamwConfigOf(c: TrainConfig): AdamWConfig {
  return { lr: c.lr, decay: { bias: c.decayBias, precision: c.decayPrecision, weights: c.decayWeights } };
}

export interface StepOutcome {
  readonly metrics: BatchMetrics;
  /** true when the step was skipped on every replica because some gradient was NaN or ±Inf */
  readonly skipped: boolean;
  /** ms spent in reductions */
  readonly reduceMs: number;
}

/** Raised when too many consecutive steps had non-finite gradients. */
export class TrainingDivergedError extends Error {
  override readonly name = 'TrainingDivergedError';
  /** survives the trip from a worker: a RemoteError carries it as its `code` */
  readonly code = 'training-diverged';
  constructor(readonly step: number, readonly run: number) {
    super(`training diverged: non-finite loss or gradient at step ${step} (${run} steps in a row were skipped); try a smaller --lr`);
  }
}

/** True for a divergence raised here or on a worker (where it arrives as a RemoteError with its code). */
export function isTrainingDiverged(e: unknown): boolean {
  return e instanceof TrainingDivergedError || (e as { code?: unknown } | null)?.code === 'training-diverged';
}

/**
 * Combines this process's shard of block gradients with everyone else's and updates the state in place.
 * examples: the global minibatch size B; totalBlocks: the minibatch's block count.
 * The non-finite decision is collective (a MAX of flags) so that all replicas skip the same step.
 */
export async function reduceAndApply(
  state: TrainState,
  local: ShardGradients,
  cfg: TrainConfig,
  layout: GradientLayout,
  examples: number,
  totalBlocks: number,
  ny: number,
  reducer: GradientReducer,
  ops: StepOps = jsOps,
): Promise<StepOutcome> {
  const maxNonFinite = cfg.maxNonFinite;
  const t0 = performance.now();
  const localStats = sumStats(local.stats);
  const localBounds = await local.bounds();
  // one collective carries the per-tensor bounds and the non-finite flag (combined by MAX) and the statistics
  // (summed in rank order): [bounds (tensors), flag, statistics]
  const mine = new Float64Array(localBounds.length + 1 + STAT_KEYS.length);
  mine.set(localBounds);
  mine[localBounds.length] = localStats.finite ? 0 : 1;
  mine.set(statsVector(localStats), localBounds.length + 1);
  const all = await reducer.gather(mine);
  const bounds = new Float64Array(localBounds.length + 1);
  const stats = new Float64Array(STAT_KEYS.length);
  for (let o = 0; o < all.length; o += mine.length) {
    for (let i = 0; i < bounds.length; i++) bounds[i] = Math.max(bounds[i], all[o + i]);
    for (let i = 0; i < stats.length; i++) stats[i] += all[o + bounds.length + i];
  }
  const nonFinite = bounds[localBounds.length] > 0 || bounds.subarray(0, localBounds.length).some((m) => !Number.isFinite(m));

  const statsSum = { ...localStats };
  STAT_KEYS.forEach((k, i) => ((statsSum[k] as number) = stats[i]));
  const metrics = batchMetrics({ ...statsSum, finite: !nonFinite }, examples, ny);

  if (nonFinite) {
    state.nonFiniteRun += 1;
    state.globalStep += 1;
    if (state.nonFiniteRun >= maxNonFinite) throw new TrainingDivergedError(state.globalStep - 1, state.nonFiniteRun);
    return { metrics, skipped: true, reduceMs: performance.now() - t0 };
  }
  state.nonFiniteRun = 0;

  let mean: Float32Array[];
  if (cfg.reduce === 'exact') {
    const exponents = fixedExponents(bounds.subarray(0, localBounds.length), totalBlocks);
    const out = ops.meanOutput(layout);
    await reducer.sumFixedTo(await local.fixedSum(exponents), out, (sum, start, end) => void ops.meanFromFixedRange(sum, exponents, layout, examples, start, end, out));
    if (!ops.allFinite(out)) throw overflowAt(out);
    mean = layout.sizes.map((n, t) => out.subarray(layout.offsets[t], layout.offsets[t] + n));
  } else {
    const sum = await reducer.sumFloat(await local.floatSum());
    mean = ops.meanFromFloat(sum, layout, examples);
  }
  const reduceMs = performance.now() - t0;
  ops.adamwStep(state.params, mean, state.optimizer, adamwConfigOf(cfg));
  state.globalStep += 1;
  return { metrics, skipped: false, reduceMs };
}

/**
 * A NaN in the exact mean is a fixed-point overflow mark (the gradients were checked finite before the sum):
 * every rank holds the same mean, so every rank raises the same error. The bounds rule it out; this is a guard.
 */
function overflowAt(mean: Float32Array): FixedPointOverflowError {
  const i = mean.findIndex((v) => !Number.isFinite(v));
  return new FixedPointOverflowError(i, NaN, 'a partial sum overflowed during the reduction');
}
