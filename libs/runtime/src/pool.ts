/**
 * A coordinator and its workers: the one setup every job on the worker pool shares (training, sampling,
 * evaluation, sweeps). It binds the coordinator, spawns local worker processes pointed at it (a wildcard
 * listen address is reached over loopback), and waits for the expected workers, spawned and remote, to join.
 * What the workers are then asked to do is the job's business.
 */
import type { CoordinatorCurve } from './curve.ts';
import { Coordinator, type WorkerHandle } from './coordinator.ts';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_TIMEOUT_MS } from './defaults.ts';
import { WaitTimeoutError } from './errors.ts';
import { spawnLocalWorkers, type LocalWorkerGroup, type WorkerCommand } from './spawn.ts';

export interface WorkerPoolOptions {
  /** names the job on the wire (the coordinator's run id): workers of another job are refused */
  readonly job: string;
  /** the coordinator's address (default tcp://127.0.0.1:*, any free port); off loopback it needs `curve` */
  readonly listen?: string;
  readonly curve?: CoordinatorCurve;
  /** heartbeat interval both ways, ms (default DEFAULT_HEARTBEAT_MS) */
  readonly heartbeatMs?: number;
  /** a peer silent this long is lost, ms (default DEFAULT_TIMEOUT_MS) */
  readonly timeoutMs?: number;
  /** local worker processes to spawn (default 0) */
  readonly spawn?: number;
  /**
   * What each spawned worker runs; `--connect ENDPOINT --heartbeat-ms H --timeout-ms T` are appended, so both
   * sides agree on the timing. Needed when `spawn` > 0.
   */
  readonly command?: WorkerCommand;
  readonly log?: (line: string) => void;
}

export interface WorkerPool {
  readonly coordinator: Coordinator;
  /** the spawned processes, if any */
  readonly group?: LocalWorkerGroup;
  /** where remote workers connect: the bound address (a port of `*` resolved) */
  readonly endpoint: string;
  /**
   * The line telling an operator where workers join (`coordinator listening on …`; launch scripts read the port
   * from it). `expect`: the number waited for, if any.
   */
  announcement(expect?: number): string;
  /**
   * Waits until `n` workers have joined.
   * @throws WaitTimeoutError after `timeoutMs`, saying how to start the missing workers when the pool listens
   */
  waitForWorkers(n: number, timeoutMs: number): Promise<WorkerHandle[]>;
  /** Shuts the coordinator down (the workers exit), then gives spawned processes `graceMs` before SIGKILL. */
  close(reason: string, graceMs?: number): Promise<void>;
}

/** The address a process on this host reaches a coordinator bound to `endpoint` at (a wildcard means loopback). */
export function localEndpoint(endpoint: string): string {
  return endpoint.replace(/^tcp:\/\/(0\.0\.0\.0|\*):/, 'tcp://127.0.0.1:').replace(/^tcp:\/\/\[::\]:/, 'tcp://[::1]:');
}

/** Binds the coordinator and spawns the local workers; on a failure, whatever started is stopped again. */
export async function startWorkerPool(o: WorkerPoolOptions): Promise<WorkerPool> {
  const spawn = o.spawn ?? 0;
  if (!Number.isInteger(spawn) || spawn < 0) throw new RangeError(`spawn must be a non-negative integer, got ${spawn}`);
  if (spawn > 0 && !o.command) throw new Error('spawning workers needs the command that starts one');
  const heartbeatMs = o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const listening = o.listen !== undefined;
  const coordinator = await Coordinator.bind({ bind: o.listen ?? 'tcp://127.0.0.1:*', run: o.job, curve: o.curve, heartbeatMs, timeoutMs, log: o.log });
  const joinCommand = `nbm worker --connect ${coordinator.endpoint}${o.curve ? ' --keys DIR' : ''}`;
  let group: LocalWorkerGroup | undefined;
  if (spawn > 0) {
    const command = o.command!;
    const connect = ['--connect', localEndpoint(coordinator.endpoint), '--heartbeat-ms', String(heartbeatMs), '--timeout-ms', String(timeoutMs)];
    const base = command.args;
    try {
      group = spawnLocalWorkers(spawn, { ...command, args: typeof base === 'function' ? (i: number) => [...base(i), ...connect] : [...base, ...connect] });
    } catch (e) {
      await coordinator.shutdown('the workers could not be spawned');
      throw e;
    }
  }
  return {
    coordinator,
    group,
    endpoint: coordinator.endpoint,
    announcement: (expect) =>
      `coordinator listening on ${coordinator.endpoint}${o.curve ? ' (CURVE)' : ''}; ` +
      (expect === undefined ? `workers join with: ${joinCommand}` : `waiting for ${expect} worker(s): ${joinCommand}`),
    waitForWorkers: (n, waitMs) =>
      coordinator.waitForWorkers(n, waitMs).catch((e: unknown) => {
        if (e instanceof WaitTimeoutError && listening) throw e.withHint(`start them with '${joinCommand}' (or wait longer: --start-timeout-ms)`);
        throw e;
      }),
    async close(reason, graceMs) {
      await coordinator.shutdown(reason).catch(() => undefined);
      await group?.stop(graceMs);
    },
  };
}
