/**
 * `nbm sweep`: a hyperparameter sweep of `nbm train` over a pool of workers (see @nbm/sweep).
 * Every `nbm train` option passes through to the trials; one given as a list or a range is swept.
 */
import { join } from 'node:path';
import { isLoopbackEndpoint, loadKeys, type WorkerCommand } from '@nbm/runtime';
import { NBM_BIN } from '../paths.ts';
import {
  METRICS,
  SchedulerError,
  SpaceError,
  SweepDirError,
  SweepError,
  createSweep,
  isSweepSpec,
  parseMetric,
  parseSpace,
  runSweep,
  type MetricName,
  type PoolOptions,
  type SchedulerSpec,
  type Settings,
  type SweepableOption,
} from '@nbm/sweep';
import { ConfigError, type TrainConfig } from '@nbm/train';
import { UsageError } from '../errors.ts';
import { intFlag, numberFlag, parseFlags, type OptionSpec } from '../options.ts';
import { TRAIN_FLAGS, resolveTrainConfig } from '../train-options.ts';

/** `nbm train` flags that a sweep sets itself, or that name files: passed through as given, never swept. */
const NOT_SWEPT = new Set(['out', 'resume', 'config', 'quiet', 'x', 'y', 'epochs', 'kernel']);
/** `nbm train` flags that do not reach the trials (the sweep has its own meaning for them). */
const SWEEP_OWNS = new Set(['out', 'resume', 'quiet']);

/** The sweep's own flags. */
const SWEEP_FLAGS: ReadonlyArray<{ flag: string; boolean?: boolean; help: string }> = [
  { flag: 'out', help: 'the sweep directory (default sweeps/<dataset>-<visible>-<time>)' },
  { flag: 'resume', help: 'continue the sweep in DIR after a crash or Ctrl-C (finished trials are kept)' },
  { flag: 'scheduler', help: 'asha | none: early stopping by ASHA, or every trial to --epochs (default asha)' },
  { flag: 'reduction-factor', help: 'ASHA\'s η: each rung keeps the best 1/η of its trials (default 3)' },
  { flag: 'grace-period', help: 'ASHA\'s first rung, in epochs (default 1)' },
  { flag: 'metric', help: `${METRICS.join(' | ')}: the validation metric to minimise (default val_mse_bias)` },
  { flag: 'diverge-above', help: 'a trial whose metric exceeds this in magnitude diverged (exploding loss) (default 1e10)' },
  { flag: 'space-seed', help: 'seed of the random draws (lo:hi:logrand:N, lo:hi:rand:N) (default 0)' },
  { flag: 'workers', help: 'local worker processes to spawn; each trains one trial at a time, or k together with --workers-per-trial k (default 1; 0 with --listen)' },
  { flag: 'workers-per-trial', help: 'workers per trial (default 1); k > 1 trains each trial data-parallel on a group of k workers, with the same numbers as on one' },
  { flag: 'gpus', help: 'comma-separated GPU indices, one per spawned worker' },
  { flag: 'listen', help: 'coordinator address for remote workers, e.g. tcp://0.0.0.0:5555 (needs --keys off loopback)' },
  { flag: 'keys', help: 'CURVE key directory from nbm keygen' },
  { flag: 'heartbeat-ms', help: 'heartbeat interval both ways (default 1000)' },
  { flag: 'timeout-ms', help: 'a worker silent this long is lost and its trial rescheduled (default 60000)' },
  { flag: 'start-timeout-ms', help: 'how long to wait while no worker is connected (default 300000)' },
  { flag: 'quiet', boolean: true, help: 'no table while it runs (the final table is still printed)' },
];

export const SWEEP_HELP = [
  'nbm sweep [train options] [sweep options]: a hyperparameter sweep of nbm train over a worker pool',
  '',
  'Any nbm train option may be swept (not --epochs, --out, --x, --y); the others pass through to every trial:',
  '  --lr 1e-4:1e-1:log:12          12 values spaced evenly in log scale, both ends included (lin: linear)',
  '  --decay-weights 0.5,1,2        a list',
  '  --lr 1e-4:1e-1:logrand:8       8 random draws, log-uniform (rand: uniform), seeded by --space-seed',
  'Lists and ranges form a grid (cartesian product); random dimensions draw jointly, N per grid point.',
  '',
  'sweep options:',
  ...SWEEP_FLAGS.map((f) => `  --${(f.flag + (f.boolean ? '' : ' V')).padEnd(22)} ${f.help}`),
  '',
  'train options (see nbm train --help):',
  ...TRAIN_FLAGS.filter((f) => !SWEEP_OWNS.has(f.flag)).map((f) => `  --${(f.flag + (f.kind === 'boolean' ? '' : ' V')).padEnd(22)} ${f.help}`),
  '',
  'Writes DIR/sweep.json (the state, after every event), DIR/trials/tNNN/ (a run directory per trial), and at the',
  'end DIR/sweep.csv, DIR/best.json (nbm train --config DIR/best.json) and DIR/sweep.png.',
].join('\n');

