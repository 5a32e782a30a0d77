import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadCheckpoint } from '@nbm/checkpoint';
import { parameterSpecs, type ModelConfig, type Parameters } from '@nbm/model';
import { EvalError } from './errors.ts';

/** The training settings `evaluate` needs from a checkpoint's recorded run configuration. */
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
export interface LoadedModel {
  /** the checkpoint file read */
  readonly file: string;
  /** the run directory it belongs to (where eval.json goes by default) */
  readonly runDir: string;
  readonly model: ModelConfig;
  readonly params: Parameters;
  readonly run: RunSettings;
  /** where training stood: optimiser steps taken, and the epoch of the next step */
  readonly globalStep: number;
  readonly epoch: number;
}

/**
 * The checkpoint file `--checkpoint` names: a file as given; for a directory (a run directory, or its
 * `checkpoints/`), the one `checkpoints/latest.json` points to, else the one with the highest global step.
 * @throws EvalError when nothing is there or the directory holds no checkpoint
 */
export async function resolveCheckpoint(path: string): Promise<{ file: string; runDir: string }> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new EvalError(`--checkpoint ${path}: no such file or directory`);
  }
  if (!isDir) {
    const parent = dirname(path);
    return { file: path, runDir: basename(parent) === 'checkpoints' ? dirname(parent) : parent };
  }
  const nested = join(path, 'checkpoints');
  const dir = existsSync(nested) && statSync(nested).isDirectory() ? nested : path;
  const runDir = dir === nested ? path : basename(dir) === 'checkpoints' ? dirname(dir) : dir;
  const pointer = join(dir, 'latest.json');
  if (existsSync(pointer)) {
    try {
      const named = JSON.parse(readFileSync(pointer, 'utf8')) as { file?: unknown };
      if (typeof named.file === 'string') {
        const file = join(dir, basename(named.file));
        if (existsSync(file)) return { file, runDir };
      }
    } catch {
      // an unreadable pointer: fall back to the scan below
    }
  }
  let best: { file: string; step: number } | undefined;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.safetensors')).sort()) {
    const file = join(dir, name);
    try {
      const c = await loadCheckpoint(file);
      if (!best || c.rng.globalStep > best.step) best = { file, step: c.rng.globalStep };
    } catch {
      // a damaged file is skipped here; naming it explicitly reports why
    }
  }
  if (!best) throw new EvalError(`--checkpoint ${path}: no readable checkpoint in ${dir} (a run directory holds checkpoints/*.safetensors)`);
  return { file: best.file, runDir };
}

/** The run settings inside a checkpoint's `nbm.config` (the trainer stores `{seed, config: TrainConfig}`). */
function runSettings(file: string, raw: object): RunSettings & { visible: 'gaussian' | 'ising' } {
  const outer = raw as Record<string, unknown>;
  const c = (outer.config && typeof outer.config === 'object' ? outer.config : outer) as Record<string, unknown>;
  const visible = c.visible;
  if (visible !== 'gaussian' && visible !== 'ising') {
    throw new EvalError(`checkpoint ${file}: its recorded configuration does not say the visible unit type (gaussian or ising)`);
  }
  const dataset = c.dataset;
  if (dataset !== 'mnist' && dataset !== 'fashion-mnist' && dataset !== 'npy') {
    throw new EvalError(`checkpoint ${file}: its recorded configuration names no known dataset (got ${JSON.stringify(dataset)})`);
  }
  const seed = typeof c.seed === 'number' ? c.seed : typeof outer.seed === 'number' ? outer.seed : 1;
  return {
    visible,
    dataset,
    x: typeof c.x === 'string' ? c.x : undefined,
    y: typeof c.y === 'string' ? c.y : undefined,
    seed,
    trainExamples: typeof c.trainExamples === 'number' ? c.trainExamples : 0,
  };
}

/**
 * Loads a checkpoint and works out the model from it: nx and the networks' width from `bias_net.net.0.weight`
 * (width, nx), ny from `bias_net.net.2.weight` (ny, width), nh from `weights_net.net.0.weight` (ny·nh, nx); the
 * visible unit type from the recorded configuration. Every parameter's shape is then checked against that model.
 * @throws EvalError / CheckpointError naming the file and the problem
 */
export async function loadModel(path: string): Promise<LoadedModel> {
  const { file, runDir } = await resolveCheckpoint(path);
  const c = await loadCheckpoint(file);
  const settings = runSettings(file, c.config);
  const shape = (name: string) => {
    const p = c.params.find((q) => q.name === name);
    if (!p) throw new EvalError(`checkpoint ${file}: no parameter ${name}, so it is not an NBM checkpoint`);
    return p.shape;
  };
  const [width, nx] = shape('bias_net.net.0.weight');
  const [ny] = shape('bias_net.net.2.weight');
  const [outputs] = shape('weights_net.net.0.weight');
  const nh = outputs / ny;
  if (!Number.isInteger(nh) || nh < 1) {
    throw new EvalError(`checkpoint ${file}: weights_net.net.0.weight has ${outputs} outputs, not a multiple of ny = ${ny}`);
  }
  const model: ModelConfig = { nx, ny, nh, width, visible: settings.visible };
  const specs = parameterSpecs(model);
  const values = specs.map((s) => {
    const p = c.params.find((q) => q.name === s.name);
    if (!p) throw new EvalError(`checkpoint ${file}: missing parameter ${s.name}`);
    if (p.shape.join(',') !== s.shape.join(',')) {
      throw new EvalError(`checkpoint ${file}: ${s.name} has shape [${p.shape.join(',')}], expected [${s.shape.join(',')}] for nx ${nx}, ny ${ny}, nh ${nh}, width ${width}`);
    }
    return p.data;
  });
  const { visible: _visible, ...run } = settings;
  return { file, runDir, model, params: { specs, values }, run, globalStep: c.rng.globalStep, epoch: c.rng.epoch };
}
