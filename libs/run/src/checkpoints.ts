/**
 * A run's checkpoints and the one rule for which of them is the latest: checkpoints/latest.json's file if it
 * loads, else the readable checkpoint with the highest global step, naming every one passed over and why. The
 * trainer resumes from it; `nbm eval`, `nbm sample` and sweeps read the model it holds.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { atomicWriteFileSync, loadCheckpoint, saveCheckpoint, type CheckpointState, type ExpectedTensor } from '@nbm/checkpoint';
import { RunDirError } from './errors.ts';
import { checkpointFiles, runPaths } from './layout.ts';

/** checkpoints/latest.json. */
interface LatestPointer {
  file: string;
  globalStep: number;
}

/**
 * Writes checkpoint `name` of run `dir`, then points checkpoints/latest.json at it (so a crash between the two
 * leaves the previous pointer, and the newer file is still found by the scan).
 * @returns the checkpoint's path
 */
export async function saveRunCheckpoint(dir: string, name: string, state: CheckpointState): Promise<string> {
  const p = runPaths(dir);
  const file = join(p.checkpoints, name);
  await saveCheckpoint(file, state);
  const pointer: LatestPointer = { file: name, globalStep: state.rng.globalStep };
  atomicWriteFileSync(p.latest, JSON.stringify(pointer) + '\n');
  return file;
}

/** A checkpoint passed over, and why. */
export interface SkippedCheckpoint {
  readonly file: string;
  readonly reason: string;
}

/** The latest checkpoint of a run (null: it wrote none) and every one passed over on the way. */
export interface LatestCheckpoint {
  readonly file: string | null;
  /** the checkpoint in `file`, loaded and checked once (null with `file`) */
  readonly checkpoint: CheckpointState | null;
  readonly skipped: readonly SkippedCheckpoint[];
}

/**
 * The latest checkpoint in a checkpoints folder by the one rule (see the module's comment).
 * @param expected the tensors a checkpoint must hold to count as readable (names and shapes), if known
 * @throws RunDirError when checkpoints exist but none of them loads
 */
async function latestIn(checkpoints: string, expected?: readonly ExpectedTensor[]): Promise<LatestCheckpoint> {
  const skipped: SkippedCheckpoint[] = [];
  const pointerFile = join(checkpoints, 'latest.json');
  let pointed: string | undefined;
  if (existsSync(pointerFile)) {
    try {
      const named = (JSON.parse(readFileSync(pointerFile, 'utf8')) as Partial<LatestPointer>).file;
      if (typeof named !== 'string' || named === '') throw new Error('names no checkpoint file');
      pointed = join(checkpoints, basename(named));
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
  for (const file of checkpointFiles(checkpoints)) {
    if (file === pointed) continue;
    try {
      const c = await loadCheckpoint(file, expected);
      if (!best || c.rng.globalStep > best.checkpoint.rng.globalStep) best = { file, checkpoint: c };
    } catch (e) {
      skipped.push({ file, reason: (e as Error).message });
    }
  }
  if (!best && skipped.some((s) => s.file !== pointerFile)) {
    throw new RunDirError(
      `${checkpoints} has checkpoints but none loads (${skipped.map((s) => `${basename(s.file)}: ${s.reason}`).join('; ')}); ` +
        'train a new run with --out, or delete the run directory to start it over',
    );
  }
  return { file: best?.file ?? null, checkpoint: best?.checkpoint ?? null, skipped };
}

/**
 * The checkpoint run `dir` continues from (see the module's comment).
 * @param expected the tensors a checkpoint must hold to count as readable, if known
 * @throws RunDirError when checkpoints exist but none of them loads
 */
export function latestCheckpoint(dir: string, expected?: readonly ExpectedTensor[]): Promise<LatestCheckpoint> {
  return latestIn(runPaths(dir).checkpoints, expected);
}

/** A checkpoint a user named, found. */
export interface NamedCheckpoint {
  /** the checkpoint file (absolute) */
  readonly file: string;
  /** the run directory it belongs to (absolute): where a report about it goes by default */
  readonly runDir: string;
  /** the file, loaded and checked once */
  readonly checkpoint: CheckpointState;
  /** checkpoints passed over on the way (a directory was named) */
  readonly skipped: readonly SkippedCheckpoint[];
}

/**
 * The checkpoint a `--checkpoint PATH` names: a file as given; a run directory, or its checkpoints/ folder, means
 * its latest checkpoint by the one rule.
 * @param flag how the path was given, for messages
 * @throws RunDirError when nothing is there, or a directory holds no readable checkpoint; CheckpointError for a
 *   named file that does not load
 */
export async function findCheckpoint(path: string, flag = '--checkpoint'): Promise<NamedCheckpoint> {
  const abs = resolve(path);
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    throw new RunDirError(`${flag} ${path}: no such file or directory`);
  }
  if (!isDir) {
    const parent = dirname(abs);
    return { file: abs, runDir: basename(parent) === 'checkpoints' ? dirname(parent) : parent, checkpoint: await loadCheckpoint(abs), skipped: [] };
  }
  const checkpoints = basename(abs) === 'checkpoints' ? abs : join(abs, 'checkpoints');
  const runDir = checkpoints === abs ? dirname(abs) : abs;
  const found = await latestIn(checkpoints);
  if (!found.file) {
    throw new RunDirError(`${flag} ${path}: no checkpoint there; name a run directory (runs/NAME, which holds checkpoints/*.safetensors) or a checkpoint file`);
  }
  return { file: found.file, runDir, checkpoint: found.checkpoint!, skipped: found.skipped };
}
