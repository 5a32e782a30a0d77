import { type RandomKey, assertSeed, fillNormal, fillUniform } from '@nbm/random';
import type { Dataset } from './dataset.ts';

/** Visible unit type (the same union as @nbm/model's `VisibleType`). */
export type VisibleType = 'gaussian' | 'ising';

/** Standard deviation of the Gaussian transform's noise (the official implementation's; the paper says variance). */
export const GAUSSIAN_NOISE_STD = 1e-3;
/** The Ising transform draws bernoulli(clamp(p, ISING_CLAMP, 1 − ISING_CLAMP)). */
export const ISING_CLAMP = 1e-3;

const clampP = (p: number) => Math.min(Math.max(p, ISING_CLAMP), 1 - ISING_CLAMP);
/** 2p − 1 for each uint8 pixel value, p = v/255. */
const GAUSS_BASE = Float64Array.from({ length: 256 }, (_, v) => (2 * v) / 255 - 1);
/** clamp(v/255) for each uint8 pixel value. */
const ISING_P = Float64Array.from({ length: 256 }, (_, v) => clampP(v / 255));

/** One row's random numbers, reused across calls (JS is single-threaded; no call re-enters). */
let scratch = new Float32Array(0);

function checkCounter(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${name} must be a u32 counter, got ${v}`);
}

/**
 * The visible units of some rows of a dataset, drawn afresh as a pure function of (key, counterA, globalIndex[b],
 * counterC): the same arguments give the same numbers on any worker, whatever the batch around the row.
 *
 * For `transform: 'image'` datasets (p = v/255 for uint8 pixels, p = v for float32), element i of row b:
 * - Gaussian: `y = 2p − 1 + 1e-3 · n_i`, n from `fillNormal(·, key, counterA, globalIndex[b], counterC)`;
 * - Ising: `y = u_i < clamp(p, 1e-3, 1 − 1e-3) ? +1 : −1`, u from `fillUniform` with the same counters.
 * For `transform: 'none'` datasets the stored float32 values are copied unchanged (no draws).
 *
 * The trainer reads with key {seed, stream: Stream.dataTrain}, counterA = global optimizer step, counterC = 0;
 * evaluation with {seed, stream: Stream.dataEval}, counterA = epoch, counterC = SPLIT_ID[split].
 *
 * @param rows (m,) row indices into the dataset
 * @param globalIndex (m,) the rows' global example indices (the `b` counter; usually the rows themselves)
 * @param out optional (m, ny) output to fill
 * @returns (m, ny) float32
 */
export function transformRows(
  dataset: Pick<Dataset, 'ny' | 'count' | 'pixels' | 'transform'>,
  rows: Uint32Array,
  globalIndex: Uint32Array,
  visible: VisibleType,
  key: RandomKey,
  counterA: number,
  counterC: number,
  out?: Float32Array,
): Float32Array {
  const { ny, count, pixels } = dataset;
  const m = rows.length;
  if (globalIndex.length !== m) throw new RangeError(`transformRows: ${m} rows but ${globalIndex.length} global indices`);
  if (visible !== 'gaussian' && visible !== 'ising') throw new RangeError(`visible must be 'gaussian' or 'ising', got '${String(visible)}'`);
  assertSeed(key.seed);
  checkCounter('counterA', counterA);
  checkCounter('counterC', counterC);
  const y = out ?? new Float32Array(m * ny);
  if (y.length !== m * ny) throw new RangeError(`transformRows: out has length ${y.length}, expected ${m} × ${ny}`);
  for (let b = 0; b < m; b++) {
    if (rows[b] >= count) throw new RangeError(`transformRows: row ${rows[b]} is out of range for ${count} rows`);
  }

  if (dataset.transform === 'none') {
    for (let b = 0; b < m; b++) y.set(pixels.subarray(rows[b] * ny, (rows[b] + 1) * ny), b * ny);
    return y;
  }
  if (scratch.length !== ny) scratch = new Float32Array(ny);
  const r = scratch;
  const u8 = pixels instanceof Uint8Array;
  for (let b = 0; b < m; b++) {
    const src = rows[b] * ny;
    const dst = b * ny;
    if (visible === 'gaussian') {
      fillNormal(r, key, counterA, globalIndex[b], counterC);
      if (u8) for (let i = 0; i < ny; i++) y[dst + i] = GAUSS_BASE[pixels[src + i]] + GAUSSIAN_NOISE_STD * r[i];
      else for (let i = 0; i < ny; i++) y[dst + i] = 2 * pixels[src + i] - 1 + GAUSSIAN_NOISE_STD * r[i];
    } else {
      fillUniform(r, key, counterA, globalIndex[b], counterC);
      if (u8) for (let i = 0; i < ny; i++) y[dst + i] = r[i] < ISING_P[pixels[src + i]] ? 1 : -1;
      else for (let i = 0; i < ny; i++) y[dst + i] = r[i] < clampP(pixels[src + i]) ? 1 : -1;
    }
  }
  return y;
}

/**
 * One-hot contexts for labelled rows.
 * @param labels (count,) class labels
 * @param rows (m,) row indices
 * @returns (m, classes) float32, 1 at the row's label, 0 elsewhere
 */
export function oneHotContexts(labels: Uint8Array, rows: Uint32Array, classes: number, out?: Float32Array): Float32Array {
  const m = rows.length;
  const x = out ?? new Float32Array(m * classes);
  if (x.length !== m * classes) throw new RangeError(`oneHotContexts: out has length ${x.length}, expected ${m} × ${classes}`);
  x.fill(0);
  for (let b = 0; b < m; b++) {
    if (rows[b] >= labels.length) throw new RangeError(`oneHotContexts: row ${rows[b]} is out of range for ${labels.length} labels`);
    const label = labels[rows[b]];
    if (label >= classes) throw new RangeError(`oneHotContexts: label ${label} of row ${rows[b]} is not below ${classes} classes`);
    x[b * classes + label] = 1;
  }
  return x;
}

/**
 * The contexts x of some rows: one-hot labels for labelled datasets, the stored rows for npy datasets.
 * @returns (m, nx) float32
 */
export function contextsFor(
  dataset: Pick<Dataset, 'name' | 'nx' | 'count' | 'labels' | 'classes' | 'contexts'>,
  rows: Uint32Array,
  out?: Float32Array,
): Float32Array {
  const { nx } = dataset;
  if (dataset.labels && dataset.classes !== undefined) return oneHotContexts(dataset.labels, rows, dataset.classes, out);
  const stored = dataset.contexts;
  if (!stored) throw new Error(`dataset '${dataset.name}' has neither labels nor stored contexts`);
  const x = out ?? new Float32Array(rows.length * nx);
  if (x.length !== rows.length * nx) throw new RangeError(`contextsFor: out has length ${x.length}, expected ${rows.length} × ${nx}`);
  for (let b = 0; b < rows.length; b++) {
    if (rows[b] >= dataset.count) throw new RangeError(`contextsFor: row ${rows[b]} is out of range for ${dataset.count} rows`);
    x.set(stored.subarray(rows[b] * nx, (rows[b] + 1) * nx), b * nx);
  }
  return x;
}
