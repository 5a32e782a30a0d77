import { RunDirError } from '@nbm/run';
import { EvalError, MAX_EXACT_HIDDEN, evaluate, formatReport, writeEvalJson, type EvaluateOptions } from '@nbm/evaluate';
import { resolveClusterOptions } from '../cluster-options.ts';
import { UsageError } from '../errors.ts';
import { intFlag, parseFlags, type OptionSpec } from '../options.ts';

/** `nbm eval --help`. */
export const EVAL_HELP = [
  'nbm eval --checkpoint runs/NAME[/checkpoints/FILE] [options]: held-out log-likelihood of a trained NBM',
  '',
  '  --checkpoint PATH        a run directory (its latest checkpoint) or a checkpoint file (required)',
  '  --split test|val         which split of the run\'s data set (default test)',
  `  --exact                  log Z by enumerating all 2^nh hidden states (the default when nh ≤ ${MAX_EXACT_HIDDEN})`,
  '  --ais                    log Z by annealed importance sampling even when nh ≤ 20 (the default above)',
  '  --ais-chains N           AIS chains per context (default 100)',
  '  --ais-steps N            AIS annealing steps (default 1000)',
  '  --dataset NAME           mnist | fashion-mnist | npy (default: the run\'s)',
  '  --x FILE.npy --y FILE.npy  with --dataset npy: your own contexts (N, nx) and float32 data (N, ny), every row, used as given',
  '  --limit N                evaluate the first N examples only',
  '  --seed N                 seed of the data transform\'s and AIS\'s draws (default: the run\'s seed)',
  '  --out DIR                where eval.json goes (default: the run directory)',
  '  --quiet                  no progress lines',
  '',
  'On a worker pool (the per-context log Z, the expensive part; results are identical to one process):',
  '  --workers N              spawn N local worker processes',
  '  --listen ENDPOINT        coordinator address for remote workers (nbm worker --connect …), e.g. tcp://0.0.0.0:5555',
  '                           or tcp://127.0.0.1:* (any free port; printed); needs --keys off loopback',
  '  --expect N               workers to wait for, spawned ones included (default: --workers)',
  '  --keys DIR               CURVE key directory from nbm keygen (the same DIR for each nbm worker)',
  '  --heartbeat-ms N         worker heartbeat interval (default 1000)',
  '  --timeout-ms N           a worker silent this long is lost and its context goes to another (default 10000)',
  '  --start-timeout-ms N     how long to wait for the expected workers (default 300000)',
  '',
  'Prints a table per class and writes eval.json: {split, examples, method, loglik_nats, loglik_se, bits_per_dim,',
  'per_class, mse_bias, mse_var, baseline_loglik_nats, min_eig, ...}. For Gaussian units log-likelihoods are log',
  'densities (nats per example), so they can be positive.',
].join('\n');

const OPTIONS: OptionSpec = {
  checkpoint: { type: 'string' },
  split: { type: 'string' },
  exact: { type: 'boolean' },
  ais: { type: 'boolean' },
  'ais-chains': { type: 'string' },
  'ais-steps': { type: 'string' },
  dataset: { type: 'string' },
  x: { type: 'string' },
  y: { type: 'string' },
  limit: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  quiet: { type: 'boolean' },
  workers: { type: 'string' },
  listen: { type: 'string' },
  expect: { type: 'string' },
  keys: { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'start-timeout-ms': { type: 'string' },
};

function atLeast(values: Record<string, unknown>, name: string, min: number): number | undefined {
  const n = intFlag(values, name);
  if (n !== undefined && n < min) throw new UsageError(`--${name} must be an integer of at least ${min}, got ${n}`);
  return n;
}

/** Turns eval flags into `evaluate` options; every bad combination is a UsageError that names the flags. */
export function evalOptions(values: Record<string, string | boolean | undefined>): EvaluateOptions & { out?: string } {
  const checkpoint = values.checkpoint;
  if (typeof checkpoint !== 'string' || checkpoint === '') {
    throw new UsageError('--checkpoint is required: a run directory (runs/NAME) or a checkpoint file');
  }
  const split = values.split;
  if (split !== undefined && split !== 'test' && split !== 'val') throw new UsageError(`--split must be test or val, got '${String(split)}'`);
  if (values.exact && values.ais) throw new UsageError('--exact and --ais exclude each other: choose one way to compute log Z');
  const dataset = values.dataset;
  if (dataset !== undefined && dataset !== 'mnist' && dataset !== 'fashion-mnist' && dataset !== 'npy') {
    throw new UsageError(`--dataset must be mnist, fashion-mnist or npy, got '${String(dataset)}'`);
  }
  const x = typeof values.x === 'string' ? values.x : undefined;
  const y = typeof values.y === 'string' ? values.y : undefined;
  if (dataset === 'npy') {
    if (!x || !y) throw new UsageError('--dataset npy needs --x FILE.npy and --y FILE.npy');
    if (split !== undefined) throw new UsageError('--split does not apply to --dataset npy: every row of --x/--y is evaluated');
  } else if (x || y) {
    throw new UsageError('--x/--y are for --dataset npy');
  }
  const seed = intFlag(values, 'seed');
  if (seed !== undefined && (seed < 0 || seed > 0xffffffff)) throw new UsageError(`--seed must be an integer in [0, 4294967295], got ${seed}`);
  return {
    checkpoint,
    split,
    data: dataset === undefined ? undefined : { name: dataset, x, y },
    exact: values.exact ? true : values.ais ? false : undefined,
    aisChains: atLeast(values, 'ais-chains', 2),
    aisSteps: atLeast(values, 'ais-steps', 1),
    limit: atLeast(values, 'limit', 1),
    seed,
    out: typeof values.out === 'string' ? values.out : undefined,
  };
}

/** `nbm eval`: evaluates, prints the table, writes eval.json atomically. Returns the exit code. */
export async function evalCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, OPTIONS, 'eval');
  if (values.help) {
    console.log(EVAL_HELP);
    return 0;
  }
  const { out, ...options } = evalOptions(values);
  // the same --workers/--listen/--expect/--keys rules (and refusals) as nbm train's
  const cluster = resolveClusterOptions(values);
  const say = values.quiet ? undefined : (line: string) => console.error(line);
  const pool = cluster && {
    spawn: cluster.spawn,
    command: cluster.workerCommand,
    listen: cluster.listen,
    expect: cluster.expect,
    curve: cluster.curve,
    heartbeatMs: cluster.heartbeatMs,
    timeoutMs: cluster.timeoutMs,
    startTimeoutMs: cluster.startTimeoutMs,
    // the listening line is printed even with --quiet: remote workers need the address
    log: (line: string) => (say || line.startsWith('coordinator listening') ? console.error(line) : undefined),
  };
  let report;
  try {
    report = await evaluate({ ...options, pool, onProgress: say });
  } catch (e) {
    if (e instanceof EvalError || e instanceof RunDirError) throw new UsageError(e.message);
    throw e;
  }
  const dir = out ?? report.run_dir;
  console.log(formatReport(report));
  console.log(`wrote ${writeEvalJson(dir, report)}`);
  return 0;
}
