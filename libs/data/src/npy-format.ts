import { DataFileError } from './errors.ts';

/**
 * The NumPy `.npy` format (numpy/lib/format.py, "NEP 1"), the part this project reads and writes:
 *
 * ```
 * offset 0   6 bytes  magic "\x93NUMPY"
 * offset 6   1 byte   major version (1, 2 or 3)
 * offset 7   1 byte   minor version (0)
 * offset 8   u16 LE   header length HLEN (version 1.0), or u32 LE at offset 8 (versions 2.0 and 3.0)
 * then       HLEN     the header: a Python dict literal
 *                     {'descr': '<f4', 'fortran_order': False, 'shape': (N, M), }
 *                     padded with spaces and ended by '\n' so that the data starts at a multiple of 64
 * then                the data, C order, prod(shape) items of the dtype
 * ```
 * Version 1.0 and 2.0 headers are latin-1, 3.0 is UTF-8 (same layout as 2.0).
 */
export const NPY_MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59); // \x93NUMPY
/** Data starts at a multiple of this many bytes (numpy's ARRAY_ALIGN). */
export const NPY_ALIGN = 64;
/** Digits reserved for the first dimension in headers meant to be rewritten in place (numpy's GROWTH_AXIS_MAX_DIGITS). */
export const GROWTH_DIGITS = 21;

/** Element types handed back to callers. */
export type NpyDtype = 'float32' | 'uint8' | 'int32';

/** What a `descr` string says about the stored elements. */
export interface StoredType {
  /** 'f' float, 'u' unsigned int, 'i' signed int */
  readonly kind: 'f' | 'u' | 'i';
  /** bytes per element */
  readonly size: number;
  readonly littleEndian: boolean;
  /** the type callers get */
  readonly dtype: NpyDtype;
}

/** The dtype strings numpy writes for the arrays this project writes. */
export const DESCR_OF: Readonly<Record<NpyDtype, string>> = { float32: '<f4', uint8: '|u1', int32: '<i4' };

/**
 * Parses a simple dtype descr: byte order (`<` little, `>` big, `=` native, `|` not applicable), kind and size.
 * Supported: f4, f8 (read as float32), u1 (uint8), i1 i2 i4 i8 u2 u4 u8 (read as int32, range-checked).
 * Anything else (structured, complex, strings, f2, bool, datetimes) gives undefined.
 */
export function parseDescr(descr: string): StoredType | undefined {
  const m = /^([<>=|])([fiu])(\d+)$/.exec(descr);
  if (!m) return undefined;
  const order = m[1];
  const kind = m[2] as 'f' | 'u' | 'i';
  const size = Number(m[3]);
  const littleEndian = order !== '>'; // '=' is native, and every platform Node runs this on is little-endian
  if (kind === 'f' && (size === 4 || size === 8)) return { kind, size, littleEndian, dtype: 'float32' };
  if (kind === 'u' && size === 1) return { kind, size, littleEndian: true, dtype: 'uint8' };
  if ((kind === 'i' && [1, 2, 4, 8].includes(size)) || (kind === 'u' && [2, 4, 8].includes(size))) {
    return { kind, size, littleEndian, dtype: 'int32' };
  }
  return undefined;
}

/** A parsed header: the three keys numpy requires, and where the data begins. */
export interface NpyHeader {
  readonly version: [number, number];
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: number[];
  /** byte offset of the first data byte (preamble + header) */
  readonly dataOffset: number;
}

/** A Python literal as it appears in npy headers. */
type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

/**
 * Parses the Python literal subset used in npy headers: dicts with string keys, tuples, lists, strings in single
 * or double quotes, integers (with an optional Python 2 `L` suffix), True, False and None.
 */
