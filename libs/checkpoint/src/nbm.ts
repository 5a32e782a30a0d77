import { corrupt, formatShape, invalid, mismatch } from './errors.ts';
import { readSafetensors, writeSafetensors, type TensorInput, type TensorRecord } from './safetensors.ts';

/**
 * An NBM checkpoint as one safetensors file:
 * - each parameter under its PyTorch `state_dict` name (`bias_net.net.0.weight`, shape (out, in)), F32;
 * - AdamW's moments under `optimizer.exp_avg.<name>` and `optimizer.exp_avg_sq.<name>`, F32, same shape;
 * - metadata (all strings): `nbm.format` = {@link CHECKPOINT_FORMAT}, `nbm.params` (JSON list of the parameter
 *   names in order), `nbm.optimizer.step`, `nbm.rng`, `nbm.config` (JSON), `format` = `pt` (what PyTorch tools
 *   look for), and the data checksum `nbm.sha256`.
 */

/** The value of the `nbm.format` metadata key this code writes and reads. */
export const CHECKPOINT_FORMAT = 'nbm-checkpoint/1';

const FORMAT_KEY = 'nbm.format';
const PARAMS_KEY = 'nbm.params';
const STEP_KEY = 'nbm.optimizer.step';
const RNG_KEY = 'nbm.rng';
const CONFIG_KEY = 'nbm.config';
const EXP_AVG = 'optimizer.exp_avg.';
const EXP_AVG_SQ = 'optimizer.exp_avg_sq.';

