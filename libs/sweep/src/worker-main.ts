/**
 * This library's own sweep worker: `node --import tsx worker-main.ts --connect ENDPOINT`. It serves whole trials
 * (`trialEpochs`) and the training steps of a data-parallel trial (@nbm/train's trainingWorker), as `nbm worker`
 * does (which also serves sampling and evaluation, and is what `nbm sweep` spawns); the flags are `nbm worker`'s.
 *
 *   --connect ENDPOINT   the coordinator's address (required)
 *   --keys DIR           CURVE keys (nbm keygen), required off loopback
 *   --advertise HOST     the address the other workers reach this one's ring socket at (default 127.0.0.1,
 *                        which is right only when every worker is on this host)
 *   --device N           sets CUDA_VISIBLE_DEVICES=N before tfjs loads
 *   --heartbeat-ms N, --timeout-ms N
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { loadKeys, ringCurveOf, runWorker } from '@nbm/runtime';
import { trainingWorker } from '@nbm/train';
import { sweepWorker } from './worker-actor.ts';

/** The configHash sweep workers register with. */
export const SWEEP_WORKER_HASH = 'nbm-sweep/1';

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      connect: { type: 'string' },
      keys: { type: 'string' },
      advertise: { type: 'string' },
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
  const keys = values.keys ? loadKeys(values.keys, 'worker') : undefined;
  const training = trainingWorker({
    ringHost: values.advertise ?? '127.0.0.1',
    // every worker holds the same key pair, so a ring link's server key is that pair's public key
    ringCurve: keys ? ringCurveOf(keys) : undefined,
    log: say,
  });
  const end = await runWorker({
    connect: values.connect,
    info: { host: hostname(), device: process.env.CUDA_VISIBLE_DEVICES ? `cuda:${process.env.CUDA_VISIBLE_DEVICES}` : 'cpu', backend: 'unconfigured', configHash: SWEEP_WORKER_HASH },
    methods: { ...training.methods, ...sweepWorker().methods },
    curve: keys,
    heartbeatMs: int('heartbeat-ms'),
    timeoutMs: int('timeout-ms'),
    log: say,
  });
  say(end.reason);
  training.close();
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
