import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { atomicWriteWith } from './atomic.ts';
import {
  DTYPES,
  arrayName,
  dtypeBytes,
  elementCount,
  fromLittleEndianBytes,
  isDtype,
  littleEndianBytes,
  matchesDtype,
  type Dtype,
  type TensorData,
} from './dtypes.ts';
import { corrupt, formatShape, invalid } from './errors.ts';

/**
 * Safetensors (https://github.com/huggingface/safetensors), byte for byte:
 *
 *   [8 bytes: u64 little-endian N] [N bytes: UTF-8 JSON header, space-padded] [data section]
 *
 * Header: `{"__metadata__": {string: string}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ..}`
 * with offsets relative to the data section. The data section is the tensors, row-major, little-endian, with no
 * gaps and no overlaps. We pad the header so the data section starts at a multiple of 8 bytes, lay the tensors out
 * widest dtype first (so each one is aligned to its element size in the file), and store the SHA-256 of the data
 * section as lowercase hex under the metadata key {@link CHECKSUM_KEY}. So that a damaged header (a changed
 * shape, or a changed metadata value such as the RNG state) cannot pass either, {@link HEADER_CHECKSUM_KEY} holds
 * the SHA-256 of the header's canonical JSON (`JSON.stringify` of the parsed header without that one key).
 */

/** Metadata key holding the SHA-256 (lowercase hex) of the data section. */
export const CHECKSUM_KEY = 'nbm.sha256';

/** Metadata key holding the SHA-256 (lowercase hex) of the canonical header JSON without this key. */
export const HEADER_CHECKSUM_KEY = 'nbm.header_sha256';

/** The largest header we accept (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/** One tensor to write: `data` holds `shape`'s element count of values, row-major. */
export interface TensorInput {
  name: string;
  dtype: Dtype;
  shape: readonly number[];
  data: TensorData;
}

/** One tensor as read: `data` is a fresh typed array of the dtype (`BigInt64Array` for I64). */
export interface TensorRecord {
  dtype: Dtype;
  shape: number[];
  data: TensorData;
}

/** What a safetensors file holds. */
export interface SafetensorsContents {
  /** The tensors in header order. */
  tensors: Map<string, TensorRecord>;
  /** The `__metadata__` map, without {@link CHECKSUM_KEY} and {@link HEADER_CHECKSUM_KEY}. */
  metadata: Record<string, string>;
  /** `verified` when the file carried both checksums and they matched; `absent` when it carried neither. */
  checksum: 'verified' | 'absent';
}

interface HeaderEntry {
  dtype: Dtype;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * The bytes of a safetensors file as a list of chunks (header, then each tensor's bytes), without copying the
 * tensors on a little-endian host. `path` only names the target in error messages.
 */
export function encodeSafetensorsChunks(
  tensors: readonly TensorInput[],
  metadata: Readonly<Record<string, string>>,
  path = '<buffer>',
): Uint8Array[] {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (typeof t.name !== 'string' || t.name.length === 0) throw invalid(path, 'a tensor has an empty name');
    if (t.name === METADATA_KEY) throw invalid(path, `"${METADATA_KEY}" cannot be a tensor name`);
    if (seen.has(t.name)) throw invalid(path, `tensor ${t.name} appears twice`);
    seen.add(t.name);
    if (!isDtype(t.dtype)) throw invalid(path, `tensor ${t.name} has unsupported dtype ${String(t.dtype)} (supported: ${DTYPES.join(', ')})`);
    if (!matchesDtype(t.dtype, t.data)) {
      const got = (t.data as object | undefined)?.constructor?.name ?? typeof t.data;
      throw invalid(path, `tensor ${t.name} is ${t.dtype} but its data is a ${got}, not a ${arrayName(t.dtype)}`);
    }
    let n: number;
    try {
      n = elementCount(t.shape, `tensor ${t.name}`);
    } catch (err) {
      throw invalid(path, (err as Error).message);
    }
    if (n !== t.data.length) {
      throw invalid(path, `tensor ${t.name} has ${t.data.length} values but shape ${formatShape(t.shape)} needs ${n}`);
    }
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (key === CHECKSUM_KEY || key === HEADER_CHECKSUM_KEY) {
      throw invalid(path, `metadata key ${key} is reserved for the checksum this writer adds`);
    }
    if (typeof value !== 'string') throw invalid(path, `metadata ${key} must be a string, got ${typeof value}`);
  }

  // Widest elements first (stable), so every tensor starts at a multiple of its element size.
  const layout = tensors
    .map((t, i) => ({ t, i }))
    .sort((a, b) => dtypeBytes(b.t.dtype) - dtypeBytes(a.t.dtype) || a.i - b.i)
    .map(({ t }) => t);

  const hash = createHash('sha256');
  const dataChunks: Uint8Array[] = [];
  const offsets = new Map<string, [number, number]>();
  let offset = 0;
  for (const t of layout) {
    const bytes = littleEndianBytes(t.dtype, t.data);
    hash.update(bytes);
    dataChunks.push(bytes);
    offsets.set(t.name, [offset, offset + bytes.length]);
    offset += bytes.length;
  }

  const meta: Record<string, string> = { ...metadata, [CHECKSUM_KEY]: hash.digest('hex') };
  const header: Record<string, unknown> = { [METADATA_KEY]: meta };
  for (const t of tensors) {
    setOwn(header, t.name, { dtype: t.dtype, shape: [...t.shape], data_offsets: offsets.get(t.name) });
  }
  meta[HEADER_CHECKSUM_KEY] = sha256Hex(canonicalHeader(header));
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20);
  padded.set(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(padded.length), true);
  return [prefix, padded, ...dataChunks];
}

