import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { assertSeed } from '@nbm/random';
import { DataFileError } from './errors.ts';
import { type NpyArray, readNpy } from './npy.ts';
import { shapeRepr } from './npy-format.ts';
import { type Dataset, type ValueTransform, gatherRows } from './dataset.ts';
import { trainValSplit } from './split.ts';

/** Options of `loadNpyDataset`. */
export interface NpyDatasetOptions {
  /** `train` or `val` (a seeded split of the files' rows), or `all` rows in file order (default `all`) */
  readonly split?: 'train' | 'val' | 'all';
  /** seed of the train/validation split (default 1) */
  readonly seed?: number;
  /** fraction of rows for validation, in [0, 1) (default 0.1); the count is round(N · fraction) */
  readonly valFraction?: number;
  /**
   * How y's values become visible units. Default: `image` for uint8 y (pixels, p = v/255), `none` for float32 y
   * (used as given). `image` for float32 y requires values in [0, 1] (they are p).
   */
  readonly yTransform?: ValueTransform;
}

interface Loaded {
  readonly x: Float32Array;
  readonly y: Uint8Array | Float32Array;
  readonly n: number;
  readonly nx: number;
  readonly ny: number;
}
const cache = new Map<string, Loaded>();

function fileKey(path: string): string {
  try {
    const s = statSync(path);
    return `${resolve(path)}:${s.size}:${s.mtimeMs}`;
  } catch {
    return resolve(path); // readNpy reports the problem
  }
}

function check2d(path: string, role: string, a: NpyArray): asserts a is Extract<NpyArray, { dtype: 'float32' | 'uint8' }> {
  if (a.dtype === 'int32') {
    throw new DataFileError(path, `${role} has dtype '${a.descr}'; expected float32 '<f4' or uint8 '|u1' (one-hot encode class labels as float32)`);
  }
  if (a.shape.length !== 2) {
    throw new DataFileError(path, `${role} has shape ${shapeRepr(a.shape)}; expected a 2-D array (N, ${role === 'x' ? 'nx' : 'ny'})`);
  }
  if (a.shape[0] === 0 || a.shape[1] === 0) {
    throw new DataFileError(path, `${role} has shape ${shapeRepr(a.shape)}; expected at least one row and one column`);
  }
  if (a.dtype === 'float32') {
    const d = a.data;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i])) {
        const w = a.shape[1];
        throw new DataFileError(path, `${role} has a non-finite value ${d[i]} at row ${Math.floor(i / w)}, column ${i % w}`);
      }
    }
  }
}

function loadPair(xPath: string, yPath: string): Loaded {
  const key = `${fileKey(xPath)}\0${fileKey(yPath)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const xa = readNpy(xPath);
  check2d(xPath, 'x', xa);
  const ya = readNpy(yPath);
  check2d(yPath, 'y', ya);
  const [n, nx] = xa.shape;
  const [ny0, ny] = ya.shape;
  if (ny0 !== n) {
    throw new DataFileError(yPath, `y has shape ${shapeRepr(ya.shape)}: ${ny0} rows, but x (${xPath}) has shape ${shapeRepr(xa.shape)}: ${n} rows; they must have the same N`);
  }
  const x = xa.dtype === 'float32' ? xa.data : Float32Array.from(xa.data);
  const loaded: Loaded = { x, y: ya.data, n, nx, ny };
  cache.set(key, loaded);
  return loaded;
}

/**
 * A user's data from two `.npy` files: contexts x (N, nx) and visible values y (N, ny), each float32 or uint8,
 * 2-D, non-empty, finite, with the same N. uint8 x values are used as numbers (not scaled); uint8 y are pixels
 * (p = v/255, transformed like images), float32 y are used as given unless `yTransform: 'image'`.
 *
 * Splits: with V = round(N · valFraction), `perm = permutation(N, {seed, stream: Stream.split}, 0)`,
 * `train` = perm[0 : N−V], `val` = perm[N−V : N] (both in permutation order, see `trainValSplit`);
 * `all` = rows 0..N−1. Files are read once per process per (path, size, mtime).
 * @throws DataFileError naming the file and the expected and actual shape or value
 */
export function loadNpyDataset(xPath: string, yPath: string, options: NpyDatasetOptions = {}): Dataset {
  const split = options.split ?? 'all';
  const seed = options.seed ?? 1;
  const valFraction = options.valFraction ?? 0.1;
  assertSeed(seed);
  if (!(valFraction >= 0 && valFraction < 1)) throw new RangeError(`valFraction must be in [0, 1), got ${valFraction}`);
  if (split !== 'train' && split !== 'val' && split !== 'all') {
    throw new DataFileError(xPath, `npy datasets have no split '${String(split)}' (use train, val, or all for a separate test pair)`);
  }
  const { x, y, n, nx, ny } = loadPair(xPath, yPath);
  const transform: ValueTransform = options.yTransform ?? (y instanceof Uint8Array ? 'image' : 'none');
  if (transform === 'none' && y instanceof Uint8Array) {
    throw new DataFileError(yPath, "y is uint8 (pixels); yTransform 'none' needs float32 values");
  }
  if (transform === 'image' && y instanceof Float32Array) {
    for (let i = 0; i < y.length; i++) {
      if (!(y[i] >= 0 && y[i] <= 1)) {
        throw new DataFileError(yPath, `y value ${y[i]} at row ${Math.floor(i / ny)}, column ${i % ny} is outside [0, 1], which yTransform 'image' requires`);
      }
    }
  }

  let rows: Uint32Array;
  let rule: string;
  if (split === 'all') {
    rows = Uint32Array.from({ length: n }, (_, i) => i);
    rule = 'all rows in file order';
  } else {
    const valCount = Math.round(n * valFraction);
    const parts = trainValSplit(n, valCount, seed);
    rows = Uint32Array.from(split === 'train' ? parts.train : parts.val);
    if (rows.length === 0) {
      throw new DataFileError(xPath, `the ${split} split is empty: N = ${n} rows with valFraction ${valFraction} gives ${n - valCount} train and ${valCount} validation rows`);
    }
    rule = `perm = permutation(${n}, {seed: ${seed}, stream: Stream.split}, 0), train = perm[0:${n - valCount}], val = perm[${n - valCount}:${n}] (valFraction ${valFraction})`;
  }
  const all = split === 'all';
  return {
    name: 'npy',
    split,
    description: `npy ${split}: ${rows.length} of ${n} rows of x = ${xPath} (${n}, ${nx}) and y = ${yPath} (${n}, ${ny}); ${rule}; y transform '${transform}'`,
    nx,
    ny,
    count: rows.length,
    pixels: all ? y : gatherRows(y, ny, rows),
    transform,
    contexts: all ? x : gatherRows(x, nx, rows),
    sourceIndex: rows,
  };
}
