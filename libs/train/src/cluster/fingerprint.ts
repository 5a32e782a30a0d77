import { createHash } from 'node:crypto';
import type { Prepared } from '../trainer.ts';

/**
 * What every replica must agree on before it may join: the model's shape and the training data it reads.
 * Two workers with equal fingerprints compute any block bit for bit the same (given the same engine).
 */
export function fingerprint(p: Pick<Prepared, 'model' | 'train' | 'config'>): string {
  const { config: c } = p;
  const relevant = {
    model: p.model,
    train: { count: p.train.count, nx: p.train.nx, ny: p.train.ny, description: p.train.description },
    steps: { batchSize: c.batchSize, blockSize: c.blockSize, gibbsSteps: c.gibbsSteps, seed: c.seed, reduce: c.reduce },
  };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 32);
}
