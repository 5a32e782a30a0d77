import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { atomicWriteFileSync, loadCheckpoint, saveCheckpoint } from '@nbm/checkpoint';
import { parameterSpecs, type ModelConfig } from '@nbm/model';
import { listCheckpoints, paths } from './run-dir.ts';
import type { TrainState } from './state.ts';

/** checkpoints/latest.json: which checkpoint a resume starts from (written after the checkpoint itself). */
interface LatestPointer {
  file: string;
  globalStep: number;
}

export async function writeCheckpoint(dir: string, name: string, state: TrainState, seed: number, config: object): Promise<string> {
  const file = join(paths(dir).checkpoints, name);
  await saveCheckpoint(file, {
    params: state.params.specs.map((s, i) => ({ name: s.name, shape: [...s.shape], data: state.params.values[i] })),
    optimizer: { step: state.optimizer.step, m: state.optimizer.m, v: state.optimizer.v },
    rng: { seed, epoch: state.epoch, stepInEpoch: state.stepInEpoch, globalStep: state.globalStep },
    config,
  });
  const pointer: LatestPointer = { file: name, globalStep: state.globalStep };
  atomicWriteFileSync(join(paths(dir).checkpoints, 'latest.json'), JSON.stringify(pointer) + '\n');
  return file;
}

/** The checkpoint a resume continues from: latest.json's, else the one with the highest global step. */
export async function latestCheckpoint(dir: string): Promise<string | null> {
  const pointerFile = join(paths(dir).checkpoints, 'latest.json');
  if (existsSync(pointerFile)) {
    try {
      const p = JSON.parse(readFileSync(pointerFile, 'utf8')) as LatestPointer;
      const file = join(paths(dir).checkpoints, basename(p.file));
      if (existsSync(file)) return file;
    } catch {
      // fall through to a scan
    }
  }
  let best: { file: string; step: number } | null = null;
  for (const file of listCheckpoints(dir)) {
    try {
      const c = await loadCheckpoint(file);
      if (!best || c.rng.globalStep > best.step) best = { file, step: c.rng.globalStep };
    } catch {
      // a corrupt checkpoint is skipped here; loading it explicitly reports why
    }
  }
  return best?.file ?? null;
}

/** Restores parameters, optimiser and stream position from a checkpoint, checking every shape. */
export async function restoreState(file: string, model: ModelConfig): Promise<TrainState> {
  const specs = parameterSpecs(model);
  const c = await loadCheckpoint(file, specs.map((s) => ({ name: s.name, shape: s.shape })));
  const byName = new Map(c.params.map((p, i) => [p.name, i]));
  const order = specs.map((s) => byName.get(s.name)!);
  return {
    params: { specs, values: order.map((i) => c.params[i].data) },
    optimizer: { step: c.optimizer.step, m: order.map((i) => c.optimizer.m[i]), v: order.map((i) => c.optimizer.v[i]) },
    epoch: c.rng.epoch,
    stepInEpoch: c.rng.stepInEpoch,
    globalStep: c.rng.globalStep,
    nonFiniteRun: 0,
  };
}
