/** The splits a dataset can be asked for. `all` is every row of a user's npy files, in file order. */
export type SplitName = 'train' | 'val' | 'test' | 'all';

/**
 * Split ids, for the `c` counter of `Stream.dataEval` reads (see @nbm/random's stream table), so that
 * validation and test reads of the same example index draw different numbers.
 */
export const SPLIT_ID: Readonly<Record<SplitName, number>> = { train: 0, val: 1, test: 2, all: 3 };

/**
 * How stored values become visible units:
 * - `image`: values are intensities p ∈ [0,1] (uint8 v → p = v/255, float32 taken as p), transformed afresh at
 *   every read into Gaussian `2p − 1 + 1e-3·ε` or Ising `±1` units (see `transformRows`);
 * - `none`: float32 values are the visible units as given (user data already in the model's units).
 */
export type ValueTransform = 'image' | 'none';

/**
 * One split of a dataset, held in memory. Everything is C order; a row is one example.
 * Datasets are cached and shared within a process: treat the arrays as read-only.
 */
export interface Dataset {
  /** 'mnist', 'fashion-mnist' or 'npy' */
  readonly name: string;
  readonly split: SplitName;
  /** How this split was made, in words (sources, cleaning, split rule, seeds). */
  readonly description: string;
  /** context size (10, one-hot class, for the image sets) */
  readonly nx: number;
  /** visible size (784 for 28×28 images) */
  readonly ny: number;
  /** number of rows */
  readonly count: number;
  /** (height, width) when rows are images */
  readonly imageShape?: readonly [number, number];
  /** number of classes, for labelled sets */
  readonly classes?: number;
  /** a name per class, for labelled sets */
  readonly classNames?: readonly string[];
  /** (count, ny) raw stored values: uint8 pixels, or float32 values */
  readonly pixels: Uint8Array | Float32Array;
  /** what the stored values mean, see `ValueTransform` */
  readonly transform: ValueTransform;
  /** (count,) class labels in [0, classes), for labelled sets */
  readonly labels?: Uint8Array;
  /** (count, nx) stored contexts, for sets without labels (user npy data) */
  readonly contexts?: Float32Array;
  /**
   * (count,) where each row came from: the index in the source collection (MNIST: the training or test file;
   * FashionMNIST: the cleaned pool, see fashion.ts; npy: the row in the files).
   */
  readonly sourceIndex: Uint32Array;
}

/**
 * Copies the rows `indices` of a (n, width) array into a new (indices.length, width) array of the same type.
 */
export function gatherRows<T extends Uint8Array | Float32Array>(source: T, width: number, indices: ArrayLike<number>): T {
  const out = (source instanceof Float32Array ? new Float32Array(indices.length * width) : new Uint8Array(indices.length * width)) as T;
  for (let r = 0; r < indices.length; r++) {
    const from = indices[r] * width;
    out.set(source.subarray(from, from + width), r * width);
  }
  return out;
}

/** Copies `values[indices[r]]` into a new Uint8Array. */
export function gatherValues(values: Uint8Array, indices: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(indices.length);
  for (let r = 0; r < indices.length; r++) out[r] = values[indices[r]];
  return out;
}

/**
 * The first n rows of a dataset, as views (all rows when n is 0 or at least the count): what `--train-examples`
 * trains on, so what a baseline fitted to "the run's training data" must read too.
 */
export function firstRows(d: Dataset, n: number): Dataset {
  if (n <= 0 || n >= d.count) return d;
  return {
    ...d,
    count: n,
    pixels: d.pixels.subarray(0, n * d.ny),
    labels: d.labels?.subarray(0, n),
    contexts: d.contexts?.subarray(0, n * d.nx),
    sourceIndex: d.sourceIndex.subarray(0, n),
    description: `${d.description} (first ${n} rows only)`,
  };
}
