import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DataFileError, fileSystemError } from './errors.ts';
import {
  DESCR_OF,
  type NpyDtype,
  type StoredType,
  elementCount,
  encodeNpyHeader,
  parseDescr,
  parseNpyHeader,
  shapeRepr,
} from './npy-format.ts';
import { atomicWriteFileSync } from '@nbm/checkpoint';

/** An array read from an `.npy` file, C order: element (i, j) of a 2-D array is `data[i * shape[1] + j]`. */
export type NpyArray =
  | { readonly dtype: 'float32'; readonly descr: string; readonly shape: number[]; readonly data: Float32Array }
  | { readonly dtype: 'uint8'; readonly descr: string; readonly shape: number[]; readonly data: Uint8Array }
  | { readonly dtype: 'int32'; readonly descr: string; readonly shape: number[]; readonly data: Int32Array };

/** Arrays `writeNpy` accepts, written as '<f4', '|u1' and '<i4'. */
export type NpyWritable = Float32Array | Uint8Array | Int32Array;

/** Bytes read per `readSync` call when converting (f8, i8, big-endian, …). */
const CHUNK = 1 << 20;

/**
 * Reads an `.npy` file (format 1.0, 2.0 or 3.0, C order).
 *
 * | stored descr                          | returned dtype | note                                      |
 * |---------------------------------------|----------------|-------------------------------------------|
 * | `<f4` `>f4`                           | float32        |                                           |
 * | `<f8` `>f8`                           | float32        | rounded; a finite value beyond float32 is an error |
 * | `\|u1`                                | uint8          |                                           |
 * | `i1 i2 i4 i8 u2 u4 u8` (either order) | int32          | a value outside int32 is an error          |
 *
 * Fortran-order arrays of 2 or more dimensions are refused (1-D ones are the same bytes either way).
 * @throws DataFileError naming `path` and the problem: missing file, bad magic, unsupported version or dtype,
 *   fortran_order True, malformed header, truncated data, trailing bytes, out-of-range values.
 */
export function readNpy(path: string): NpyArray {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw fileSystemError(path, 'read', e);
  }
  try {
    return readOpenNpy(path, fd);
  } finally {
    closeSync(fd);
  }
}

function readOpenNpy(path: string, fd: number): NpyArray {
  const size = fstatSync(fd).size;
  let head = readAt(path, fd, Math.min(size, 4096), 0);
  let header = parseNpyHeader(path, head);
  if ('needed' in header) {
    if (header.needed > size) {
      throw new DataFileError(path, `truncated: the header needs ${header.needed} bytes, the file holds ${size}`);
    }
    head = readAt(path, fd, header.needed, 0);
    header = parseNpyHeader(path, head);
    if ('needed' in header) throw new DataFileError(path, 'malformed npy header: header length is inconsistent');
  }
  const stored = parseDescr(header.descr);
  if (!stored) {
    throw new DataFileError(
      path,
      `unsupported dtype '${header.descr}' (supported: float32 '<f4', float64 '<f8' read as float32, uint8 '|u1', ` +
        `integers read as int32)`,
    );
  }
  if (header.fortranOrder && header.shape.length >= 2) {
    throw new DataFileError(
      path,
      `fortran_order is True: column-major arrays are not supported; save it in C order, ` +
        `e.g. np.save(path, np.ascontiguousarray(a))`,
    );
  }
  const n = elementCount(header.shape);
  const expected = n * stored.size;
  const available = size - header.dataOffset;
  if (available < expected) {
    throw new DataFileError(
      path,
      `truncated: shape ${shapeRepr(header.shape)} of '${header.descr}' needs ${expected} bytes of data, the file holds ${available}`,
    );
  }
  if (available > expected) {
    throw new DataFileError(
      path,
      `${available - expected} unexpected bytes after the data of shape ${shapeRepr(header.shape)} ('${header.descr}')`,
    );
  }
  const base = { descr: header.descr, shape: header.shape };
  const data = readElements(path, fd, header.dataOffset, n, stored);
  if (data instanceof Float32Array) return { ...base, dtype: 'float32', data };
  if (data instanceof Uint8Array) return { ...base, dtype: 'uint8', data };
  return { ...base, dtype: 'int32', data };
}

