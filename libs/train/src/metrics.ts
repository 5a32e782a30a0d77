import type { BlockStats } from '@nbm/model';

/** The official implementation's three training losses, for one minibatch. */
export interface BatchMetrics {
  /** mean F(y|x) − mean F(ỹ|x) */
  readonly cdLoss: number;
  /** mean((y − μ)²) */
  readonly mseBias: number;
  /** mean(((y − mean(y))² − 1/P)²), mean(y) over the whole batch tensor as the official code takes it */
  readonly mseVar: number;
  readonly finite: boolean;
}

/** Adds block sums in block order (the order is fixed by the step plan, so the result is deterministic). */
export function sumStats(blocks: readonly BlockStats[]): BlockStats {
  const total: BlockStats = {
    freeEnergyData: 0, freeEnergyModel: 0, squaredErrorBias: 0,
    sumY: 0, sumY2: 0, sumY3: 0, sumY4: 0, sumV: 0, sumVY: 0, sumVY2: 0, sumV2: 0, finite: true,
  };
  for (const s of blocks) {
    for (const k of Object.keys(total) as (keyof BlockStats)[]) {
      if (k === 'finite') total.finite = total.finite && s.finite;
      else (total[k] as number) += s[k] as number;
    }
  }
  return total;
}

/**
 * Batch metrics from summed block statistics. examples: B; ny: visible size.
 * MSE_var expands Σ((y−c)² − v)² in power sums (see BlockStats) with c = Σy / (B·ny).
 */
export function batchMetrics(s: BlockStats, examples: number, ny: number): BatchMetrics {
  const n = examples * ny;
  const c = s.sumY / n;
  const fourth = s.sumY4 - 4 * c * s.sumY3 + 6 * c * c * s.sumY2 - 4 * c ** 3 * s.sumY + n * c ** 4;
  const cross = s.sumVY2 - 2 * c * s.sumVY + c * c * s.sumV;
  return {
    cdLoss: (s.freeEnergyData - s.freeEnergyModel) / examples,
    mseBias: s.squaredErrorBias / n,
    mseVar: (fourth - 2 * cross + s.sumV2) / n,
    finite: s.finite,
  };
}
