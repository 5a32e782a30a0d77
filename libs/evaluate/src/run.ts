/** The trained model `nbm eval` evaluates, and the data its run trained on (for the baseline and the split). */
import { loadTrainedModel, type TrainedModel } from '@nbm/run';
import { EvalError } from './errors.ts';

/** The training settings `evaluate` needs from a run's recorded configuration. */
export interface RunSettings {
  /** the training data set: 'mnist', 'fashion-mnist' or 'npy' */
  readonly dataset: 'mnist' | 'fashion-mnist' | 'npy';
  /** npy runs: the training files */
  readonly x?: string;
  readonly y?: string;
  /** the run's seed (also the seed of its train/validation split) */
  readonly seed: number;
  /** the run trained on the first N training rows only (0: all) */
  readonly trainExamples: number;
}

/** A trained model, ready to evaluate. */
export interface LoadedModel extends TrainedModel {
  readonly run: RunSettings;
}

/**
 * Loads the model a `--checkpoint PATH` names (a checkpoint file, or a run directory's latest checkpoint).
 * @throws RunDirError / CheckpointError naming the path; EvalError when the run's recorded data set is unknown
 */
export async function loadModel(path: string): Promise<LoadedModel> {
  const trained = await loadTrainedModel(path);
  const c = trained.trainConfig;
  const dataset = c.dataset;
  if (dataset !== 'mnist' && dataset !== 'fashion-mnist' && dataset !== 'npy') {
    throw new EvalError(`checkpoint ${trained.file}: its recorded configuration names no known dataset (got ${JSON.stringify(dataset)})`);
  }
  const run: RunSettings = {
    dataset,
    x: typeof c.x === 'string' ? c.x : undefined,
    y: typeof c.y === 'string' ? c.y : undefined,
    seed: trained.seed,
    trainExamples: typeof c.trainExamples === 'number' ? c.trainExamples : 0,
  };
  return { ...trained, run };
}
