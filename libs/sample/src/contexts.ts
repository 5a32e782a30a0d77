import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { readNpy } from '@nbm/data';
import { formatClasses } from './classes.ts';
import { SampleError } from './errors.ts';

/** Where the contexts x of the rows come from, as sample.json records it. */
export type ContextSpec =
  /** `perClass` rows of each class in turn, x = one-hot(class): rows [i·perClass, (i+1)·perClass) are classes[i] */
  | { readonly kind: 'classes'; readonly classes: readonly number[]; readonly perClass: number }
  /** one row per row of an .npy file; `sha256` is over its float32 values, to notice a changed file on resume */
  | { readonly kind: 'file'; readonly path: string; readonly sha256: string };

/** The contexts of a job, row by row. */
export interface ContextSource {
  readonly spec: ContextSpec;
  /** rows in the job */
  readonly count: number;
  readonly nx: number;
  /** the contexts of rows [first, first + count): (count, nx) */
  rows(first: number, count: number): Float32Array;
}

/** One-hot contexts for `perClass` rows of each class in `classes`, in that order (no memory beyond a chunk). */
export function classContexts(classes: readonly number[], perClass: number, nx: number): ContextSource {
  if (!Number.isSafeInteger(perClass) || perClass < 1) throw new SampleError(`--per-class must be a positive integer, got ${perClass}`);
  if (classes.length === 0) throw new SampleError('--classes names no class');
  for (const c of classes) {
    if (!Number.isInteger(c) || c < 0 || c >= nx) throw new SampleError(`class ${c} is out of range: the model's contexts have nx = ${nx}, so classes are 0-${nx - 1}`);
  }
  return {
    spec: { kind: 'classes', classes: [...classes], perClass },
    count: classes.length * perClass,
    nx,
    rows(first, count) {
      const x = new Float32Array(count * nx);
      for (let r = 0; r < count; r++) x[r * nx + classes[Math.floor((first + r) / perClass)]] = 1;
      return x;
    },
  };
}

/**
 * Contexts read from an .npy file of shape (n, nx) (any dtype readNpy reads: float32, float64, integers, uint8
 * taken as numbers). The file is held in memory: nx values per row, small next to the ny of each sample.
 * @throws DataFileError for an unreadable file; SampleError when its shape does not fit the model
 */
export function fileContexts(path: string, nx: number): ContextSource {
  const abs = resolve(path);
  const a = readNpy(abs);
  const shape = a.shape;
  const cols = shape.length === 2 ? shape[1] : shape.length === 1 && nx === 1 ? 1 : undefined;
  if (cols === undefined) {
    throw new SampleError(`--contexts ${path}: shape (${shape.join(', ')}) is not (rows, nx): it must be a 2-D array with one context per row`);
  }
  if (cols !== nx) throw new SampleError(`--contexts ${path}: rows of ${cols} values, but the model takes contexts of nx = ${nx}`);
  const count = shape[0];
  if (count < 1) throw new SampleError(`--contexts ${path}: holds no rows`);
  const x = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new SampleError(`--contexts ${path}: row ${Math.floor(i / nx)} holds a non-finite value (${x[i]})`);
  }
  const sha256 = createHash('sha256').update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)).digest('hex');
  return {
    spec: { kind: 'file', path: abs, sha256 },
    count,
    nx,
    rows: (first, n) => x.slice(first * nx, (first + n) * nx),
  };
}

/** A context spec in words, for logs: `classes 0-9 × 1000` or `contexts from x.npy`. */
export function describeContexts(spec: ContextSpec): string {
  return spec.kind === 'classes' ? `classes ${formatClasses(spec.classes)} × ${spec.perClass}` : `contexts from ${spec.path}`;
}
