/**
 * The validation metrics a sweep ranks trials by, all minimised:
 * - `val_cd`: the CD loss on the validation rows (metrics.csv, `kind=val`, `cd_loss`),
 * - `val_mse_bias`: mean (y − μ(x))² on them (`mse_bias`),
 * - `val_nll`: the negative held-out log-likelihood per example, −ln p(y|x) in nats, from `@nbm/evaluate`
 *   on the validation split of the epoch's checkpoint.
 */

export const METRICS = ['val_nll', 'val_mse_bias', 'val_cd'] as const;
export type MetricName = (typeof METRICS)[number];

/** One epoch's validation numbers, as a trial records them. */
export interface EpochMetrics {
  readonly epoch: number;
  readonly val_cd: number;
  readonly val_mse_bias: number;
  readonly val_mse_var: number;
  /** present when the sweep's metric is val_nll */
  readonly val_nll?: number;
}

/** Checks a metric name; the message lists the choices. */
export function parseMetric(name: string): MetricName {
  if (!(METRICS as readonly string[]).includes(name)) throw new Error(`--metric must be one of ${METRICS.join(', ')}, got '${name}'`);
  return name as MetricName;
}

/** The metric's value in one epoch's record (NaN when it is missing). */
export function metricOf(m: EpochMetrics, name: MetricName): number {
  const v = m[name];
  return typeof v === 'number' ? v : NaN;
}

/** A metric value as a short text. */
export function formatMetric(v: number | undefined): string {
  if (v === undefined) return '';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toPrecision(5);
}
