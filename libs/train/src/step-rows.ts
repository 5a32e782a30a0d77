import { batchRows, epochOrder } from '@nbm/data';
import type { TrainConfig } from './config.ts';
import type { Position } from './executor.ts';

let cached: { count: number; seed: number; epoch: number; order: Uint32Array } | undefined;

/** The dataset rows of the minibatch at `p` (the epoch's seeded order, cached for the current epoch). */
export function stepRows(count: number, cfg: Pick<TrainConfig, 'seed' | 'batchSize'>, p: Position): Uint32Array {
  if (!cached || cached.count !== count || cached.seed !== cfg.seed || cached.epoch !== p.epoch) {
    cached = { count, seed: cfg.seed, epoch: p.epoch, order: epochOrder(count, cfg.seed, p.epoch) };
  }
  return batchRows(cached.order, p.stepInEpoch, cfg.batchSize);
}
