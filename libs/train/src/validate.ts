import type { Dataset } from '@nbm/data';
import { SPLIT_ID } from '@nbm/data';
import type { GradientEngine, Parameters } from '@nbm/model';
import { Stream } from '@nbm/random';
import type { TrainConfig } from './config.ts';
import { batchMetrics, sumStats, type BatchMetrics } from './metrics.ts';
import { jsOps } from './ops.ts';
import { gradientLayout } from '@nbm/collective';
import { computeShard, readBlocks } from './shard.ts';

/**
 * The three losses on the validation split at the end of an epoch: the first `valExamples` rows (all when 0), in
 * minibatches of the training batch size. Data and chain draws use the evaluation streams keyed by the epoch, so
 * the numbers are reproducible and independent of training. MSE_var's mean of y is over the whole split.
 */
export async function validationMetrics(engine: GradientEngine, params: Parameters, val: Dataset, cfg: TrainConfig, epoch: number): Promise<BatchMetrics> {
  const layout = gradientLayout(params);
  const n = cfg.valExamples > 0 ? Math.min(cfg.valExamples, val.count) : val.count;
  const stats = [];
  for (let start = 0; start < n; start += cfg.batchSize) {
    const rows = Uint32Array.from({ length: Math.min(cfg.batchSize, n - start) }, (_, i) => start + i);
    const spec = { seed: cfg.seed, globalStep: epoch, visible: cfg.visible, gibbsSteps: cfg.gibbsSteps, blockSize: cfg.blockSize, rows };
    const blocks = readBlocks(val, spec, 0, Math.ceil(rows.length / cfg.blockSize), Stream.dataEval, SPLIT_ID.val);
    const key = { seed: cfg.seed, step: epoch, hiddenStream: Stream.evalHidden, visibleStream: Stream.evalVisible };
    // only the statistics are read: a device engine sums nothing back
    stats.push(...(await computeShard(engine, jsOps, layout, params, blocks, key, cfg.gibbsSteps)).stats);
  }
  return batchMetrics(sumStats(stats), n, val.ny);
}
