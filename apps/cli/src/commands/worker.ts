import { hostname } from 'node:os';
import { createSocket } from 'node:dgram';
import { evalWorker } from '@nbm/evaluate';
import { isLoopbackEndpoint, loadKeys, ringCurveOf, runWorker } from '@nbm/runtime';
import { samplingWorker } from '@nbm/sample';
import { sweepWorker } from '@nbm/sweep';
import { trainingWorker } from '@nbm/train';
import { UsageError } from '../errors.ts';
import { intFlag, parseFlags } from '../options.ts';

export const WORKER_HELP = `nbm worker --connect tcp://HOST:PORT [options]: serve a coordinator as one worker (one per GPU)
  --connect ENDPOINT     the coordinator's address (nbm train --listen …)
  --keys DIR             CURVE keys from nbm keygen (required unless the coordinator is on loopback)
  --device N             the GPU this worker uses: WebGPU adapter N (--kernel webgpu), and CUDA_VISIBLE_DEVICES=N
                         before tfjs loads; where the launcher already shows each process one GPU, leave it unset
  --advertise HOST       the address other workers reach this one's ring socket at (default: the local
                         address that routes to the coordinator)
  --heartbeat-ms N       heartbeat interval (default 1000)
  --timeout-ms N         give up when the coordinator is silent this long (default 10000)
  --verbose              log the control plane (registration, calls, shutdown)`;

/** The local address this host uses to reach `host` (no packet is sent: a UDP connect only picks a route). */
async function localAddressTowards(host: string): Promise<string> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(9, host, () => resolve());
    });
    return socket.address().address;
  } finally {
    socket.close();
  }
}

export async function workerCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    connect: { type: 'string' },
    keys: { type: 'string' },
    device: { type: 'string' },
    advertise: { type: 'string' },
    'heartbeat-ms': { type: 'string' },
    'timeout-ms': { type: 'string' },
    verbose: { type: 'boolean' },
  }, 'worker');
  if (values.help) {
    console.log(WORKER_HELP);
    return 0;
  }
  const connect = values.connect as string | undefined;
  if (!connect) throw new UsageError('--connect tcp://HOST:PORT is required (the coordinator\'s --listen address)');
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)$/.exec(connect);
  if (!m) throw new UsageError(`--connect must look like tcp://HOST:PORT, got '${connect}'`);
  if (values.device !== undefined) {
    if (!/^\d+$/.test(String(values.device))) throw new UsageError(`--device must be a GPU index, got '${values.device}'`);
    process.env.CUDA_VISIBLE_DEVICES = String(values.device);
  }
  const loopback = isLoopbackEndpoint(connect);
  const keys = typeof values.keys === 'string' ? loadKeys(values.keys, 'worker') : undefined;
  if (!loopback && !keys) {
    throw new UsageError(`refusing to connect to ${connect} without CURVE keys: traffic off this machine must be encrypted; make keys with 'nbm keygen DIR', copy DIR to every host, and pass --keys DIR`);
  }
  const ringHost = (values.advertise as string | undefined) ?? (loopback ? '127.0.0.1' : await localAddressTowards(m[1].replace(/^\[|\]$/g, '')));
  const say = (line: string) => console.error(`worker ${process.pid}: ${line}`);
  const verbose = values.verbose ? say : () => {};
  const worker = trainingWorker({
    ringHost,
    ringCurve: keys ? ringCurveOf(keys) : undefined,
    log: say,
    device: values.device !== undefined ? Number(values.device) : undefined,
  });
  const sampler = samplingWorker({ device: values.device !== undefined ? Number(values.device) : undefined });
  const evaluator = evalWorker();
  const device = values.device !== undefined ? `cuda:${values.device}` : process.env.CUDA_VISIBLE_DEVICES ? `cuda:${process.env.CUDA_VISIBLE_DEVICES}` : 'cpu';
  try {
    const end = await runWorker({
      connect,
      info: { host: hostname(), device, backend: 'unconfigured', configHash: 'nbm-train/1' },
      // one worker process serves training steps, sampling chunks, evaluation contexts and whole sweep trials alike
      methods: { ...worker.methods, ...sampler.methods, ...evaluator.methods, ...sweepWorker().methods },
      curve: keys,
      heartbeatMs: intFlag(values, 'heartbeat-ms'),
      timeoutMs: intFlag(values, 'timeout-ms'),
      log: verbose,
    });
    verbose(end.reason);
    return 0;
  } finally {
    worker.close();
    sampler.close();
    evaluator.close();
  }
}
