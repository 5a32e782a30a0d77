import { isLoopbackEndpoint, loadKeys } from '@nbm/runtime';
import type { ClusterOptions } from '@nbm/train';
import { UsageError } from './errors.ts';
import { intFlag, type OptionSpec } from './options.ts';
import { NBM_BIN } from './paths.ts';

/** The distributed-training flags of `nbm train` (not part of the run's config: a resume may change them). */
export const CLUSTER_FLAGS: ReadonlyArray<{ flag: string; help: string }> = [
  { flag: 'workers', help: 'spawn N local worker processes and train data-parallel over them' },
  { flag: 'gpus', help: 'comma-separated GPU indices, one per spawned worker (sets each one\'s CUDA_VISIBLE_DEVICES)' },
  { flag: 'listen', help: 'coordinator address for remote workers, e.g. tcp://0.0.0.0:5555 (needs --keys off loopback)' },
  { flag: 'expect', help: 'workers to wait for before the first step (default: --workers)' },
  { flag: 'keys', help: 'CURVE key directory from nbm keygen' },
  { flag: 'min-workers', help: 'the fewest workers the run may continue with after failures (default 1)' },
  { flag: 'hash-every', help: 'check that all replicas are bitwise equal every K steps (default 50)' },
  { flag: 'heartbeat-ms', help: 'heartbeat interval both ways (default 1000)' },
  { flag: 'timeout-ms', help: 'a worker or coordinator silent this long is lost (default 10000)' },
  { flag: 'start-timeout-ms', help: 'how long to wait for the expected workers (default 300000)' },
];

export function clusterOptionSpec(): OptionSpec {
  return Object.fromEntries(CLUSTER_FLAGS.map((f) => [f.flag, { type: 'string' as const }]));
}

/** Cluster options from the flags, or undefined for a single-process run. */
export function resolveClusterOptions(values: Record<string, unknown>): ClusterOptions | undefined {
  const workers = intFlag(values, 'workers');
  const listen = values.listen as string | undefined;
  const expectFlag = intFlag(values, 'expect');
  if (workers === undefined && listen === undefined) {
    for (const f of ['expect', 'gpus', 'keys', 'min-workers']) {
      if (values[f] !== undefined) throw new UsageError(`--${f} is for distributed runs: add --workers N or --listen ENDPOINT`);
    }
    return undefined;
  }
  if (workers !== undefined && workers < 1) throw new UsageError(`--workers must be a positive integer, got ${workers}`);
  const expect = expectFlag ?? workers;
  if (expect === undefined || expect < 1) throw new UsageError('--listen needs --expect N: how many workers to wait for');
  if (listen !== undefined && !/^tcp:\/\/.+:(\d+|\*)$/.test(listen)) throw new UsageError(`--listen must look like tcp://HOST:PORT, got '${listen}'`);
  const keys = typeof values.keys === 'string' ? loadKeys(values.keys, 'coordinator') : undefined;
  if (listen !== undefined && !isLoopbackEndpoint(listen) && !keys) {
    throw new UsageError(
      `refusing to listen on ${listen} without CURVE keys: anyone who can reach it could join the run or read its traffic. ` +
        "Make keys with 'nbm keygen DIR', copy DIR to every host, and pass --keys DIR here and to each nbm worker (or listen on 127.0.0.1)",
    );
  }
  const gpus = typeof values.gpus === 'string' ? values.gpus.split(',').map((g) => g.trim()) : undefined;
  if (gpus && (gpus.some((g) => !/^\d+$/.test(g)) || (workers !== undefined && gpus.length !== workers))) {
    throw new UsageError(`--gpus must list one GPU index per worker (${workers ?? 0}), got '${values.gpus}'`);
  }
  return {
    spawn: workers,
    workerCommand: { file: NBM_BIN, args: ['worker', ...(typeof values.keys === 'string' ? ['--keys', values.keys] : [])] },
    listen,
    expect,
    curve: keys,
    hashEvery: intFlag(values, 'hash-every') ?? 50,
    heartbeatMs: intFlag(values, 'heartbeat-ms') ?? 1000,
    timeoutMs: intFlag(values, 'timeout-ms') ?? 10_000,
    startTimeoutMs: intFlag(values, 'start-timeout-ms') ?? 300_000,
    minWorkers: intFlag(values, 'min-workers') ?? 1,
    gpus,
  };
}
