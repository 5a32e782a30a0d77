import { readFileSync } from 'node:fs';
import { PAPER_DEFAULTS, resumedConfig, withPaperDefaults, type TrainConfig } from '@nbm/train';
import { UsageError } from './errors.ts';
import { intFlag, numberFlag, type OptionSpec } from './options.ts';

/** One training flag: its parser type, the config key it sets and its help line. */
interface FlagDoc {
  readonly flag: string;
  readonly key?: keyof TrainConfig;
  readonly kind: 'string' | 'int' | 'number' | 'boolean';
  readonly help: string;
}

/** Every `nbm train` flag, in the order the help and the README list them. */
export const TRAIN_FLAGS: readonly FlagDoc[] = [
  { flag: 'dataset', key: 'dataset', kind: 'string', help: 'mnist | fashion-mnist | npy (default mnist)' },
  { flag: 'x', key: 'x', kind: 'string', help: 'contexts .npy (N, nx) float32/uint8, for --dataset npy' },
  { flag: 'y', key: 'y', kind: 'string', help: 'data .npy (N, ny) float32/uint8 (uint8 = pixels, transformed like images), for --dataset npy' },
  { flag: 'visible', key: 'visible', kind: 'string', help: 'gaussian | ising (default gaussian; ising defaults --lr to 1e-2)' },
  { flag: 'epochs', key: 'epochs', kind: 'int', help: 'epochs to train (default 50)' },
  { flag: 'max-steps', key: 'maxSteps', kind: 'int', help: 'stop after this many optimiser steps in all (default 0: no limit)' },
  { flag: 'batch-size', key: 'batchSize', kind: 'int', help: 'minibatch size B (default 128)' },
  { flag: 'gibbs-steps', key: 'gibbsSteps', kind: 'int', help: 'Gibbs steps k of the CD chain (default 32)' },
  { flag: 'hidden', key: 'hidden', kind: 'int', help: 'hidden units nh (default 64)' },
  { flag: 'width', key: 'width', kind: 'int', help: 'hidden-layer width of the bias and precision networks (default 32)' },
  { flag: 'lr', key: 'lr', kind: 'number', help: 'AdamW learning rate (default 5e-4 gaussian, 1e-2 ising)' },
  { flag: 'decay-bias', key: 'decayBias', kind: 'number', help: 'AdamW weight decay of the bias network (default 0.5)' },
  { flag: 'decay-precision', key: 'decayPrecision', kind: 'number', help: 'AdamW weight decay of the precision network (default 0.5)' },
  { flag: 'decay-weights', key: 'decayWeights', kind: 'number', help: 'AdamW weight decay of the weights network (default 1.0)' },
  { flag: 'seed', key: 'seed', kind: 'int', help: 'seed of every random draw (default 1)' },
  { flag: 'out', key: 'out', kind: 'string', help: 'run directory (default runs/<dataset>-<visible>-<time>)' },
  { flag: 'backend', key: 'backend', kind: 'string', help: 'auto | tensorflow | wasm | cpu | webgpu: the tfjs backend of --engine tfjs (default auto; webgpu only on request)' },
  { flag: 'engine', key: 'kernel', kind: 'string', help: 'auto | native | webgpu | tfjs: the native CPU kernel, the WebGPU kernels or the tfjs path (default auto)' },
  { flag: 'kernel', key: 'kernel', kind: 'string', help: 'the same as --engine (its older name)' },
  { flag: 'device', key: 'device', kind: 'int', help: 'WebGPU adapter index for --engine webgpu (default 0)' },
  { flag: 'threads', key: 'threads', kind: 'int', help: 'native kernel threads (default 0: all cores)' },
  { flag: 'block-size', key: 'blockSize', kind: 'int', help: 'examples per gradient block, the unit of exact summation (default 16)' },
  { flag: 'reduce', key: 'reduce', kind: 'string', help: 'exact | fast: fixed-point (bitwise reproducible) or float32 gradient sums (default exact)' },
  { flag: 'log-every', key: 'logEvery', kind: 'int', help: 'write a metrics.csv row every N steps (default 10)' },
  { flag: 'checkpoint-every', key: 'checkpointEvery', kind: 'int', help: 'also checkpoint every N steps (default 0: at epoch ends)' },
  { flag: 'val-examples', key: 'valExamples', kind: 'int', help: 'validation examples per epoch end (default 0: all)' },
  { flag: 'train-examples', key: 'trainExamples', kind: 'int', help: 'train on the first N training rows only (default 0: all)' },
  { flag: 'eval-every', key: 'evalEvery', kind: 'int', help: 'held-out log-likelihood of the validation split every E epochs, logged to metrics.csv (default 0: never)' },
  { flag: 'max-nonfinite', key: 'maxNonFinite', kind: 'int', help: 'stop after M consecutive steps with NaN/Inf loss or gradient, each skipped on every replica (default 5)' },
  { flag: 'no-pictures', kind: 'boolean', help: 'skip samples/ and components/ pictures' },
  { flag: 'config', kind: 'string', help: 'JSON file of settings (e.g. a sweep\'s best.json); flags override it' },
  { flag: 'resume', kind: 'string', help: 'continue the run in DIR from its latest checkpoint (only --epochs/--max-steps may change)' },
  { flag: 'quiet', kind: 'boolean', help: 'no progress output' },
];

