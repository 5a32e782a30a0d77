/**
 * Creating, locking and reading a run directory. config.json is written last when a run is created: its presence
 * is what makes a directory a run.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { DIR_LOCK, atomicWriteFileSync, lockDirectory, type Lock } from '@nbm/checkpoint';
import { RunDirError } from './errors.ts';
import { runPaths } from './layout.ts';
import { METRIC_COLUMNS } from './metrics.ts';

/** True when `dir` holds a run (its config.json). */
export const isRunDir = (dir: string): boolean => existsSync(runPaths(dir).config);

/** One writer per run directory (see `lockDirectory`). */
export function lockRunDir(dir: string): Promise<Lock> {
  return lockDirectory(dir, `another nbm process is training ${dir}: let it finish or stop it, or choose another --out`);
}

/**
 * Creates a new run directory recording `config` (config.json), with an empty metrics.csv and the picture and
 * checkpoint folders.
 * @throws RunDirError when `dir` already holds a run, or holds anything else but its lock
 */
export function createRunDir(dir: string, config: object): void {
  const p = runPaths(dir);
  if (existsSync(p.config)) throw new RunDirError(`run directory ${dir} already holds a run: continue it with --resume ${dir}, or choose another --out`);
  if (existsSync(dir) && readdirSync(dir).some((f) => f !== DIR_LOCK)) throw new RunDirError(`--out ${dir} exists and is not empty: choose another --out`);
  mkdirSync(p.checkpoints, { recursive: true });
  mkdirSync(p.samples, { recursive: true });
  mkdirSync(p.components, { recursive: true });
  atomicWriteFileSync(p.metrics, METRIC_COLUMNS.join(',') + '\n');
  atomicWriteFileSync(p.config, JSON.stringify(config, null, 2) + '\n');
}

/**
 * The settings a run recorded in config.json.
 * @throws RunDirError when `dir` is not a run directory or its config.json does not parse
 */
export function readRunConfig(dir: string): Record<string, unknown> {
  const p = runPaths(dir).config;
  if (!existsSync(p)) throw new RunDirError(`${dir} is not a run directory (no config.json)`);
  try {
    return JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new RunDirError(`${dir}: config.json does not parse (${(e as Error).message})`);
  }
}
