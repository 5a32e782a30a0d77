/**
 * @nbm/data: everything about data for training, evaluating and sampling NBMs.
 * - `.npy` files: readNpy, writeNpy (atomic), NpyAppender (streamed, resumable, never looks complete early)
 * - datasets: loadDataset / loadMnist / loadFashionMnist / loadNpyDataset, with deterministic, documented splits
 * - transforms: transformRows (Gaussian / Ising units drawn afresh per read, keyed), contextsFor, oneHotContexts
 * - batching: epochOrder, batchesPerEpoch, batchRows
 */
export { DataFileError } from './errors.ts';
export { type NpyArray, type NpyWritable, readNpy, writeNpy } from './npy.ts';
export { NpyAppender, type NpyAppenderOptions } from './npy-appender.ts';
export { type Dataset, type SplitName, type ValueTransform, SPLIT_ID, firstRows } from './dataset.ts';
export { type NpyDatasetOptions } from './npy-dataset.ts';
export { type DatasetName, type DatasetSpec, loadDataset } from './load-dataset.ts';
export { type VisibleType, transformRows, contextsFor, GAUSSIAN_NOISE_STD, ISING_CLAMP } from './transforms.ts';
export { epochOrder, batchesPerEpoch, batchRows } from './batches.ts';
