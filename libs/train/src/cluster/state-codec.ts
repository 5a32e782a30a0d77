/**
 * A replica's state on the wire: parameters and AdamW moments as raw float32 frames (never JSON arrays), the
 * optimiser step and position in the header. Also the replica hash that checks invariant 3 (identical replicas, docs/architecture.md#invariants).
 */
import { createHash } from 'node:crypto';
import type { Parameters } from '@nbm/model';
import type { TrainState } from '../state.ts';

export interface StateMeta {
  optimizerStep: number;
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
}

export function encodeState(s: TrainState): { meta: StateMeta; tensors: Record<string, Float32Array> } {
  const tensors: Record<string, Float32Array> = {};
  s.params.values.forEach((v, i) => {
    tensors[`p${i}`] = v;
    tensors[`m${i}`] = s.optimizer.m[i];
    tensors[`v${i}`] = s.optimizer.v[i];
  });
  return { meta: { optimizerStep: s.optimizer.step, epoch: s.epoch, stepInEpoch: s.stepInEpoch, globalStep: s.globalStep }, tensors };
}

/** Rebuilds a state from its wire form, checking every tensor against the model's parameter specs. */
export function decodeState(specs: Parameters['specs'], meta: StateMeta, tensors: Record<string, ArrayBufferView>): TrainState {
  const take = (key: string, n: number, what: string): Float32Array => {
    const t = tensors[key];
    if (!(t instanceof Float32Array)) throw new Error(`state transfer: ${what} is missing or not float32`);
    if (t.length !== n) throw new Error(`state transfer: ${what} has ${t.length} values, expected ${n}`);
    return t.slice();
  };
  const sizes = specs.map((s) => s.shape.reduce((a, b) => a * b, 1));
  return {
    params: { specs, values: sizes.map((n, i) => take(`p${i}`, n, specs[i].name)) },
    optimizer: {
      step: meta.optimizerStep,
      m: sizes.map((n, i) => take(`m${i}`, n, `exp_avg of ${specs[i].name}`)),
      v: sizes.map((n, i) => take(`v${i}`, n, `exp_avg_sq of ${specs[i].name}`)),
    },
    epoch: meta.epoch,
    stepInEpoch: meta.stepInEpoch,
    globalStep: meta.globalStep,
    nonFiniteRun: 0,
  };
}

/** SHA-256 over the parameters, both moments and the optimiser step: equal iff the replicas are bitwise equal. */
export function stateHash(s: TrainState): string {
  const h = createHash('sha256');
  const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  s.params.values.forEach((v, i) => {
    h.update(bytes(v));
    h.update(bytes(s.optimizer.m[i]));
    h.update(bytes(s.optimizer.v[i]));
  });
  h.update(String(s.optimizer.step));
  return h.digest('hex');
}

/** A deep copy (the pre-step snapshot a replica keeps so that a failed step can be undone). */
export function copyState(s: TrainState): TrainState {
  return {
    params: { specs: s.params.specs, values: s.params.values.map((v) => v.slice()) },
    optimizer: { step: s.optimizer.step, m: s.optimizer.m.map((v) => v.slice()), v: s.optimizer.v.map((v) => v.slice()) },
    epoch: s.epoch,
    stepInEpoch: s.stepInEpoch,
    globalStep: s.globalStep,
    nonFiniteRun: s.nonFiniteRun,
  };
}

/** Overwrites `dst` with `src` in place (keeps the arrays other code holds). */
export function restoreInto(dst: TrainState, src: TrainState): void {
  src.params.values.forEach((v, i) => dst.params.values[i].set(v));
  src.optimizer.m.forEach((v, i) => dst.optimizer.m[i].set(v));
  src.optimizer.v.forEach((v, i) => dst.optimizer.v[i].set(v));
  dst.optimizer.step = src.optimizer.step;
  dst.epoch = src.epoch;
  dst.stepInEpoch = src.stepInEpoch;
  dst.globalStep = src.globalStep;
  dst.nonFiniteRun = src.nonFiniteRun;
}
