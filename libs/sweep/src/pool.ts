/**
 * The sweep's worker pool, coordinator side: binds the coordinator, spawns local worker processes (their
 * output goes to `workers.log` in the sweep directory, so the terminal keeps the table), and lets remote
 * workers join on `listen`. Which workers are free is the runner's business; this only starts and stops.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Coordinator, spawnLocalWorkers, type CoordinatorCurve, type LocalWorkerGroup } from '@nbm/runtime';

/** This library's own worker entry (serves the sweep methods only). */
export const SWEEP_WORKER_MAIN = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

/** What a spawned worker runs: `file` with `args(endpoint, index)`. */
export interface SweepWorkerCommand {
  readonly file: string;
  readonly args: (endpoint: string, index: number) => string[];
}

/** The default: {@link SWEEP_WORKER_MAIN} `--connect ENDPOINT`. */
export const DEFAULT_WORKER_COMMAND: SweepWorkerCommand = { file: SWEEP_WORKER_MAIN, args: (endpoint) => ['--connect', endpoint] };

export interface PoolOptions {
  /** local worker processes to spawn (0: none, remote workers only) */
  readonly spawn: number;
  /** what each spawned worker runs (default {@link DEFAULT_WORKER_COMMAND}) */
  readonly command?: SweepWorkerCommand;
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

export interface Pool {
  readonly coordinator: Coordinator;
  readonly group?: LocalWorkerGroup;
  /** Shuts the coordinator down (the workers exit) and waits a little for the spawned processes. */
  close(reason: string): Promise<void>;
}

/** Binds the coordinator and spawns the local workers. */
export async function startPool(o: PoolOptions, workersLog: string, log: (line: string) => void): Promise<Pool> {
  const coordinator = await Coordinator.bind({
    bind: o.listen ?? 'tcp://127.0.0.1:*',
    run: `sweep-${randomBytes(4).toString('hex')}`,
    curve: o.curve,
    heartbeatMs: o.heartbeatMs,
    timeoutMs: o.timeoutMs ?? 60_000,
    log,
  });
  let group: LocalWorkerGroup | undefined;
  let out: WriteStream | undefined;
  if (o.spawn > 0) {
    const command = o.command ?? DEFAULT_WORKER_COMMAND;
    const endpoint = coordinator.endpoint.replace('tcp://0.0.0.0:', 'tcp://127.0.0.1:');
    try {
      group = spawnLocalWorkers(o.spawn, { file: command.file, args: (i) => command.args(endpoint, i), stdio: 'pipe' });
    } catch (e) {
      await coordinator.shutdown('the workers could not be spawned');
      throw e;
    }
    out = createWriteStream(workersLog, { flags: 'a' });
    for (const child of group.children) {
      child.stdout?.pipe(out, { end: false });
      child.stderr?.pipe(out, { end: false });
    }
  }
  return {
    coordinator,
    group,
    async close(reason) {
      await coordinator.shutdown(reason);
      await group?.stop();
      out?.end();
    },
  };
}