export function trainOptionSpec(): OptionSpec {
  const spec: OptionSpec = {};
  for (const f of TRAIN_FLAGS) spec[f.flag] = { type: f.kind === 'boolean' ? 'boolean' : 'string' };
  return spec;
}

function defaultOut(c: Pick<TrainConfig, 'dataset' | 'visible'>): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `runs/${c.dataset}-${c.visible}-${t}`;
}

/** Flag values as config entries (only the flags that were given). */
function givenSettings(values: Record<string, unknown>): Partial<Record<keyof TrainConfig, unknown>> {
  const out: Partial<Record<keyof TrainConfig, unknown>> = {};
  if (values.engine !== undefined && values.kernel !== undefined && values.engine !== values.kernel) {
    throw new UsageError(`--engine ${values.engine} and --kernel ${values.kernel} disagree: --kernel is --engine's older name, give one`);
  }
  for (const f of TRAIN_FLAGS) {
    if (!f.key || values[f.flag] === undefined) continue;
    out[f.key] = f.kind === 'int' ? intFlag(values, f.flag) : f.kind === 'number' ? numberFlag(values, f.flag) : values[f.flag];
  }
  if (values['no-pictures']) out.pictures = false;
  return out;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--config ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const j = JSON.parse(text);
    // a sweep's best.json keeps the settings under "config"
    return (j && typeof j === 'object' && j.config && typeof j.config === 'object' ? j.config : j) as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`--config ${path}: not valid JSON (${(e as Error).message})`);
  }
}

const KNOWN_KEYS = new Set<string>([...Object.keys(PAPER_DEFAULTS), 'out', 'x', 'y']);
/** What a run's config.json holds beside its settings (so that it can serve as a --config file). */
const RECORD_KEYS = new Set<string>(['runtime']);

/** The settings of a --config file; a key that is no setting (a misspelling) is refused rather than dropped. */
function configFileSettings(path: string): Record<string, unknown> {
  const file = readConfigFile(path);
  const unknown = Object.keys(file).filter((k) => !KNOWN_KEYS.has(k) && !RECORD_KEYS.has(k));
  if (unknown.length > 0) {
    throw new UsageError(`--config ${path}: ${unknown.map((k) => `'${k}'`).join(', ')} ${unknown.length === 1 ? 'is no setting' : 'are no settings'} (the settings: ${[...KNOWN_KEYS].join(', ')})`);
  }
  return Object.fromEntries(Object.entries(file).filter(([k]) => KNOWN_KEYS.has(k)));
}

/** Resolves `nbm train` flags (and an optional --config file) into a full TrainConfig. */
export function resolveTrainConfig(values: Record<string, unknown>): TrainConfig {
  const file = typeof values.config === 'string' ? configFileSettings(values.config) : {};
  const given = givenSettings(values);
  const merged = withPaperDefaults({ ...file, ...given } as Partial<TrainConfig>) as Record<string, unknown>;
  if (!merged.out) merged.out = defaultOut(merged as unknown as TrainConfig);
  return merged as unknown as TrainConfig;
}

/** For --resume: the run's recorded settings, with only the run-length flags allowed to change (see resumedConfig). */
export function resumeConfig(stored: Record<string, unknown>, values: Record<string, unknown>, dir: string): TrainConfig {
  return resumedConfig(stored, givenSettings(values), dir, (k) => TRAIN_FLAGS.find((f) => f.key === k)?.flag ?? k);
}
