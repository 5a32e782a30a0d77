/**
 * A replica's state on the wire: parameters and AdamW moments as raw float32 frames (never JSON arrays), the
 * optimiser step and position in the header. Also the replica hash that checks invariant 3 (identical replicas, docs/architecture.md#invariants).
 */
import { createHash } from 'node:crypto';
import { fromNamedTensors, namedTensors, type Parameters } from '@nbm/model';
import type { TrainState } from '../state.ts';

export interface StateMeta {
  optimizerStep: number;
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
}

export function encodeState(s: TrainState): { meta: StateMeta; tensors: Record<string, Float32Array> } {
  const tensors = { ...namedTensors(s.params.values, 'p'), ...namedTensors(s.optimizer.m, 'm'), ...namedTensors(s.optimizer.v, 'v') };
  return { meta: { optimizerStep: s.optimizer.step, epoch: s.epoch, stepInEpoch: s.stepInEpoch, globalStep: s.globalStep }, tensors };
}

/** Rebuilds a state from its wire form, checking every tensor against the model's parameter specs. */
export function decodeState(specs: Parameters['specs'], meta: StateMeta, tensors: Record<string, ArrayBufferView>): TrainState {
  return {
    params: { specs, values: fromNamedTensors(specs, tensors, 'p', 'state transfer: parameter') },
    optimizer: {
      step: meta.optimizerStep,
      m: fromNamedTensors(specs, tensors, 'm', 'state transfer: exp_avg'),
      v: fromNamedTensors(specs, tensors, 'v', 'state transfer: exp_avg_sq'),
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