function optionSpec(): OptionSpec {
  const spec: OptionSpec = {};
  for (const f of TRAIN_FLAGS) if (!SWEEP_OWNS.has(f.flag)) spec[f.flag] = { type: f.kind === 'boolean' ? 'boolean' : 'string' };
  for (const f of SWEEP_FLAGS) spec[f.flag] = { type: f.boolean ? 'boolean' : 'string' };
  return spec;
}

/** The options a sweep may vary, with their value types, in `nbm train`'s order. */
export function sweepableOptions(): SweepableOption[] {
  return TRAIN_FLAGS.filter((f) => f.key && f.kind !== 'boolean' && !NOT_SWEPT.has(f.flag)).map((f) => ({ flag: f.flag, kind: f.kind as SweepableOption['kind'] }));
}

function defaultOut(c: Pick<TrainConfig, 'dataset' | 'visible'>): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return join('sweeps', `${c.dataset}-${c.visible}-${t}`);
}

function schedulerSpec(values: Record<string, unknown>, maxEpochs: number): SchedulerSpec {
  const kind = (values.scheduler as string | undefined) ?? 'asha';
  if (kind === 'none') {
    for (const f of ['reduction-factor', 'grace-period']) if (values[f] !== undefined) throw new UsageError(`--${f} is an ASHA option: drop it, or use --scheduler asha`);
    return { kind: 'none', maxEpochs };
  }
  if (kind !== 'asha') throw new UsageError(`--scheduler must be asha or none, got '${kind}'`);
  return { kind: 'asha', reductionFactor: intFlag(values, 'reduction-factor') ?? 3, gracePeriod: intFlag(values, 'grace-period') ?? 1, maxEpochs };
}

function poolOptions(values: Record<string, unknown>): PoolOptions & { startTimeoutMs: number; perTrial: number } {
  const listen = values.listen as string | undefined;
  const workers = intFlag(values, 'workers') ?? (listen ? 0 : 1);
  if (workers < 0 || (workers === 0 && !listen)) throw new UsageError(`--workers must be a positive integer (or 0 with --listen), got ${workers}`);
  const perTrial = intFlag(values, 'workers-per-trial') ?? 1;
  if (perTrial < 1) throw new UsageError(`--workers-per-trial must be a positive integer, got ${perTrial}`);
  if (!listen && perTrial > workers) {
    throw new UsageError(`--workers-per-trial ${perTrial} needs at least ${perTrial} workers, but --workers is ${workers} (and no --listen for more to join)`);
  }
  if (listen !== undefined && !/^tcp:\/\/.+:(\d+|\*)$/.test(listen)) throw new UsageError(`--listen must look like tcp://HOST:PORT, got '${listen}'`);
  const keysDir = values.keys as string | undefined;
  const curve = keysDir ? loadKeys(keysDir, 'coordinator') : undefined;
  if (listen !== undefined && !isLoopbackEndpoint(listen) && !curve) {
    throw new UsageError(`refusing to listen on ${listen} without CURVE keys: make keys with 'nbm keygen DIR', copy DIR to every host, and pass --keys DIR here and to each worker`);
  }
  const gpus = typeof values.gpus === 'string' ? values.gpus.split(',').map((g) => g.trim()) : undefined;
  if (gpus && (gpus.some((g) => !/^\d+$/.test(g)) || gpus.length !== workers)) throw new UsageError(`--gpus must list one GPU index per worker (${workers}), got '${values.gpus}'`);
  const heartbeatMs = intFlag(values, 'heartbeat-ms');
  const timeoutMs = intFlag(values, 'timeout-ms');
  // `nbm worker` serves the sweep's methods as well as training's (the pool adds --connect and the timing flags)
  const command: WorkerCommand = {
    file: NBM_BIN,
    args: (i) => ['worker', ...(keysDir ? ['--keys', keysDir] : []), ...(gpus ? ['--device', gpus[i]] : [])],
  };
  return { spawn: workers, command, listen, curve, heartbeatMs, timeoutMs, perTrial, startTimeoutMs: intFlag(values, 'start-timeout-ms') ?? 300_000 };
}

