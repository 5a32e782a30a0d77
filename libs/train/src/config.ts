import type { BackendRequest } from '@nbm/backend';
import type { DatasetName } from '@nbm/data';
import type { VisibleType } from '@nbm/model';

export type KernelRequest = 'auto' | 'native' | 'tfjs' | 'webgpu';
export type ReduceMode = 'exact' | 'fast';

/** Every setting of a training run, resolved: what config.json records and `--resume` restores. */
export interface TrainConfig {
  readonly dataset: DatasetName;
  /** for --dataset npy: paths of the contexts and data */
  readonly x?: string;
  readonly y?: string;
  readonly visible: VisibleType;
  readonly epochs: number;
  /** stop after this many optimiser steps in all (0: no limit) */
  readonly maxSteps: number;
  readonly batchSize: number;
  readonly gibbsSteps: number;
  readonly hidden: number;
  /** width of the hidden layer of the bias and precision networks */
  readonly width: number;
  readonly lr: number;
  readonly decayBias: number;
  readonly decayPrecision: number;
  readonly decayWeights: number;
  readonly seed: number;
  /** examples per gradient block: the unit of deterministic gradient computation and of sharding */
  readonly blockSize: number;
  readonly reduce: ReduceMode;
  readonly backend: BackendRequest;
  readonly kernel: KernelRequest;
  /** native kernel threads (0: all available cores) */
  readonly threads: number;
  /** the WebGPU adapter's index in Dawn's list (`--engine webgpu`; default 0); a worker may override it */
  readonly device?: number;
  /** log a metrics row every this many steps */
  readonly logEvery: number;
  /** also write a checkpoint every this many steps (0: only at the end of each epoch) */
  readonly checkpointEvery: number;
  /** validation examples used at each epoch end (0: the whole validation split) */
  readonly valExamples: number;
  /** train on the first N rows of the training split only (0: all), for quick experiments */
  readonly trainExamples: number;
  /** write samples/ and components/ pictures at each epoch end */
  readonly pictures: boolean;
  /** held-out log-likelihood of the validation split every this many epochs (0: never) */
  readonly evalEvery: number;
  /** stop with an error after this many consecutive steps with a non-finite loss or gradient (each is skipped) */
  readonly maxNonFinite: number;
  readonly out: string;
}

/** The paper's configuration (docs/model.md#adamw), Gaussian MNIST. */
export const PAPER_DEFAULTS: Omit<TrainConfig, 'out'> = {
  dataset: 'mnist',
  visible: 'gaussian',
  epochs: 50,
  maxSteps: 0,
  batchSize: 128,
  gibbsSteps: 32,
  hidden: 64,
  width: 32,
  lr: 5e-4,
  decayBias: 0.5,
  decayPrecision: 0.5,
  decayWeights: 1.0,
  seed: 1,
  blockSize: 16,
  reduce: 'exact',
  backend: 'auto',
  kernel: 'auto',
  threads: 0,
  logEvery: 10,
  checkpointEvery: 0,
  valExamples: 0,
  trainExamples: 0,
  pictures: true,
  evalEvery: 0,
  maxNonFinite: 5,
};

/** The paper's learning rate for Ising visible units. */
export const ISING_LR = 1e-2;

/**
 * The paper's defaults under the given settings: every setting not given takes PAPER_DEFAULTS' value, except
 * the learning rate of an Ising run, which takes ISING_LR (as the paper's Ising experiments do).
 */
export function withPaperDefaults<T extends Partial<TrainConfig>>(settings: T): Omit<TrainConfig, 'out'> & T {
  const lr = settings.visible === 'ising' ? ISING_LR : PAPER_DEFAULTS.lr;
  return { ...PAPER_DEFAULTS, lr, ...settings };
}

/** The settings a resumed run may change: how long it trains. */
export const RESUMABLE_CHANGES: ReadonlySet<keyof TrainConfig> = new Set(['epochs', 'maxSteps', 'out']);

/**
 * The configuration a run continues with: the settings it recorded (config.json; keys it does not know are
 * dropped), with `changes` applied, which may only say how long it trains (RESUMABLE_CHANGES).
 * @param flagOf the flag a setting is given by, for the message
 * @throws ConfigError naming the first setting that would change
 */
