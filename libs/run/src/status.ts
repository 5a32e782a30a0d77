/**
 * Where a run stands, for `nbm status`: its last logged step and validation from metrics.csv, and for a
 * distributed run the worker pool in status.json (which the coordinator rewrites on every change).
 */
import { existsSync, readFileSync } from 'node:fs';
import { atomicWriteFileSync } from '@nbm/checkpoint';
import { RunDirError } from './errors.ts';
import { isRunDir } from './directory.ts';
import { runPaths } from './layout.ts';
import { readMetrics } from './metrics.ts';

/** One worker of a distributed run's pool. */
export interface MemberStatus {
  rank: number;
  id: string;
  host: string;
  pid: number;
  device: string;
  backend: string;
  lastHeartbeat: string;
}

/** status.json: who is in the pool. */
export interface PoolStatus {
  endpoint: string;
  world: number;
  members: MemberStatus[];
  /** ISO time of the write */
  updatedAt: string;
}

/** Rewrites the run's status.json (atomically). */
export function writePoolStatus(dir: string, s: Omit<PoolStatus, 'updatedAt'>): void {
  atomicWriteFileSync(runPaths(dir).status, JSON.stringify({ ...s, updatedAt: new Date().toISOString() }, null, 2) + '\n');
}

/** A metrics.csv row's headline numbers. */
export interface RowSummary {
  readonly epoch: number;
  readonly step: number;
  readonly cdLoss: number;
  readonly mseBias: number;
  readonly worldSize: number;
}

export interface RunStatus {
  /** the last logged training step, if any */
  readonly lastTrain?: RowSummary;
  /** the last validation, if any */
  readonly lastVal?: RowSummary;
  /** the pool of a distributed run (status.json), if it has one */
  readonly pool?: PoolStatus;
}

const summary = (r: Record<string, string> | undefined): RowSummary | undefined =>
  r && { epoch: Number(r.epoch), step: Number(r.step), cdLoss: Number(r.cd_loss), mseBias: Number(r.mse_bias), worldSize: Number(r.world_size) };

/**
 * Where run `dir` stands.
 * @throws RunDirError when `dir` is not a run directory, or its status.json does not parse
 */
export function readRunStatus(dir: string): RunStatus {
  if (!isRunDir(dir)) throw new RunDirError(`${dir} is not a run directory (no config.json)`);
  const rows = readMetrics(dir);
  const file = runPaths(dir).status;
  let pool: PoolStatus | undefined;
  if (existsSync(file)) {
    try {
      pool = JSON.parse(readFileSync(file, 'utf8')) as PoolStatus;
    } catch (e) {
      throw new RunDirError(`${file} does not parse (${(e as Error).message}); it is rewritten while the run's coordinator runs`);
    }
  }
  return { lastTrain: summary(rows.filter((r) => r.kind === 'train').at(-1)), lastVal: summary(rows.filter((r) => r.kind === 'val').at(-1)), ...(pool ? { pool } : {}) };
}
