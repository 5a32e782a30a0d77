import { GAUSSIAN_NOISE_STD, ISING_CLAMP, contextsFor, type Dataset } from '@nbm/data';
import { LOG_PRECISION_MAX, type VisibleType } from '@nbm/model';
import { contextKey } from './data.ts';

/**
 * The smallest baseline variance: 1/P_max = 1e-3, the least variance the NBM itself can express (its precision is
 * capped at 1e3). Without a floor, pixels that never change in training (MNIST's border: y = −1 + 1e-3·noise) get
 * variance 1e-6 and any test image that touches them a huge penalty.
 */
export const BASELINE_MIN_VARIANCE = Math.exp(-LOG_PRECISION_MAX);
/** Distinct training contexts beyond which the baseline is fitted to all training rows together. */
export const MAX_BASELINE_CONTEXTS = 256;

/** A diagonal model of y: Gaussian (mean, variance) or independent ±1 units (P(y_i = +1)), each (ny). */
export type DiagonalFit =
  | { readonly kind: 'gaussian'; readonly mean: Float64Array; readonly variance: Float64Array }
  | { readonly kind: 'ising'; readonly probability: Float64Array };

/** Diagonal fits per training context (one-hot labels: per class) and one for all training rows. */
export interface Baseline {
  /** keyed by the context's bytes (`contextKey`) */
  readonly byContext: ReadonlyMap<string, DiagonalFit>;
  readonly pooled: DiagonalFit;
  /** in words, for the report */
  readonly description: string;
}

/** Running sums of E[y] and E[y²] (Gaussian) or P(y = +1) (Ising) per unit. */
class Moments {
  count = 0;
  readonly first: Float64Array;
  readonly second: Float64Array;
  constructor(ny: number) {
    this.first = new Float64Array(ny);
    this.second = new Float64Array(ny);
  }
}

/**
 * The expected sufficient statistics of one row of a training set under its transform (no random draws):
 * for images (p = pixel intensity) Gaussian E[y] = 2p − 1, E[y²] = (2p − 1)² + 1e-6 (the noise's variance) and Ising
 * P(y = +1) = clamp(p, 1e-3, 1 − 1e-3); for values given as-is, y itself (Ising: y > 0).
 */
function addRow(m: Moments, d: Dataset, row: number, visible: VisibleType): void {
  const { ny, pixels } = d;
  const scale = pixels instanceof Uint8Array ? 1 / 255 : 1;
  const image = d.transform === 'image';
  m.count++;
  for (let i = 0; i < ny; i++) {
    const v = pixels[row * ny + i] * scale;
    if (visible === 'gaussian') {
      const y = image ? 2 * v - 1 : v;
      m.first[i] += y;
      m.second[i] += y * y + (image ? GAUSSIAN_NOISE_STD ** 2 : 0);
    } else {
      m.first[i] += image ? Math.min(Math.max(v, ISING_CLAMP), 1 - ISING_CLAMP) : v > 0 ? 1 : 0;
    }
  }
}

function finish(m: Moments, visible: VisibleType): DiagonalFit {
  const n = m.count;
  if (visible === 'gaussian') {
    const mean = m.first.map((s) => s / n);
    const variance = m.second.map((s, i) => Math.max(BASELINE_MIN_VARIANCE, s / n - mean[i] ** 2));
    return { kind: 'gaussian', mean, variance };
  }
  return { kind: 'ising', probability: m.first.map((s) => Math.min(Math.max(s / n, ISING_CLAMP), 1 - ISING_CLAMP)) };
}

/**
 * Fits the baseline by maximum likelihood on training data: a diagonal Gaussian (variances floored at
 * `BASELINE_MIN_VARIANCE`) for Gaussian units, independent Bernoullis (probabilities clamped to [1e-3, 1 − 1e-3],
 * as the Ising transform clamps pixels) for Ising units; one per distinct training context (per class for one-hot
 * labels) when there are at most `MAX_BASELINE_CONTEXTS` of them, and one for all rows.
 */
export function fitBaseline(train: Dataset, visible: VisibleType): Baseline {
  const rows = Uint32Array.from({ length: train.count }, (_, i) => i);
  const x = contextsFor(train, rows);
  const keys: string[] = [];
  const distinct = new Set<string>();
  for (let r = 0; r < train.count; r++) {
    const k = contextKey(x.subarray(r * train.nx, (r + 1) * train.nx));
    keys.push(k);
    if (distinct.size <= MAX_BASELINE_CONTEXTS) distinct.add(k);
  }
  const perContext = distinct.size <= MAX_BASELINE_CONTEXTS;
  const pooled = new Moments(train.ny);
  const moments = new Map<string, Moments>();
  for (let r = 0; r < train.count; r++) {
    addRow(pooled, train, r, visible);
    if (!perContext) continue;
    let m = moments.get(keys[r]);
    if (!m) moments.set(keys[r], (m = new Moments(train.ny)));
    addRow(m, train, r, visible);
  }
  const kind = visible === 'gaussian' ? `diagonal Gaussian (variance ≥ 1/P_max = ${BASELINE_MIN_VARIANCE.toPrecision(3)})` : `independent Bernoullis (p in [${ISING_CLAMP}, ${1 - ISING_CLAMP}])`;
  const scope = perContext ? `per context (${moments.size} distinct training contexts${train.labels ? ': per class' : ''})` : `pooled over all rows (more than ${MAX_BASELINE_CONTEXTS} distinct contexts)`;
  return {
    byContext: new Map([...moments].map(([k, m]) => [k, finish(m, visible)])),
    pooled: finish(pooled, visible),
    description: `${kind} ${scope}, fitted on ${train.count} ${train.name} training rows`,
  };
}

/**
 * ln of the diagonal model's density (Gaussian) or probability (Ising) of y.
 * @param y (ny) read from `y[offset .. offset + ny)`
 */
export function diagonalLogLikelihood(fit: DiagonalFit, y: ArrayLike<number>, offset = 0): number {
  let s = 0;
  if (fit.kind === 'gaussian') {
    const { mean, variance } = fit;
    for (let i = 0; i < mean.length; i++) {
      const d = y[offset + i] - mean[i];
      s -= 0.5 * (Math.log(2 * Math.PI * variance[i]) + (d * d) / variance[i]);
    }
    return s;
  }
  const p = fit.probability;
  for (let i = 0; i < p.length; i++) s += Math.log(y[offset + i] > 0 ? p[i] : 1 - p[i]);
  return s;
}