/** One model parameter: `data` holds prod(shape) float32 values, row-major (PyTorch layout). */
export interface ParamTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** AdamW state: `m[i]` and `v[i]` (first and second moments) have the size of `params[i]`. */
export interface OptimizerState {
  /** Number of optimiser steps taken so far. */
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

/** Where the run's random streams stand; all non-negative integers. */
export interface RngState {
  seed: number;
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
}

/** Everything a run needs to resume exactly. `config` is any JSON object (the resolved run settings). */
export interface CheckpointState {
  params: ParamTensor[];
  optimizer: OptimizerState;
  rng: RngState;
  config: object;
}

/** A tensor the caller's model has, to check a checkpoint against. */
export interface ExpectedTensor {
  name: string;
  shape: readonly number[];
}

const RNG_FIELDS = ['seed', 'epoch', 'stepInEpoch', 'globalStep'] as const;

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Writes `state` to `path` atomically. Inconsistent state throws before anything is written. */
export async function saveCheckpoint(path: string, state: CheckpointState): Promise<void> {
  const { params, optimizer, rng, config } = state;
  if (optimizer.m.length !== params.length || optimizer.v.length !== params.length) {
    throw invalid(
      path,
      `${params.length} parameters but ${optimizer.m.length} first and ${optimizer.v.length} second moments`,
    );
  }
  if (!isCount(optimizer.step)) throw invalid(path, `optimizer step ${optimizer.step} is not a non-negative integer`);
  for (const field of RNG_FIELDS) {
    if (!isCount(rng[field])) throw invalid(path, `rng.${field} = ${rng[field]} is not a non-negative integer`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw invalid(path, 'config must be a JSON object');
  }
  const tensors: TensorInput[] = [];
  params.forEach((p, i) => {
    if (!(p.data instanceof Float32Array)) throw invalid(path, `parameter ${p.name} is not a Float32Array`);
    for (const [label, moment] of [['first', optimizer.m[i]], ['second', optimizer.v[i]]] as const) {
      if (!(moment instanceof Float32Array) || moment.length !== p.data.length) {
        throw invalid(path, `the ${label} moment of ${p.name} does not match its ${p.data.length} values`);
      }
    }
    tensors.push({ name: p.name, dtype: 'F32', shape: p.shape, data: p.data });
  });
  params.forEach((p, i) => tensors.push({ name: EXP_AVG + p.name, dtype: 'F32', shape: p.shape, data: optimizer.m[i] }));
  params.forEach((p, i) => tensors.push({ name: EXP_AVG_SQ + p.name, dtype: 'F32', shape: p.shape, data: optimizer.v[i] }));
  const rngRecord = Object.fromEntries(RNG_FIELDS.map((f) => [f, rng[f]]));
  await writeSafetensors(path, tensors, {
    format: 'pt',
    [FORMAT_KEY]: CHECKPOINT_FORMAT,
    [PARAMS_KEY]: JSON.stringify(params.map((p) => p.name)),
    [STEP_KEY]: JSON.stringify(optimizer.step),
    [RNG_KEY]: JSON.stringify(rngRecord),
    [CONFIG_KEY]: JSON.stringify(config),
  });
}

function parseJson(path: string, metadata: Record<string, string>, key: string): unknown {
  const text = metadata[key];
  if (text === undefined) throw corrupt(path, `metadata ${key} is missing`);
  try {
    return JSON.parse(text);
  } catch {
    throw corrupt(path, `metadata ${key} is not valid JSON`);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function takeF32(path: string, tensors: Map<string, TensorRecord>, name: string, shape: readonly number[]): Float32Array {
  const t = tensors.get(name);
  if (!t) throw mismatch(path, `missing tensor ${name}`);
  if (t.dtype !== 'F32') throw mismatch(path, `${name} is ${t.dtype}, expected F32`);
  if (!sameShape(t.shape, shape)) {
    throw mismatch(path, `${name} has shape ${formatShape(t.shape)}, expected ${formatShape(shape)}`);
  }
  tensors.delete(name);
  return t.data as Float32Array;
}

/**
 * Reads a checkpoint written by {@link saveCheckpoint}, verifying its checksum (a file without one is refused).
 * With `expected`, the file must hold exactly those parameters with exactly those shapes, and the result lists them
 * in `expected`'s order; a wrong shape throws e.g.
 * `checkpoint runs/x/checkpoints/epoch-001.safetensors: bias_net.net.0.weight has shape [32,10], expected [32,12]
 * (was it trained with a different --hidden/dataset?)`.
 */
export async function loadCheckpoint(path: string, expected?: readonly ExpectedTensor[]): Promise<CheckpointState> {
  const { tensors, metadata, checksum } = await readSafetensors(path);
  const format = metadata[FORMAT_KEY];
  if (format === undefined) throw mismatch(path, `not an nbm checkpoint (no ${FORMAT_KEY} in its metadata)`);
  if (format !== CHECKPOINT_FORMAT) {
    throw mismatch(path, `unsupported format ${JSON.stringify(format)} (this build reads ${CHECKPOINT_FORMAT})`);
  }
  if (checksum !== 'verified') throw corrupt(path, 'it carries no checksum (nbm.sha256), so it cannot be verified');

  const names = parseJson(path, metadata, PARAMS_KEY);
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
    throw corrupt(path, `metadata ${PARAMS_KEY} is not a list of names`);
  }
  const step = parseJson(path, metadata, STEP_KEY);
  if (!isCount(step)) throw corrupt(path, `metadata ${STEP_KEY} is not a non-negative integer`);
  const rngRaw = parseJson(path, metadata, RNG_KEY) as Record<string, unknown> | null;
  const rng = {} as RngState;
  for (const field of RNG_FIELDS) {
    const value = rngRaw?.[field];
    if (!isCount(value)) throw corrupt(path, `metadata ${RNG_KEY}.${field} is not a non-negative integer`);
    rng[field] = value;
  }
  const config = parseJson(path, metadata, CONFIG_KEY);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw corrupt(path, `metadata ${CONFIG_KEY} is not a JSON object`);
  }

  let order: ExpectedTensor[];
  if (expected) {
    for (const e of expected) {
      const t = tensors.get(e.name);
      if (!t) {
        throw mismatch(path, `missing tensor ${e.name} (expected shape ${formatShape(e.shape)}); was it written for a different model?`);
      }
      if (!sameShape(t.shape, e.shape)) {
        throw mismatch(
          path,
          `${e.name} has shape ${formatShape(t.shape)}, expected ${formatShape(e.shape)} (was it trained with a different --hidden/dataset?)`,
        );
      }
    }
    const wanted = new Set(expected.map((e) => e.name));
    const extra = (names as string[]).filter((n) => !wanted.has(n));
    if (extra.length > 0) {
      throw mismatch(path, `has parameters the model does not have: ${extra.join(', ')} (was it written for a different model?)`);
    }
    order = [...expected];
  } else {
    order = (names as string[]).map((name) => {
      const t = tensors.get(name);
      if (!t) throw corrupt(path, `metadata lists parameter ${name} but there is no such tensor`);
      return { name, shape: t.shape };
    });
  }

  const params: ParamTensor[] = [];
  const m: Float32Array[] = [];
  const v: Float32Array[] = [];
  for (const { name, shape } of order) {
    params.push({ name, shape: [...shape], data: takeF32(path, tensors, name, shape) });
    m.push(takeF32(path, tensors, EXP_AVG + name, shape));
    v.push(takeF32(path, tensors, EXP_AVG_SQ + name, shape));
  }
  if (tensors.size > 0) {
    throw mismatch(path, `has tensors that belong to no parameter: ${[...tensors.keys()].join(', ')}`);
  }
  return { params, optimizer: { step, m, v }, rng, config };
}
