/**
 * Tensors between the API (typed arrays by name) and the protocol (raw frames with dtype and shape).
 * A tensor travels as a 1-D frame of its typed array's bytes, bit for bit; shapes are the caller's
 * business (send them in `args`/`value` when the receiver needs them).
 */
import { dtypeOf, type Tensor, type TensorData } from '@nbm/protocol';

/** A typed array a tensor frame can hold: Float32Array, Float64Array, Uint32Array or Uint8Array (Buffer included). */
export type TypedArray = TensorData;

/**
 * Checks that every view is a typed array the protocol carries.
 *
 * @throws TypeError naming the tensor and its type otherwise (DataView, Int32Array, Float16Array, …).
 */
export function toWireTensors(views: Record<string, ArrayBufferView> | undefined, what: string): Record<string, TensorData> | undefined {
  if (views === undefined || views === null) return undefined;
  if (typeof views !== 'object') throw new TypeError(`${what}: tensors must be an object of typed arrays by name, got ${typeof views}`);
  const out: Record<string, TensorData> = {};
  for (const [name, view] of Object.entries(views)) {
    if (!dtypeOf(view)) {
      const type = (view as object | null)?.constructor?.name ?? String(view);
      throw new TypeError(`${what}: tensor '${name}' is a ${type}; frames carry Float32Array, Float64Array, Uint32Array or Uint8Array`);
    }
    out[name] = view as TensorData;
  }
  return out;
}

/** The typed arrays of decoded tensors, by name (they share the received frames' memory when aligned). */
export function fromWireTensors(tensors: Record<string, Tensor>): Record<string, TypedArray> {
  const out: Record<string, TypedArray> = {};
  for (const [name, t] of Object.entries(tensors)) out[name] = t.data;
  return out;
}
