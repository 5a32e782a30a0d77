/**
 * The trained model a checkpoint holds. A checkpoint stores its tensors and the run's settings (`{seed, config}`,
 * config being the run's TrainConfig); the model's sizes are read from the tensors themselves:
 * nx and the networks' width from `bias_net.net.0.weight` (width, nx), ny from `bias_net.net.2.weight`
 * (ny, width), nh from `weights_net.net.0.weight` (ny·nh, nx); the visible unit type from the settings.
 */
import { createHash } from 'node:crypto';
import type { CheckpointState, ExpectedTensor } from '@nbm/checkpoint';
import { parameterSpecs, validateModelConfig, type ModelConfig, type Parameters, type VisibleType } from '@nbm/model';
import { findCheckpoint, type SkippedCheckpoint } from './checkpoints.ts';
import { RunDirError } from './errors.ts';

/** The tensors a checkpoint of `model` holds: every parameter's name and shape. */
export function expectedTensors(model: ModelConfig): ExpectedTensor[] {
  return parameterSpecs(model).map((s) => ({ name: s.name, shape: s.shape }));
}

/** SHA-256 (hex) over the parameters' names and bytes in spec order: equal iff two models are bitwise equal. */
export function parametersHash(params: Parameters): string {
  const h = createHash('sha256');
  params.specs.forEach((s, i) => {
    const v = params.values[i];
    h.update(s.name);
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  });
  return h.digest('hex');
}

/** A trained model, loaded from a checkpoint. */
export interface TrainedModel {
  /** the checkpoint file read (absolute) */
  readonly file: string;
  /** the run directory it belongs to */
  readonly runDir: string;
  readonly model: ModelConfig;
  /** the parameters, in `parameterSpecs(model)` order */
  readonly params: Parameters;
  /** {@link parametersHash} of `params` */
  readonly hash: string;
  /** the run's training settings as recorded (its TrainConfig) */
  readonly trainConfig: Readonly<Record<string, unknown>>;
  /** the run's seed */
  readonly seed: number;
  /** where training stood: optimiser steps taken, and the epoch of the next step */
  readonly globalStep: number;
  readonly epoch: number;
  /** checkpoints passed over to find this one */
  readonly skipped: readonly SkippedCheckpoint[];
}

/**
 * The model in checkpoint `c` (see the module's comment), every tensor checked against it.
 * @throws RunDirError naming the file when it is not an NBM checkpoint or its tensors disagree
 */
export function modelOfCheckpoint(file: string, c: CheckpointState): { model: ModelConfig; params: Parameters; trainConfig: Record<string, unknown>; seed: number } {
  const shape = (name: string): number[] => {
    const p = c.params.find((t) => t.name === name);
    if (!p || p.shape.length !== 2) throw new RunDirError(`checkpoint ${file}: no 2-D tensor ${name}, so it is not an NBM checkpoint`);
    return p.shape;
  };
  const [width, nx] = shape('bias_net.net.0.weight');
  const [ny] = shape('bias_net.net.2.weight');
  const [wRows] = shape('weights_net.net.0.weight');
  const record = c.config as { config?: unknown; seed?: unknown };
  const trainConfig = (typeof record.config === 'object' && record.config !== null ? record.config : record) as Record<string, unknown>;
  const visible = trainConfig.visible as VisibleType | undefined;
  if (visible !== 'gaussian' && visible !== 'ising') {
    throw new RunDirError(`checkpoint ${file}: its recorded settings do not say whether the visible units are gaussian or ising`);
  }
  if (wRows % ny !== 0) throw new RunDirError(`checkpoint ${file}: weights_net.net.0.weight has ${wRows} rows, not a multiple of ny = ${ny}`);
  const model: ModelConfig = { nx, ny, nh: wRows / ny, width, visible };
  validateModelConfig(model);
  const specs = parameterSpecs(model);
  const values = specs.map((s) => {
    const p = c.params.find((t) => t.name === s.name);
    if (!p) throw new RunDirError(`checkpoint ${file}: missing parameter ${s.name}`);
    if (p.shape.join(',') !== s.shape.join(',')) {
      throw new RunDirError(`checkpoint ${file}: ${s.name} has shape [${p.shape.join(',')}], expected [${s.shape.join(',')}] for nx ${nx}, ny ${ny}, nh ${model.nh}, width ${width}`);
    }
    return p.data;
  });
  const seed = typeof trainConfig.seed === 'number' ? trainConfig.seed : typeof record.seed === 'number' ? record.seed : 1;
  return { model, params: { specs, values }, trainConfig, seed };
}

/**
 * Loads the trained model a `--checkpoint PATH` names: a checkpoint file, or a run directory (its latest
 * checkpoint by the one rule, see `findCheckpoint`).
 * @param flag how the path was given, for messages
 * @throws RunDirError / CheckpointError naming the path and the problem
 */
export async function loadTrainedModel(path: string, flag = '--checkpoint'): Promise<TrainedModel> {
  const found = await findCheckpoint(path, flag);
  const { model, params, trainConfig, seed } = modelOfCheckpoint(found.file, found.checkpoint);
  return {
    file: found.file, runDir: found.runDir, model, params, hash: parametersHash(params), trainConfig, seed,
    globalStep: found.checkpoint.rng.globalStep, epoch: found.checkpoint.rng.epoch, skipped: found.skipped,
  };
}
