/** The safetensors dtypes this library reads and writes. */
export type Dtype = 'F32' | 'F64' | 'I64' | 'U32' | 'U8';

/** The typed array that holds each dtype's values. */
export interface DtypeArrays {
  F32: Float32Array;
  F64: Float64Array;
  I64: BigInt64Array;
  U32: Uint32Array;
  U8: Uint8Array;
}

/** Any tensor's values, flattened row-major. */
export type TensorData = DtypeArrays[Dtype];

interface DtypeInfo {
  /** Bytes per element. */
  readonly bytes: number;
  /** The typed-array class for this dtype. */
  readonly ctor:
    | Float32ArrayConstructor
    | Float64ArrayConstructor
    | BigInt64ArrayConstructor
    | Uint32ArrayConstructor
    | Uint8ArrayConstructor;
}

const INFO: Record<Dtype, DtypeInfo> = {
  F32: { bytes: 4, ctor: Float32Array },
  F64: { bytes: 8, ctor: Float64Array },
  I64: { bytes: 8, ctor: BigInt64Array },
  U32: { bytes: 4, ctor: Uint32Array },
  U8: { bytes: 1, ctor: Uint8Array },
};

/** All supported dtypes, in the order error messages list them. */
export const DTYPES: readonly Dtype[] = Object.keys(INFO) as Dtype[];

export function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(INFO, value);
}

/** Bytes per element of `dtype`. */
export function dtypeBytes(dtype: Dtype): number {
  return INFO[dtype].bytes;
}

/** Whether `data` is the typed array that `dtype` requires (e.g. F32 ↔ Float32Array). */
export function matchesDtype(dtype: Dtype, data: unknown): data is TensorData {
  return data instanceof INFO[dtype].ctor;
}

/** The typed-array class name for `dtype`, for error messages. */
export function arrayName(dtype: Dtype): string {
  return INFO[dtype].ctor.name;
}

/** The host stores multi-byte numbers little-endian (as safetensors does). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses the byte order of each `width`-byte element of `bytes`, in place. */
export function swapBytesInPlace(bytes: Uint8Array, width: number): void {
  if (bytes.length % width !== 0) {
    throw new Error(`cannot byte-swap ${bytes.length} bytes in ${width}-byte elements`);
  }
  for (let i = 0; i < bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/**
 * The little-endian bytes of `data`: a view without copying on a little-endian host, a swapped copy otherwise.
 */
export function littleEndianBytes(dtype: Dtype, data: TensorData): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const width = dtypeBytes(dtype);
  if (HOST_LITTLE_ENDIAN || width === 1) return view;
  const copy = view.slice();
  swapBytesInPlace(copy, width);
  return copy;
}

/**
 * A fresh, properly aligned typed array of `dtype` holding the little-endian values in `bytes`
 * (whose length must be a multiple of the element size).
 */
export function fromLittleEndianBytes<D extends Dtype>(dtype: D, bytes: Uint8Array): DtypeArrays[D] {
  const width = dtypeBytes(dtype);
  const out = new INFO[dtype].ctor(bytes.length / width);
  const outBytes = new Uint8Array(out.buffer);
  outBytes.set(bytes);
  if (!HOST_LITTLE_ENDIAN && width > 1) swapBytesInPlace(outBytes, width);
  return out as DtypeArrays[D];
}

/**
 * Number of elements of a tensor of this shape (1 for the scalar shape `[]`).
 * Throws (with `what` naming the tensor) unless every dimension is a non-negative safe integer.
 */
export function elementCount(shape: readonly unknown[], what: string): number {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new Error(`${what} has an invalid shape ${JSON.stringify(shape)} (dimensions must be non-negative integers)`);
    }
    n *= d;
    if (!Number.isSafeInteger(n)) throw new Error(`${what} has an impossibly large shape ${JSON.stringify(shape)}`);
  }
  return n;
}
