/**
 * The sweep's worker pool, coordinator side: binds the coordinator, spawns local worker processes (their
 * output goes to `workers.log` in the sweep directory, so the terminal keeps the table), and lets remote
 * workers join on `listen`. Which workers are free is the runner's business; this only starts and stops.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startWorkerPool, type CoordinatorCurve, type WorkerCommand, type WorkerPool } from '@nbm/runtime';

/** This library's own worker entry (serves the sweep methods only). */
export const SWEEP_WORKER_MAIN = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

/** The default worker: {@link SWEEP_WORKER_MAIN} (the pool adds `--connect ENDPOINT` and the timing flags). */
export const DEFAULT_WORKER_COMMAND: WorkerCommand = { file: SWEEP_WORKER_MAIN, args: [] };

export interface PoolOptions {
  /** local worker processes to spawn (0: none, remote workers only) */
  readonly spawn: number;
  /** what each spawned worker runs (default {@link DEFAULT_WORKER_COMMAND}); its output goes to workers.log */
  readonly command?: Omit<WorkerCommand, 'stdio'>;
  /** the coordinator's address (default tcp://127.0.0.1:*, any free port); off loopback it needs `curve` */
  readonly listen?: string;
  readonly curve?: CoordinatorCurve;
  /** heartbeat interval both ways, ms (default 1000) */
  readonly heartbeatMs?: number;
  /**
   * a worker silent this long is lost, ms (default 60 000: a worker is silent while a validation pass or a
   * picture runs synchronously, which takes seconds on the full data)
   */
  readonly timeoutMs?: number;
}

/** Binds the coordinator and spawns the local workers, their output appended to `workersLog`. */
export async function startPool(o: PoolOptions, workersLog: string, log: (line: string) => void): Promise<WorkerPool> {
  const pool = await startWorkerPool({
    job: `sweep-${randomBytes(4).toString('hex')}`,
    listen: o.listen,
    curve: o.curve,
    heartbeatMs: o.heartbeatMs,
    timeoutMs: o.timeoutMs ?? 60_000,
    spawn: o.spawn,
    command: { ...(o.command ?? DEFAULT_WORKER_COMMAND), stdio: 'pipe' },
    log,
  });
  let out: WriteStream | undefined;
  if (pool.group) {
    out = createWriteStream(workersLog, { flags: 'a' });
    for (const child of pool.group.children) {
      child.stdout?.pipe(out, { end: false });
      child.stderr?.pipe(out, { end: false });
    }
  }
  return {
    ...pool,
    async close(reason, graceMs) {
      await pool.close(reason, graceMs);
      out?.end();
    },
  };
}