export function resumedConfig(
  recorded: Readonly<Record<string, unknown>>,
  changes: Partial<Record<keyof TrainConfig, unknown>>,
  dir: string,
  flagOf: (key: string) => string = (k) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
): TrainConfig {
  for (const [k, v] of Object.entries(changes)) {
    if (!RESUMABLE_CHANGES.has(k as keyof TrainConfig) && v !== recorded[k]) {
      throw new ConfigError(`--resume ${dir}: --${flagOf(k)} cannot change on resume (the run has ${JSON.stringify(recorded[k])}); only --epochs and --max-steps can`);
    }
  }
  const known = new Set<string>([...Object.keys(PAPER_DEFAULTS), 'x', 'y']);
  const kept = Object.fromEntries(Object.entries(recorded).filter(([k, v]) => known.has(k) && v !== undefined));
  return { ...PAPER_DEFAULTS, ...kept, ...changes, out: dir } as TrainConfig;
}

/** A bad setting, named by its flag. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`--${name} must be a positive integer, got ${v}`);
}
function nonNegativeInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new ConfigError(`--${name} must be a non-negative integer, got ${v}`);
}
function nonNegative(name: string, v: number): void {
  if (!Number.isFinite(v) || v < 0) throw new ConfigError(`--${name} must be a non-negative number, got ${v}`);
}

/** Checks every setting and names the flag of the first bad one. */
export function validateConfig(c: TrainConfig): void {
  if (!['mnist', 'fashion-mnist', 'npy'].includes(c.dataset)) throw new ConfigError(`--dataset must be mnist, fashion-mnist or npy, got '${c.dataset}'`);
  if (c.dataset === 'npy' && (!c.x || !c.y)) throw new ConfigError('--dataset npy needs --x FILE.npy and --y FILE.npy');
  if (c.dataset !== 'npy' && (c.x || c.y)) throw new ConfigError(`--x/--y are for --dataset npy (got --dataset ${c.dataset})`);
  if (c.visible !== 'gaussian' && c.visible !== 'ising') throw new ConfigError(`--visible must be gaussian or ising, got '${c.visible}'`);
  nonNegativeInt('epochs', c.epochs);
  nonNegativeInt('max-steps', c.maxSteps);
  if (c.epochs === 0 && c.maxSteps === 0) throw new ConfigError('--epochs 0 needs --max-steps to say how long to train');
  positiveInt('batch-size', c.batchSize);
  positiveInt('gibbs-steps', c.gibbsSteps);
  positiveInt('hidden', c.hidden);
  positiveInt('width', c.width);
  positiveInt('block-size', c.blockSize);
  if (!Number.isFinite(c.lr) || c.lr <= 0) throw new ConfigError(`--lr must be a positive number, got ${c.lr}`);
  nonNegative('decay-bias', c.decayBias);
  nonNegative('decay-precision', c.decayPrecision);
  nonNegative('decay-weights', c.decayWeights);
  if (!Number.isInteger(c.seed) || c.seed < 0 || c.seed > 0xffffffff) throw new ConfigError(`--seed must be an integer in [0, 4294967295], got ${c.seed}`);
  if (c.reduce !== 'exact' && c.reduce !== 'fast') throw new ConfigError(`--reduce must be exact or fast, got '${c.reduce}'`);
  if (!['auto', 'tensorflow', 'wasm', 'cpu', 'webgpu'].includes(c.backend)) throw new ConfigError(`--backend must be auto, tensorflow, wasm, cpu or webgpu, got '${c.backend}'`);
  if (!['auto', 'native', 'tfjs', 'webgpu'].includes(c.kernel)) throw new ConfigError(`--engine must be auto, native, tfjs or webgpu, got '${c.kernel}'`);
  if (c.device !== undefined) nonNegativeInt('device', c.device);
  nonNegativeInt('threads', c.threads);
  positiveInt('log-every', c.logEvery);
  nonNegativeInt('checkpoint-every', c.checkpointEvery);
  nonNegativeInt('val-examples', c.valExamples);
  nonNegativeInt('train-examples', c.trainExamples);
  nonNegativeInt('eval-every', c.evalEvery);
  positiveInt('max-nonfinite', c.maxNonFinite);
  if (!c.out) throw new ConfigError('--out must name a run directory');
}