/** The bytes of a safetensors file holding `tensors` and `metadata` (plus the checksum). */
export function encodeSafetensors(
  tensors: readonly TensorInput[],
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const chunks = encodeSafetensorsChunks(tensors, metadata);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** `obj[key] = value` as an own property, even for keys such as `__proto__`. */
function setOwn(obj: object, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function sha256Hex(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The text the header checksum covers: the header's JSON without {@link HEADER_CHECKSUM_KEY}. */
function canonicalHeader(header: Record<string, unknown>): string {
  const meta = header[METADATA_KEY];
  if (typeof meta !== 'object' || meta === null) return JSON.stringify(header);
  const { [HEADER_CHECKSUM_KEY]: _omit, ...rest } = meta as Record<string, unknown>;
  return JSON.stringify({ ...header, [METADATA_KEY]: rest });
}

function parseEntry(path: string, name: string, raw: unknown, dataLength: number): HeaderEntry {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw corrupt(path, `header entry ${name} is not an object`);
  }
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (!isDtype(dtype)) {
    throw corrupt(path, `tensor ${name} has unsupported dtype ${JSON.stringify(dtype)} (supported: ${DTYPES.join(', ')})`);
  }
  if (!Array.isArray(shape)) throw corrupt(path, `tensor ${name} has no shape array`);
  let n: number;
  try {
    n = elementCount(shape, `tensor ${name}`);
  } catch (err) {
    throw corrupt(path, (err as Error).message);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw corrupt(path, `tensor ${name} has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) {
    throw corrupt(path, `tensor ${name} ends at data byte ${end} but the data section has only ${dataLength} bytes (truncated?)`);
  }
  const expectedBytes = n * dtypeBytes(dtype);
  if (end - begin !== expectedBytes) {
    throw corrupt(
      path,
      `tensor ${name} occupies ${end - begin} bytes but ${dtype} ${formatShape(shape as number[])} needs ${expectedBytes}`,
    );
  }
  return { dtype, shape: shape as number[], data_offsets: [begin, end] };
}

function parseMetadata(path: string, raw: unknown): Record<string, string> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw corrupt(path, `${METADATA_KEY} is not an object of strings`);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string') throw corrupt(path, `${METADATA_KEY}.${key} is not a string`);
    setOwn(out, key, value);
  }
  return out;
}

/** Every byte of the data section must belong to exactly one tensor. */
function checkCoverage(path: string, entries: Map<string, HeaderEntry>, dataLength: number): void {
  const spans = [...entries].sort(
    ([, a], [, b]) => a.data_offsets[0] - b.data_offsets[0] || a.data_offsets[1] - b.data_offsets[1],
  );
  let covered = 0;
  let previous = '';
  for (const [name, { data_offsets: [begin, end] }] of spans) {
    if (begin < covered) {
      throw corrupt(path, `tensors ${previous} and ${name} overlap (data bytes ${begin}..${Math.min(end, covered)})`);
    }
    if (begin > covered) throw corrupt(path, `data bytes ${covered}..${begin} belong to no tensor`);
    covered = end;
    previous = name;
  }
  if (covered !== dataLength) {
    throw corrupt(path, `data bytes ${covered}..${dataLength} belong to no tensor (trailing garbage?)`);
  }
}

/**
 * Parses a safetensors file's bytes. Every structural problem (truncation, a bad header length, a header that is
 * not JSON, offsets outside the data or overlapping, a byte size that does not match dtype × shape, a checksum
 * mismatch) throws a `CheckpointError` of kind `corrupt` naming `path` and the problem.
 */
export function decodeSafetensors(bytes: Uint8Array, path = '<buffer>'): SafetensorsContents {
  if (bytes.length < 8) {
    throw corrupt(path, `truncated: the file has ${bytes.length} bytes, fewer than the 8-byte header length`);
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw corrupt(path, `bad header length ${headerLength} (more than ${MAX_HEADER_BYTES} bytes)`);
  }
  const n = Number(headerLength);
  if (8 + n > bytes.length) {
    throw corrupt(path, `truncated or bad header length: the header claims ${n} bytes but only ${bytes.length - 8} follow`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw corrupt(path, 'the header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw corrupt(path, `the header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw corrupt(path, 'the header is not a JSON object');
  }

  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const allMetadata = parseMetadata(path, (header as Record<string, unknown>)[METADATA_KEY]);
  const entries = new Map<string, HeaderEntry>();
  for (const [name, raw] of Object.entries(header)) {
    if (name !== METADATA_KEY) entries.set(name, parseEntry(path, name, raw, dataLength));
  }
  checkCoverage(path, entries, dataLength);

  const data = bytes.subarray(dataStart);
  const { [CHECKSUM_KEY]: stored, [HEADER_CHECKSUM_KEY]: storedHeader, ...metadata } = allMetadata;
  if (stored !== undefined || storedHeader !== undefined) {
    if (storedHeader === undefined) throw corrupt(path, `the header checksum ${HEADER_CHECKSUM_KEY} is missing`);
    if (stored === undefined) throw corrupt(path, `the data checksum ${CHECKSUM_KEY} is missing`);
    if (storedHeader !== sha256Hex(canonicalHeader(header as Record<string, unknown>))) {
      throw corrupt(path, 'checksum mismatch in the header');
    }
    if (stored !== sha256Hex(data)) throw corrupt(path, 'checksum mismatch');
  }

  const tensors = new Map<string, TensorRecord>();
  for (const [name, { dtype, shape, data_offsets: [begin, end] }] of entries) {
    tensors.set(name, { dtype, shape, data: fromLittleEndianBytes(dtype, data.subarray(begin, end)) });
  }
  return { tensors, metadata, checksum: stored === undefined ? 'absent' : 'verified' };
}

/**
 * Writes a safetensors file atomically (temporary file, fsync, rename, fsync of the directory), with the SHA-256
 * of its data section in the metadata. Bad input throws a `CheckpointError` of kind `invalid` before
 * anything touches the disk.
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly TensorInput[],
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  const chunks = encodeSafetensorsChunks(tensors, metadata, path);
  await atomicWriteWith(path, async (file) => {
    for (const chunk of chunks) {
      let written = 0;
      while (written < chunk.length) {
        const { bytesWritten } = await file.write(chunk, written, chunk.length - written);
        written += bytesWritten;
      }
    }
  });
}

/**
 * Reads a safetensors file; see {@link decodeSafetensors} for what is checked. A missing file or other I/O
 * failure throws the file system's error unchanged.
 */
export async function readSafetensors(path: string): Promise<SafetensorsContents> {
  const file = await readFile(path);
  return decodeSafetensors(new Uint8Array(file.buffer, file.byteOffset, file.byteLength), path);
}
