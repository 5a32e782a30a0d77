/**
 * @nbm/data: everything about data for training, evaluating and sampling NBMs.
 * - `.npy` files: readNpy, writeNpy (atomic), NpyAppender (streamed, resumable, never looks complete early)
 * - datasets: loadDataset / loadMnist / loadFashionMnist / loadNpyDataset, with deterministic, documented splits
 * - transforms: transformRows (Gaussian / Ising units drawn afresh per read, keyed), contextsFor, oneHotContexts
 * - batching: epochOrder, batchesPerEpoch, batchRows
 */
export { DataFileError } from './errors.ts';
export { type NpyArray, type NpyWritable, readNpy, writeNpy } from './npy.ts';
export type { NpyDtype } from './npy-format.ts';
export { NpyAppender, type NpyAppenderOptions } from './npy-appender.ts';
export { type IdxArray, readIdx } from './idx.ts';
export { type Dataset, type SplitName, type ValueTransform, SPLIT_ID, gatherRows, firstRows } from './dataset.ts';
export { type TrainValSplit, trainValSplit } from './split.ts';
export { type MnistOptions, loadMnist, defaultMnistDir, MNIST_VAL_COUNT } from './mnist.ts';
export {
  type FashionOptions,
  type FashionCleaning,
  loadFashionMnist,
  fashionCleaning,
  defaultFashionDir,
  FASHION_CLASS_NAMES,
  FASHION_TEST_PER_CLASS,
  FASHION_TEST_SEED,
  FASHION_VAL_COUNT,
} from './fashion.ts';
export { type NpyDatasetOptions, loadNpyDataset } from './npy-dataset.ts';
export { type DatasetName, type DatasetSpec, loadDataset } from './load-dataset.ts';
export {
  type VisibleType,
  transformRows,
  oneHotContexts,
  contextsFor,
  GAUSSIAN_NOISE_STD,
  ISING_CLAMP,
} from './transforms.ts';
export { epochOrder, batchesPerEpoch, batchRows } from './batches.ts';