/** Creates the sweep directory from the flags; every error is a UsageError raised before anything is written. */
function newSweep(args: string[], values: Record<string, unknown>): string {
  const options = sweepableOptions();
  const epochs = values.epochs as string | undefined;
  if (epochs !== undefined && isSweepSpec(epochs)) {
    throw new UsageError(`--epochs ${epochs}: the number of epochs sets the sweep's length (and ASHA's last rung), so it cannot be swept`);
  }
  const texts: Record<string, string | undefined> = {};
  for (const o of options) texts[o.flag] = values[o.flag] as string | undefined;
  const space = parseSpace(options, texts, intFlag(values, 'space-seed') ?? 0);
  const swept = new Set(space.dimensions.map((d) => d.flag));
  const fixed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) if (!swept.has(k) && TRAIN_FLAGS.some((f) => f.flag === k)) fixed[k] = v;
  const metric: MetricName = parseMetric((values.metric as string | undefined) ?? 'val_mse_bias');
  const probe = resolveTrainConfig({ ...fixed, out: 'probe' });
  const scheduler = schedulerSpec(values, probe.epochs);
  if (probe.maxSteps > 0) process.stderr.write(`nbm sweep: note: --max-steps ${probe.maxSteps} ends every trial after that many steps, whatever its epoch\n`);
  const out = (values.out as string | undefined) ?? defaultOut(probe);
  const configFor = (settings: Settings, runDir: string): TrainConfig => {
    const flags: Record<string, unknown> = { ...fixed, out: runDir };
    for (const [flag, v] of Object.entries(settings)) flags[flag] = String(v);
    return resolveTrainConfig(flags);
  };
  createSweep(out, { argv: args, metric, divergeAbove: numberFlag(values, 'diverge-above'), scheduler, space, configFor });
  return out;
}

/** `nbm sweep`: returns the exit code (0 done, 1 no trial has a finite metric or the sweep failed, 2 bad usage, 130 interrupted). */
export async function sweepCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, optionSpec(), 'sweep');
  if (values.help) {
    console.log(SWEEP_HELP);
    return 0;
  }
  const resumeDir = values.resume as string | undefined;
  let dir: string;
  let pool: ReturnType<typeof poolOptions>;
  try {
    pool = poolOptions(values);
    if (resumeDir !== undefined) {
      const execution = new Set(['resume', 'workers', 'workers-per-trial', 'gpus', 'listen', 'keys', 'heartbeat-ms', 'timeout-ms', 'start-timeout-ms', 'quiet']);
      const other = Object.keys(values).find((k) => values[k] !== undefined && !execution.has(k));
      if (other) throw new UsageError(`--resume ${resumeDir}: --${other} cannot be given on resume (the sweep keeps the settings it was created with); only the workers' options can`);
      dir = resumeDir;
    } else dir = newSweep(args, values);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (e instanceof SpaceError || e instanceof SchedulerError || e instanceof ConfigError || e instanceof SweepDirError) throw new UsageError(e.message);
    if (e instanceof Error && /^--(metric|diverge-above|epochs)/.test(e.message)) throw new UsageError(e.message);
    throw e;
  }

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const outcome = await runSweep({
      dir,
      pool,
      startTimeoutMs: pool.startTimeoutMs,
      workersPerTrial: pool.perTrial,
      signal: stop.signal,
      stream: values.quiet ? null : process.stderr,
    }).catch((e: Error) => {
      if (e instanceof SweepDirError || e instanceof SchedulerError) throw new UsageError(e.message);
      if (e instanceof SweepError) return e;
      throw e;
    });
    if (outcome instanceof SweepError) {
      console.error(`nbm sweep: ${outcome.message}`);
      return 1;
    }
    if (outcome.interrupted) {
      console.error(`nbm sweep: interrupted; continue with nbm sweep --resume ${dir}`);
      return 130;
    }
    console.log(outcome.table.join('\n'));
    console.log(outcome.best);
    return /^best:/.test(outcome.best) ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
