import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { atomicWriteFileSync, loadCheckpoint, saveCheckpoint, type CheckpointState, type ExpectedTensor } from '@nbm/checkpoint';
import { parameterSpecs, type ModelConfig } from '@nbm/model';
import { listCheckpoints, paths } from './run-dir.ts';
import { ConfigError } from './config.ts';
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

/** A checkpoint a resume passed over, and why. */
export interface SkippedCheckpoint {
  readonly file: string;
  readonly reason: string;
}

/** Where a resume starts: the checkpoint (null: the run never wrote one) and every one passed over on the way. */
export interface ResumePoint {
  readonly file: string | null;
  /** the checkpoint in `file`, loaded and checked once (null with `file`) */
  readonly checkpoint: CheckpointState | null;
  readonly skipped: readonly SkippedCheckpoint[];
}

/**
 * The one rule for the checkpoint a run continues from: latest.json's, if it loads; else the readable checkpoint
 * with the highest global step. Every checkpoint passed over is named with its reason. A directory whose
 * checkpoints are all unreadable is refused rather than silently started over.
 * @param expected the tensors a checkpoint must hold to count as readable (names and shapes), if known
 * @throws ConfigError when checkpoints exist but none of them loads
 */
export async function resumePoint(dir: string, expected?: readonly ExpectedTensor[]): Promise<ResumePoint> {
  const checkpoints = paths(dir).checkpoints;
  const skipped: SkippedCheckpoint[] = [];
  const pointerFile = join(checkpoints, 'latest.json');
  let pointed: string | undefined;
  if (existsSync(pointerFile)) {
    try {
      pointed = join(checkpoints, basename((JSON.parse(readFileSync(pointerFile, 'utf8')) as LatestPointer).file));
    } catch (e) {
      skipped.push({ file: pointerFile, reason: `unreadable (${(e as Error).message})` });
    }
  }
  if (pointed !== undefined) {
    try {
      return { file: pointed, checkpoint: await loadCheckpoint(pointed, expected), skipped };
    } catch (e) {
      skipped.push({ file: pointed, reason: existsSync(pointed) ? (e as Error).message : 'named by latest.json but missing' });
    }
  }
  let best: { file: string; checkpoint: CheckpointState } | null = null;
  for (const file of listCheckpoints(dir)) {
    if (file === pointed) continue;
    try {
      const c = await loadCheckpoint(file, expected);
      if (!best || c.rng.globalStep > best.checkpoint.rng.globalStep) best = { file, checkpoint: c };
    } catch (e) {
      skipped.push({ file, reason: (e as Error).message });
    }
  }
  if (!best && skipped.length > 0) {
    throw new ConfigError(
      `${dir} has checkpoints but none loads (${skipped.map((s) => `${basename(s.file)}: ${s.reason}`).join('; ')}); ` +
        'train a new run with --out, or delete the run directory to start it over',
    );
  }
  return { file: best?.file ?? null, checkpoint: best?.checkpoint ?? null, skipped };
}

/** The checkpoint a resume continues from (see {@link resumePoint}), or null when the run wrote none. */
export async function latestCheckpoint(dir: string): Promise<string | null> {
  return (await resumePoint(dir)).file;
}

/** The tensors a checkpoint of `model` holds: every parameter's name and shape. */
export function expectedTensors(model: ModelConfig): ExpectedTensor[] {
  return parameterSpecs(model).map((s) => ({ name: s.name, shape: s.shape }));
}

/** Parameters, optimiser and stream position of a checkpoint loaded with {@link expectedTensors}. */
export function restoreState(c: CheckpointState, model: ModelConfig): TrainState {
  const specs = parameterSpecs(model);
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
