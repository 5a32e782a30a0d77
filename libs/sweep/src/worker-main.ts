/**
 * A worker process that serves the sweep's methods only: `node --import tsx worker-main.ts --connect ENDPOINT`.
 * `nbm sweep --workers N` spawns these until `nbm worker` serves the sweep methods too (then it spawns
 * `nbm worker`); the flags are the same as `nbm worker`'s.
 *
 *   --connect ENDPOINT   the coordinator's address (required)
 *   --keys DIR           CURVE keys (nbm keygen), required off loopback
 *   --device N           sets CUDA_VISIBLE_DEVICES=N before tfjs loads
 *   --heartbeat-ms N, --timeout-ms N
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { loadKeys, runWorker } from '@nbm/runtime';
import { sweepWorker } from './worker-actor.ts';

/** The configHash sweep workers register with. */
export const SWEEP_WORKER_HASH = 'nbm-sweep/1';

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      connect: { type: 'string' },
      keys: { type: 'string' },
      device: { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      'timeout-ms': { type: 'string' },
    },
    strict: true,
  });
  if (!values.connect) throw new Error('--connect tcp://HOST:PORT is required');
  if (values.device !== undefined) {
    if (!/^\d+$/.test(values.device)) throw new Error(`--device must be a GPU index, got '${values.device}'`);
    process.env.CUDA_VISIBLE_DEVICES = values.device;
  }
  const int = (name: 'heartbeat-ms' | 'timeout-ms') => {
    const v = values[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${v}'`);
    return n;
  };
  const say = (line: string) => process.stderr.write(`sweep worker ${process.pid}: ${line}\n`);
  const end = await runWorker({
    connect: values.connect,
    info: { host: hostname(), device: process.env.CUDA_VISIBLE_DEVICES ? `cuda:${process.env.CUDA_VISIBLE_DEVICES}` : 'cpu', backend: 'unconfigured', configHash: SWEEP_WORKER_HASH },
    methods: sweepWorker().methods,
    curve: values.keys ? loadKeys(values.keys, 'worker') : undefined,
    heartbeatMs: int('heartbeat-ms'),
    timeoutMs: int('timeout-ms'),
    log: say,
  });
  say(end.reason);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`sweep worker ${process.pid}: ${e.message}\n`);
    process.exitCode = 1;
    // a job may still be unwinding (its signal is aborted): let its lock go, then leave
    setTimeout(() => process.exit(1), 2_000).unref();
  },
);
