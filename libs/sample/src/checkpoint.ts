import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadCheckpoint } from '@nbm/checkpoint';
import { parameterSpecs, validateModelConfig, type ModelConfig, type Parameters, type VisibleType } from '@nbm/model';
import { SampleError } from './errors.ts';

/** A trained model, ready to sample from. */
export interface LoadedModel {
  /** the checkpoint file (absolute path) */
  readonly file: string;
  readonly model: ModelConfig;
  readonly params: Parameters;
  /** {@link parametersHash} of `params`: names this exact model in sample.json */
  readonly hash: string;
  /** the training settings stored with the checkpoint (`config` of the run), if any */
  readonly trainConfig: Readonly<Record<string, unknown>>;
  /** (height, width) when the model's visible units are the pixels of an image dataset */
  readonly imageShape?: readonly [number, number];
}

/** Image datasets the trainer knows, and their picture size. */
const IMAGE_DATASETS: Readonly<Record<string, readonly [number, number]>> = { mnist: [28, 28], 'fashion-mnist': [28, 28] };

/**
 * Which checkpoint file `--checkpoint` names: a file as given; a run directory (or its `checkpoints/`) means the
 * one `checkpoints/latest.json` points to.
 * @throws SampleError when the path does not exist or the directory has no latest checkpoint
 */
export function resolveCheckpoint(path: string): string {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new SampleError(`--checkpoint ${path}: no such file or directory`);
  if (!statSync(abs).isDirectory()) return abs;
  const dir = basename(abs) === 'checkpoints' ? abs : join(abs, 'checkpoints');
  const pointer = join(dir, 'latest.json');
  if (!existsSync(pointer)) {
    throw new SampleError(`--checkpoint ${path}: a directory without checkpoints/latest.json; name a run directory (runs/NAME) or a checkpoint file (runs/NAME/checkpoints/epoch-NNN.safetensors)`);
  }
  let file: unknown;
  try {
    file = (JSON.parse(readFileSync(pointer, 'utf8')) as { file?: unknown }).file;
  } catch (e) {
    throw new SampleError(`--checkpoint ${path}: ${pointer} does not parse (${(e as Error).message})`);
  }
  if (typeof file !== 'string' || file === '') throw new SampleError(`--checkpoint ${path}: ${pointer} names no checkpoint file`);
  const target = join(dir, basename(file));
  if (!existsSync(target)) throw new SampleError(`--checkpoint ${path}: latest.json points to ${target}, which does not exist`);
  return target;
}

/** SHA-256 (hex) over the parameters' bytes in spec order: equal iff two models are bitwise equal. */
export function parametersHash(params: Parameters): string {
  const h = createHash('sha256');
  params.specs.forEach((s, i) => {
    const v = params.values[i];
    h.update(s.name);
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  });
  return h.digest('hex');
}

/**
 * The model a checkpoint holds. Sizes come from the tensors themselves (nx, width from `bias_net.net.0.weight`
 * (width, nx); ny from `bias_net.net.2.weight` (ny, width); nh from `weights_net.net.0.weight` (ny·nh, nx)); the
 * visible type from the training settings stored with it. Every tensor is then checked against the model's specs.
 * @throws CheckpointError for an unreadable, corrupt or foreign file; SampleError when it does not say its model
 */
export async function loadModel(file: string): Promise<LoadedModel> {
  const raw = await loadCheckpoint(file);
  const shape = (name: string): number[] => {
    const p = raw.params.find((t) => t.name === name);
    if (!p || p.shape.length !== 2) throw new SampleError(`checkpoint ${file}: no 2-D tensor ${name}, so it is not an NBM checkpoint`);
    return p.shape;
  };
  const [width, nx] = shape('bias_net.net.0.weight');
  const [ny] = shape('bias_net.net.2.weight');
  const [wRows] = shape('weights_net.net.0.weight');
  const record = raw.config as { config?: Record<string, unknown> };
  const trainConfig = (typeof record.config === 'object' && record.config !== null ? record.config : record) as Record<string, unknown>;
  const visible = trainConfig.visible as VisibleType | undefined;
  if (visible !== 'gaussian' && visible !== 'ising') {
    throw new SampleError(`checkpoint ${file}: its stored settings do not say whether the visible units are gaussian or ising`);
  }
  if (wRows % ny !== 0) throw new SampleError(`checkpoint ${file}: weights_net.net.0.weight has ${wRows} rows, not a multiple of ny = ${ny}`);
  const model: ModelConfig = { nx, ny, nh: wRows / ny, width, visible };
  validateModelConfig(model);
  const specs = parameterSpecs(model);
  const checked = await loadCheckpoint(file, specs.map((s) => ({ name: s.name, shape: s.shape })));
  const params: Parameters = { specs, values: checked.params.map((p) => p.data) };
  const dataset = typeof trainConfig.dataset === 'string' ? trainConfig.dataset : '';
  const image = IMAGE_DATASETS[dataset];
  const imageShape = image && image[0] * image[1] === ny ? image : undefined;
  return { file, model, params, hash: parametersHash(params), trainConfig, ...(imageShape ? { imageShape } : {}) };
}
