/**
 * The worker's half of a training step: read the shard's examples, transform them with draws keyed by
 * (seed, global step, example index), and compute each block's CD-k gradient sum. The same code runs in a
 * single process (all blocks) and on each of N workers (its blocks): that is what makes them agree.
 */
import type { BlockGradient, ChainKey, ExampleBlock, GradientEngine, Parameters, ShardGradients, VisibleType } from '@nbm/model';
import { Stream } from '@nbm/random';
import { contextsFor, transformRows, type Dataset } from '@nbm/data';
import { blockRanges } from './plan.ts';
import type { StepOps } from './ops.ts';
import { carriedMaxAbs, type GradientLayout } from '@nbm/collective';

export interface StepSpec {
  readonly seed: number;
  readonly globalStep: number;
  readonly visible: VisibleType;
  readonly gibbsSteps: number;
  readonly blockSize: number;
  /** the minibatch's dataset rows, in minibatch order */
  readonly rows: Uint32Array;
}

/** The examples of blocks [first, last) of a minibatch, transformed for this step. */
export function readBlocks(data: Dataset, spec: StepSpec, first: number, last: number, dataStream: number = Stream.dataTrain, counterC = 0): ExampleBlock[] {
  const ranges = blockRanges(spec.rows.length, spec.blockSize).slice(first, last);
  return ranges.map(([s, e]) => {
    const rows = spec.rows.subarray(s, e);
    return {
      count: e - s,
      x: contextsFor(data, rows),
      y: transformRows(data, rows, rows, spec.visible, { seed: spec.seed, stream: dataStream }, spec.globalStep, counterC),
      index: rows.slice(),
    };
  });
}

/**
 * The CD-k gradients of `blocks`, ready to reduce: left on the engine's device and summed there when the engine
 * can (`shardGradients`), else computed on the host and reduced there by `ops`.
 */
export async function computeShard(
  engine: GradientEngine,
  ops: StepOps,
  layout: GradientLayout,
  params: Parameters,
  blocks: readonly ExampleBlock[],
  key: ChainKey,
  gibbsSteps: number,
): Promise<ShardGradients> {
  if (engine.shardGradients) return engine.shardGradients(params, blocks, key, gibbsSteps);
  return hostShard(await engine.blockGradients(params, blocks, key, gibbsSteps), ops, layout);
}

/** Host block gradients as a `ShardGradients`, reduced by `ops`. */
export function hostShard(blocks: readonly BlockGradient[], ops: StepOps, layout: GradientLayout): ShardGradients {
  return {
    stats: blocks.map((b) => b.stats),
    bounds: async () => carriedMaxAbs(blocks, layout) ?? ops.blockMaxAbs(blocks, layout),
    fixedSum: async (exponents) => ops.fixedSum(blocks, exponents, layout),
    floatSum: async () => ops.floatSum(blocks, layout),
  };
}

/** The gradients of blocks [first, last) of the step's minibatch. */
export function shardGradients(
  engine: GradientEngine,
  ops: StepOps,
  layout: GradientLayout,
  params: Parameters,
  data: Dataset,
  spec: StepSpec,
  first: number,
  last: number,
): Promise<ShardGradients> {
  const blocks = readBlocks(data, spec, first, last);
  const key: ChainKey = { seed: spec.seed, step: spec.globalStep };
  return computeShard(engine, ops, layout, params, blocks, key, spec.gibbsSteps);
}
