/** The trained model `nbm sample` draws from, and the picture size of its visible units when they are an image's pixels. */
import { loadTrainedModel, type TrainedModel } from '@nbm/run';

/** A trained model, ready to sample from. */
export interface LoadedModel extends TrainedModel {
  /** (height, width) when the model's visible units are the pixels of an image dataset */
  readonly imageShape?: readonly [number, number];
}

/** Image datasets the trainer knows, and their picture size. */
const IMAGE_DATASETS: Readonly<Record<string, readonly [number, number]>> = { mnist: [28, 28], 'fashion-mnist': [28, 28] };

/**
 * Loads the model a `--checkpoint PATH` names: a checkpoint file, or a run directory's latest checkpoint.
 * @throws RunDirError / CheckpointError naming the path and the problem
 */
export async function loadModel(path: string): Promise<LoadedModel> {
  const trained = await loadTrainedModel(path);
  const dataset = typeof trained.trainConfig.dataset === 'string' ? trained.trainConfig.dataset : '';
  const image = IMAGE_DATASETS[dataset];
  return image && image[0] * image[1] === trained.model.ny ? { ...trained, imageShape: image } : trained;
}