export function parsePythonLiteral(text: string): PyValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at character ${i} of ${JSON.stringify(text.slice(0, 200))}`);
  };
  const skip = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  };
  const value = (): PyValue => {
    skip();
    const ch = text[i];
    if (ch === '{') {
      i++;
      const out: { [key: string]: PyValue } = {};
      for (;;) {
        skip();
        if (text[i] === '}') { i++; return out; }
        const key = value();
        if (typeof key !== 'string') fail('expected a string key');
        skip();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        if (Object.prototype.hasOwnProperty.call(out, key as string)) fail(`duplicate key '${key as string}'`);
        out[key as string] = value();
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail("expected ',' or '}'");
      }
    }
    if (ch === '(' || ch === '[') {
      const close = ch === '(' ? ')' : ']';
      i++;
      const out: PyValue[] = [];
      for (;;) {
        skip();
        if (text[i] === close) { i++; return out; }
        out.push(value());
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
    }
    if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) fail('unterminated string');
      const s = text.slice(i + 1, end);
      if (s.includes('\\')) fail('escapes in strings are not supported');
      i = end + 1;
      return s;
    }
    const word = /^(-?\d+)L?|^(True|False|None)\b/.exec(text.slice(i, i + 40));
    if (!word) return fail('unexpected input');
    i += word[0].length;
    if (word[1] !== undefined) return Number(word[1]);
    return word[2] === 'True' ? true : word[2] === 'False' ? false : null;
  };
  const v = value();
  skip();
  if (i !== text.length) fail('unexpected text after the literal');
  return v;
}

/** Size in bytes of the fixed part before the header text. */
function preambleSize(major: number): number {
  return major === 1 ? 10 : 12;
}

/**
 * Parses the preamble and header of an npy file from its first bytes.
 * `head` must hold at least the preamble; returns `needed` (total bytes the header occupies) when it holds less
 * than the whole header, so the caller can read more and call again.
 * @throws DataFileError naming `file` on a bad magic, an unknown version, or a malformed header dict.
 */
export function parseNpyHeader(file: string, head: Uint8Array): NpyHeader | { needed: number } {
  if (head.length < 10) throw new DataFileError(file, `not an npy file: only ${head.length} bytes long`);
  for (let k = 0; k < NPY_MAGIC.length; k++) {
    if (head[k] !== NPY_MAGIC[k]) {
      const seen = Array.from(head.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new DataFileError(file, `not an npy file: bad magic (expected 93 4e 55 4d 50 59 "\\x93NUMPY", found ${seen})`);
    }
  }
  const major = head[6];
  const minor = head[7];
  if (!((major === 1 || major === 2 || major === 3) && minor === 0)) {
    throw new DataFileError(file, `unsupported npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  }
  const pre = preambleSize(major);
  if (head.length < pre) return { needed: pre };
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataOffset = pre + hlen;
  if (head.length < dataOffset) return { needed: dataOffset };
  const bytes = head.subarray(pre, dataOffset);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes);
  let dict: PyValue;
  try {
    dict = parsePythonLiteral(text);
  } catch (e) {
    throw new DataFileError(file, `malformed npy header: ${(e as Error).message}`, { cause: e });
  }
  if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) {
    throw new DataFileError(file, `malformed npy header: expected a dict, found ${JSON.stringify(text.trim())}`);
  }
  const keys = Object.keys(dict).sort();
  if (keys.join(',') !== 'descr,fortran_order,shape') {
    throw new DataFileError(file, `malformed npy header: expected the keys descr, fortran_order, shape; found ${keys.join(', ') || 'none'}`);
  }
  const { descr, fortran_order: fortran, shape } = dict as { [key: string]: PyValue };
  if (typeof descr !== 'string') {
    throw new DataFileError(file, `unsupported dtype ${JSON.stringify(descr)} (structured dtypes are not supported; use float32 '<f4' or uint8 '|u1')`);
  }
  if (typeof fortran !== 'boolean') throw new DataFileError(file, `malformed npy header: fortran_order is ${JSON.stringify(fortran)}, not True or False`);
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new DataFileError(file, `malformed npy header: shape ${JSON.stringify(shape)} is not a tuple of non-negative integers`);
  }
  return { version: [major, minor], descr, fortranOrder: fortran, shape: shape as number[], dataOffset };
}

/** Python's repr of a shape tuple: `()`, `(3,)`, `(2, 3)`. */
export function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/**
 * Encodes preamble + header for a C-order array, as numpy writes it, padded so the data starts at a multiple of 64.
 * Version 1.0 unless the header exceeds 65535 bytes, then 2.0.
 * @param reserve extra spaces to leave before the padding, so that a larger first dimension can later be written
 *   in place (see `encodeNpyHeaderOfLength`)
 */
export function encodeNpyHeader(descr: string, shape: readonly number[], reserve = 0): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  let major = 1;
  let total = roundUp(10 + dict.length + reserve + 1, NPY_ALIGN);
  if (total - 10 > 0xffff) {
    major = 2;
    total = roundUp(12 + dict.length + reserve + 1, NPY_ALIGN);
  }
  return assemble(major, dict, total);
}

/**
 * Encodes a header of exactly `total` bytes (preamble included), for rewriting a header in place.
 * @throws RangeError if the dict does not fit in `total` bytes with the version that `total` implies
 */
export function encodeNpyHeaderOfLength(descr: string, shape: readonly number[], total: number, major: number): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  if (preambleSize(major) + dict.length + 1 > total) {
    throw new RangeError(`npy header for shape ${shapeRepr(shape)} needs more than the ${total} bytes reserved`);
  }
  return assemble(major, dict, total);
}

function assemble(major: number, dict: string, total: number): Uint8Array {
  const pre = preambleSize(major);
  const out = new Uint8Array(total);
  out.set(NPY_MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, total - pre, true);
  else view.setUint32(8, total - pre, true);
  out.fill(0x20, pre, total - 1);
  for (let k = 0; k < dict.length; k++) out[pre + k] = dict.charCodeAt(k);
  out[total - 1] = 0x0a;
  return out;
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/** Product of dimensions (1 for a 0-d array). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