/** Reads `length` bytes at `position` (a short file is reported as truncated). */
function readAt(path: string, fd: number, length: number, position: number): Uint8Array {
  const out = new Uint8Array(length);
  readInto(path, fd, out, position);
  return out;
}

function readInto(path: string, fd: number, out: Uint8Array, position: number): void {
  let done = 0;
  while (done < out.length) {
    const got = readSync(fd, out, done, Math.min(out.length - done, 1 << 30), position + done);
    if (got === 0) throw new DataFileError(path, `truncated: the file ended while reading at byte ${position + done}`);
    done += got;
  }
}

function readElements(path: string, fd: number, offset: number, n: number, t: StoredType): Float32Array | Uint8Array | Int32Array {
  const out = t.dtype === 'float32' ? new Float32Array(n) : t.dtype === 'uint8' ? new Uint8Array(n) : new Int32Array(n);
  const native = t.size === 4 && t.littleEndian && (t.kind === 'f' || t.kind === 'i');
  if (t.dtype === 'uint8' || native) {
    // stored bytes are the output's bytes (this library assumes a little-endian host, as Node's platforms are)
    readInto(path, fd, new Uint8Array(out.buffer, out.byteOffset, out.byteLength), offset);
    return out;
  }
  const perChunk = Math.floor(CHUNK / t.size);
  const buf = new Uint8Array(perChunk * t.size);
  const view = new DataView(buf.buffer);
  const le = t.littleEndian;
  for (let start = 0; start < n; start += perChunk) {
    const m = Math.min(perChunk, n - start);
    const bytes = buf.subarray(0, m * t.size);
    readInto(path, fd, bytes, offset + start * t.size);
    for (let k = 0; k < m; k++) {
      const v = decode(view, k * t.size, t, le);
      if (t.dtype === 'float32') {
        const f = Math.fround(v);
        if (!Number.isFinite(f) && Number.isFinite(v)) {
          throw new DataFileError(path, `element ${start + k} (${v}) of this float64 array does not fit in float32`);
        }
        out[start + k] = f;
      } else {
        if (!(v >= -2147483648 && v <= 2147483647)) {
          throw new DataFileError(path, `element ${start + k} (${v}) of this '${t.kind}${t.size}' array does not fit in int32`);
        }
        out[start + k] = v;
      }
    }
  }
  return out;
}

function decode(view: DataView, at: number, t: StoredType, le: boolean): number {
  if (t.kind === 'f') return t.size === 4 ? view.getFloat32(at, le) : view.getFloat64(at, le);
  if (t.kind === 'i') {
    if (t.size === 1) return view.getInt8(at);
    if (t.size === 2) return view.getInt16(at, le);
    if (t.size === 4) return view.getInt32(at, le);
    return Number(view.getBigInt64(at, le));
  }
  if (t.size === 2) return view.getUint16(at, le);
  if (t.size === 4) return view.getUint32(at, le);
  return Number(view.getBigUint64(at, le));
}

/** The dtype of an array `writeNpy` accepts. */
export function dtypeOf(data: NpyWritable): NpyDtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int32Array) return 'int32';
  throw new TypeError('writeNpy takes a Float32Array, Uint8Array or Int32Array');
}

/** Checks that `shape` is a list of non-negative safe integers; names `file` in the error. */
export function checkShape(file: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new DataFileError(file, `shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
}

/**
 * Writes `data` with `shape` (C order) as an `.npy` file, format 1.0 (2.0 if the header exceeds 65535 bytes),
 * atomically: temporary file in the same directory, fsync, rename. An existing file is replaced.
 * @param data (prod(shape),) float32 → '<f4', uint8 → '|u1', int32 → '<i4'
 * @throws DataFileError if the shape does not hold exactly `data.length` elements, or the file cannot be written
 */
export function writeNpy(path: string, data: NpyWritable, shape: readonly number[]): void {
  const dtype = dtypeOf(data);
  checkShape(path, shape);
  const n = elementCount(shape);
  if (n !== data.length) {
    throw new DataFileError(path, `shape ${shapeRepr(shape)} holds ${n} elements but the data has ${data.length}`);
  }
  const header = encodeNpyHeader(DESCR_OF[dtype], shape);
  try {
    atomicWriteFileSync(path, Buffer.concat([header, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)]));
  } catch (e) {
    throw fileSystemError(path, 'write', e);
  }
}
