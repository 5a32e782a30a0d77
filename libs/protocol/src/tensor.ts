/**
 * Tensors on the wire: a typed array travels as one raw binary frame of a multipart message, and the
 * header names it with a {@link TensorRef} (`{frame, dtype, shape}`). Byte order is the host's, which
 * must be little-endian (checked once at load): every platform Node and ZeroMQ run on in practice is.
 */
import { endianness } from 'node:os';
import { ProtocolError } from './errors.ts';
import { array, int, object, oneOf, type Field } from './schema.ts';

if (endianness() !== 'LE') {
  throw new Error('@nbm/protocol: tensor frames are little-endian; this host is big-endian');
}

/** Element types a tensor frame may hold. */
export const DTYPES = ['f32', 'f64', 'u32', 'u8'] as const;
/** An element type of a tensor frame. */
export type DType = (typeof DTYPES)[number];

/** The typed array class for each dtype. */
export interface DTypeArrays {
  f32: Float32Array;
  f64: Float64Array;
  u32: Uint32Array;
  u8: Uint8Array;
}
/** Any typed array a tensor frame can hold. */
export type TensorData = DTypeArrays[DType];

type ArrayCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData; new (length: number): TensorData; BYTES_PER_ELEMENT: number };
const CTORS: Record<DType, ArrayCtor> = {
  f32: Float32Array as unknown as ArrayCtor,
  f64: Float64Array as unknown as ArrayCtor,
  u32: Uint32Array as unknown as ArrayCtor,
  u8: Uint8Array as unknown as ArrayCtor,
};

/** Bytes per element of a dtype. */
export function bytesPerElement(dtype: DType): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

/** A decoded (or to-be-encoded) tensor: its dtype, shape and data, `data.length` = product of `shape`. */
export interface Tensor<D extends DType = DType> {
  dtype: D;
  shape: number[];
  data: DTypeArrays[D];
}

/** What {@link encode} accepts for a tensor: a full {@link Tensor}, or a bare typed array (a 1-D tensor). */
export type TensorLike = Tensor | TensorData;

/** Header entry naming a tensor frame: frame index (≥ 1; frame 0 is the header), dtype and shape. */
export interface TensorRef {
  frame: number;
  dtype: DType;
  shape: number[];
}

/** Most dimensions a declared shape may have. */
export const MAX_TENSOR_RANK = 8;

/** Schema of one {@link TensorRef} in a header. Dimensions are bounded by 2^32 − 1 each. */
export const tensorRefField: Field<TensorRef, false> = object({
  frame: int({ min: 1, max: 65_535 }),
  dtype: oneOf(DTYPES),
  shape: array(int({ min: 0, max: 0xffff_ffff }), { max: MAX_TENSOR_RANK }),
});

/** The dtype of a typed array, or `undefined` if it is not one a tensor frame can hold. */
export function dtypeOf(data: unknown): DType | undefined {
  if (data instanceof Float32Array) return 'f32';
  if (data instanceof Float64Array) return 'f64';
  if (data instanceof Uint32Array) return 'u32';
  if (data instanceof Uint8Array) return 'u8';
  return undefined;
}

/**
 * Number of elements of a shape, or `Infinity` when it exceeds `limit` (computed without
 * losing precision on huge declared dimensions).
 */
export function elementCount(shape: readonly number[], limit = Number.MAX_SAFE_INTEGER): number {
  let n = 1;
  for (const d of shape) {
    if (d === 0) return 0;
  }
  for (const d of shape) {
    n *= d;
    if (n > limit) return Infinity;
  }
  return n;
}

/** Normalises a {@link TensorLike} into a {@link Tensor}, checking that shape and length agree. */
export function toTensor(name: string, t: TensorLike): Tensor {
  if (ArrayBuffer.isView(t)) {
    const dtype = dtypeOf(t);
    if (!dtype) throw new ProtocolError('schema', `tensor '${name}': unsupported array type ${t.constructor.name}`);
    return { dtype, shape: [t.length], data: t };
  }
  if (t === null || typeof t !== 'object') throw new ProtocolError('schema', `tensor '${name}': expected a typed array or {dtype, shape, data}, got ${t}`);
  const dtype = dtypeOf(t.data);
  if (!dtype || dtype !== t.dtype) {
    throw new ProtocolError('schema', `tensor '${name}': data is ${t.data?.constructor?.name}, declared dtype ${t.dtype}`);
  }
  if (!Array.isArray(t.shape) || elementCount(t.shape) !== t.data.length) {
    throw new ProtocolError('schema', `tensor '${name}': shape [${t.shape}] does not match ${t.data.length} elements`);
  }
  return t;
}

/** The bytes of a typed array as a Buffer sharing its memory (no copy). */
export function tensorFrame(data: TensorData): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Views a received frame as a typed array of `dtype`: shares the frame's memory when its offset is
 * aligned to the element size, else copies into a fresh (aligned) array. The caller has checked
 * that the byte length is a multiple of the element size.
 */
export function viewFrame<D extends DType>(frame: Uint8Array, dtype: D): DTypeArrays[D] {
  const Ctor = CTORS[dtype];
  const size = Ctor.BYTES_PER_ELEMENT;
  const length = frame.byteLength / size;
  if (frame.byteOffset % size === 0) {
    return new Ctor(frame.buffer, frame.byteOffset, length) as DTypeArrays[D];
  }
  const out = new Ctor(length);
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(frame);
  return out as DTypeArrays[D];
}
