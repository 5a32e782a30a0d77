import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataFileError, fileSystemError } from './errors.ts';

/** An unsigned-byte IDX array: dims as stored (big-endian u32 each), data in C order. */
export interface IdxArray {
  readonly dims: number[];
  readonly data: Uint8Array;
}

/**
 * Reads an IDX file of unsigned bytes (LeCun's MNIST format), gzipped or not:
 *
 * ```
 * 0x00 0x00  0x08 (type: unsigned byte)  ndim
 * ndim × u32 big-endian dimension sizes
 * prod(dims) bytes of data
 * ```
 * MNIST images are `0x00000803` (count, 28, 28), labels `0x00000801` (count).
 * @param expectDims the dims the caller requires, `-1` for "any size"; a mismatch is an error naming the file
 * @throws DataFileError on a missing file, a bad magic, another element type, a size mismatch or extra bytes
 */
export function readIdx(path: string, expectDims?: readonly number[]): IdxArray {
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (e) {
    throw fileSystemError(path, 'read', e);
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (e) {
      throw new DataFileError(path, `corrupt gzip data: ${(e as Error).message}`, { cause: e });
    }
  }
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0) {
    throw new DataFileError(path, 'not an IDX file: the magic number must start with two zero bytes');
  }
  if (raw[2] !== 0x08) {
    throw new DataFileError(path, `unsupported IDX element type 0x${raw[2].toString(16).padStart(2, '0')} (only 0x08, unsigned byte)`);
  }
  const ndim = raw[3];
  const start = 4 + 4 * ndim;
  if (raw.length < start) throw new DataFileError(path, `truncated: the IDX header declares ${ndim} dimensions`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims: number[] = [];
  for (let k = 0; k < ndim; k++) dims.push(view.getUint32(4 + 4 * k, false));
  if (expectDims) {
    const ok = expectDims.length === dims.length && expectDims.every((d, k) => d < 0 || d === dims[k]);
    if (!ok) {
      throw new DataFileError(path, `IDX dims are (${dims.join(', ')}), expected (${expectDims.map((d) => (d < 0 ? 'any' : d)).join(', ')})`);
    }
  }
  const n = dims.reduce((a, b) => a * b, 1);
  const have = raw.length - start;
  if (have < n) throw new DataFileError(path, `truncated: dims (${dims.join(', ')}) need ${n} data bytes, the file holds ${have}`);
  if (have > n) throw new DataFileError(path, `${have - n} unexpected bytes after the data of dims (${dims.join(', ')})`);
  // a plain Uint8Array view (not a Buffer, whose subclass methods differ)
  return { dims, data: new Uint8Array(raw.buffer, raw.byteOffset + start, n) };
}
