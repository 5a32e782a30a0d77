/**
 * Ranking a sweep's trials. A trial's score is its metric at the last epoch it completed. Trials that trained
 * further rank first (ASHA stopped the others because they were worse at a rung), then by score, best (lowest)
 * first; diverged trials come after every trial with a score, failed ones after those, unstarted ones last.
 */
import { metricOf, type EpochMetrics, type MetricName } from './metric.ts';
import type { TrialRecord } from './state.ts';

/** A trial's last completed epoch's numbers, if any. */
export function lastEpoch(t: TrialRecord): EpochMetrics | undefined {
  return t.metrics[t.metrics.length - 1];
}

/** A trial's score: its metric at its last completed epoch (NaN when it has none or diverged). */
export function score(t: TrialRecord, metric: MetricName): number {
  const last = lastEpoch(t);
  return t.state === 'diverged' || !last ? NaN : metricOf(last, metric);
}

function group(t: TrialRecord, metric: MetricName): number {
  if (Number.isFinite(score(t, metric))) return 0;
  if (t.state === 'diverged') return 1;
  if (t.state === 'failed') return 2;
  return 3;
}

/** The trials, best first (a new array; ties keep trial order). */
export function rankTrials(trials: readonly TrialRecord[], metric: MetricName): TrialRecord[] {
  const order = new Map(trials.map((t, i) => [t.id, i]));
  return [...trials].sort((a, b) => {
    const ga = group(a, metric);
    const gb = group(b, metric);
    if (ga !== gb) return ga - gb;
    if (ga === 0) {
      const depth = b.metrics.length - a.metrics.length;
      if (depth !== 0) return depth;
      const d = score(a, metric) - score(b, metric);
      if (d !== 0) return d;
    }
    return order.get(a.id)! - order.get(b.id)!;
  });
}

/** The winner: the best-ranked trial with a score, or undefined when none has one. */
export function bestTrial(trials: readonly TrialRecord[], metric: MetricName): TrialRecord | undefined {
  const first = rankTrials(trials, metric)[0];
  return first && Number.isFinite(score(first, metric)) ? first : undefined;
}
