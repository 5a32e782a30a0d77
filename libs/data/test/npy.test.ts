import { expect } from 'chai';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFileError, readNpy, writeNpy } from '../src/index.ts';
import { encodeNpyHeader } from '../src/npy-format.ts';

/** Bytes of an ASCII string. */
const ascii = (s: string) => Array.from(s, (ch) => ch.charCodeAt(0));

/**
 * A reference file written byte by byte from the format spec (numpy 1.24 and 2.4 write exactly these bytes for
 * `np.save(f, np.array([[1, -2, 0.5], [0, 3, -0.25]], dtype='<f4'))`):
 * magic \x93NUMPY, version 1.0, HLEN = 118 as u16 LE (10 + 118 = 128, a multiple of 64), the 59-character dict,
 * 58 spaces, '\n', then six little-endian float32s.
 */
const DICT_F4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
const REFERENCE_F4 = Uint8Array.from([
  0x93, ...ascii('NUMPY'), 0x01, 0x00, 0x76, 0x00,
  ...ascii(DICT_F4), ...Array(58).fill(0x20), 0x0a,
  0x00, 0x00, 0x80, 0x3f, /* 1 */ 0x00, 0x00, 0x00, 0xc0, /* -2 */ 0x00, 0x00, 0x00, 0x3f, /* 0.5 */
  0x00, 0x00, 0x00, 0x00, /* 0 */ 0x00, 0x00, 0x40, 0x40, /* 3 */ 0x00, 0x00, 0x80, 0xbe, /* -0.25 */
]);

/** An npy file from a dict and raw data bytes, version 1.0 or 2.0, padded to 64 as the spec says. */
function handMade(dict: string, data: number[], major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const hlen = total - pre;
  const lenBytes = major === 1 ? [hlen & 0xff, hlen >> 8] : [hlen & 0xff, (hlen >> 8) & 0xff, (hlen >> 16) & 0xff, hlen >>> 24];
  return Uint8Array.from([0x93, ...ascii('NUMPY'), major, 0, ...lenBytes, ...ascii(dict), ...Array(total - pre - dict.length - 1).fill(0x20), 0x0a, ...data]);
}
const f64le = (...v: number[]) => { const b = Buffer.alloc(8 * v.length); v.forEach((x, i) => b.writeDoubleLE(x, 8 * i)); return [...b]; };
const f32be = (...v: number[]) => { const b = Buffer.alloc(4 * v.length); v.forEach((x, i) => b.writeFloatBE(x, 4 * i)); return [...b]; };
const i64le = (...v: bigint[]) => { const b = Buffer.alloc(8 * v.length); v.forEach((x, i) => b.writeBigInt64LE(x, 8 * i)); return [...b]; };

describe('npy', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'nbm-npy-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, bytes: Uint8Array) => { const p = join(dir, name); writeFileSync(p, bytes); return p; };

  /** Expects fn to throw a DataFileError naming `path` and matching `problem`. */
  function expectError(fn: () => unknown, path: string, problem: RegExp): void {
    let err: unknown;
    try { fn(); } catch (e) { err = e; }
    expect(err, 'expected an error').to.be.instanceOf(DataFileError);
    const e = err as DataFileError;
    expect(e.message.startsWith(`${path}: `), e.message).to.equal(true);
    expect(e.problem).to.match(problem);
  }

  describe('reading', () => {
    it('reads the hand-written reference file', () => {
      const a = readNpy(file('ref.npy', REFERENCE_F4));
      expect(a.dtype).to.equal('float32');
      expect(a.descr).to.equal('<f4');
      expect(a.shape).to.deep.equal([2, 3]);
      expect(Array.from(a.data)).to.deep.equal([1, -2, 0.5, 0, 3, -0.25]);
    });

    it('writes the reference file byte for byte', () => {
      const p = join(dir, 'mine.npy');
      writeNpy(p, Float32Array.of(1, -2, 0.5, 0, 3, -0.25), [2, 3]);
      expect(Buffer.from(readFileSync(p)).equals(Buffer.from(REFERENCE_F4))).to.equal(true);
    });

    it('reads uint8, 1-D and 0-d arrays', () => {
      const u = readNpy(file('u.npy', handMade("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", [0, 7, 128, 255])));
      expect(u.dtype).to.equal('uint8');
      expect(u.shape).to.deep.equal([4]);
      expect(Array.from(u.data)).to.deep.equal([0, 7, 128, 255]);
      const s = readNpy(file('s.npy', handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", [0, 0, 0x80, 0x3f])));
      expect(s.shape).to.deep.equal([]);
      expect(Array.from(s.data)).to.deep.equal([1]);
    });

    it('reads float64 as float32 and big-endian float32', () => {
      const d = readNpy(file('d.npy', handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f64le(0.1, -1e10, 2.5))));
      expect(d.dtype).to.equal('float32');
      expect(Array.from(d.data)).to.deep.equal([Math.fround(0.1), Math.fround(-1e10), 2.5]);
      const b = readNpy(file('b.npy', handMade("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 2), }", f32be(1.25, -3))));
      expect(Array.from(b.data)).to.deep.equal([1.25, -3]);
    });

    it('reads int64 labels as int32 and refuses values beyond int32', () => {
      const l = readNpy(file('l.npy', handMade("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", i64le(0n, 9n, -4n))));
      expect(l.dtype).to.equal('int32');
      expect(Array.from(l.data)).to.deep.equal([0, 9, -4]);
      const p = file('big.npy', handMade("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", i64le(1n << 40n)));
      expectError(() => readNpy(p), p, /does not fit in int32/);
    });

    it('refuses float64 values that overflow float32', () => {
      const p = file('o.npy', handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", f64le(1e300)));
      expectError(() => readNpy(p), p, /does not fit in float32/);
    });

    it('reads format 2.0 and tolerates a double-quoted, reordered dict', () => {
      const dict = `{"shape": (2,), "fortran_order": False, "descr": "|u1"}`;
      const a = readNpy(file('v2.npy', handMade(dict, [3, 4], 2)));
      expect(Array.from(a.data)).to.deep.equal([3, 4]);
    });
  });

  describe('round trips', () => {
    it('float32 (2-D) and uint8 (3-D) survive writeNpy → readNpy exactly', () => {
      const f = new Float32Array(5 * 7).map((_, i) => Math.fround(Math.sin(i) * 1e3 ** (i % 3)));
      writeNpy(join(dir, 'f.npy'), f, [5, 7]);
      const rf = readNpy(join(dir, 'f.npy'));
      expect(rf.shape).to.deep.equal([5, 7]);
      expect(Buffer.from(rf.data.buffer).equals(Buffer.from(f.buffer))).to.equal(true);
      const u = new Uint8Array(2 * 3 * 4).map((_, i) => (i * 37) % 256);
      writeNpy(join(dir, 'u.npy'), u, [2, 3, 4]);
      const ru = readNpy(join(dir, 'u.npy'));
      expect(ru.dtype).to.equal('uint8');
      expect(ru.shape).to.deep.equal([2, 3, 4]);
      expect(Array.from(ru.data)).to.deep.equal(Array.from(u));
    });

    it('int32, empty arrays and subarray views round-trip', () => {
      writeNpy(join(dir, 'i.npy'), Int32Array.of(-1, 2147483647), [2]);
      expect(Array.from(readNpy(join(dir, 'i.npy')).data)).to.deep.equal([-1, 2147483647]);
      writeNpy(join(dir, 'e.npy'), new Float32Array(0), [0, 5]);
      expect(readNpy(join(dir, 'e.npy')).shape).to.deep.equal([0, 5]);
      const big = Float32Array.of(9, 8, 7, 6);
      writeNpy(join(dir, 'v.npy'), big.subarray(1, 3), [2]);
      expect(Array.from(readNpy(join(dir, 'v.npy')).data)).to.deep.equal([8, 7]);
    });

    it('every header it writes puts the data at a multiple of 64 and ends in a newline', () => {
      for (const shape of [[], [1], [12, 34], [100000, 784], [1, 2, 3, 4, 5, 6, 7, 8]]) {
        const h = encodeNpyHeader('<f4', shape);
        expect(h.length % 64).to.equal(0);
        expect(h[h.length - 1]).to.equal(0x0a);
        expect(h[6]).to.equal(1);
      }
    });

    it('switches to format 2.0 when the header exceeds 65535 bytes', () => {
      const shape = new Array(22000).fill(1); // "1, " × 22000 > 65535 characters
      writeNpy(join(dir, 'wide.npy'), Float32Array.of(42), shape);
      const bytes = readFileSync(join(dir, 'wide.npy'));
      expect(bytes[6]).to.equal(2);
      expect((12 + bytes.readUInt32LE(8)) % 64).to.equal(0);
      const a = readNpy(join(dir, 'wide.npy'));
      expect(a.shape.length).to.equal(22000);
      expect(Array.from(a.data)).to.deep.equal([42]);
    });

    it('writes atomically: no temporary file is left, and a bad call leaves the old file intact', () => {
      const p = join(dir, 'a.npy');
      writeNpy(p, Float32Array.of(1, 2), [2]);
      expect(() => writeNpy(p, Float32Array.of(1, 2, 3), [2])).to.throw(DataFileError, /holds 2 elements but the data has 3/);
      expect(Array.from(readNpy(p).data)).to.deep.equal([1, 2]);
      writeNpy(p, Float32Array.of(5), [1]);
      expect(Array.from(readNpy(p).data)).to.deep.equal([5]);
      expect(readdirSync(dir)).to.deep.equal(['a.npy']);
    });
  });

  describe('errors name the file and the problem', () => {
    it('missing file', () => {
      const p = join(dir, 'nope.npy');
      expectError(() => readNpy(p), p, /no such file/);
    });

    it('bad magic', () => {
      const bytes = REFERENCE_F4.slice();
      bytes[1] = ascii('X')[0];
      const p = file('magic.npy', bytes);
      expectError(() => readNpy(p), p, /bad magic/);
      const q = file('short.npy', Uint8Array.of(0x93, 0x4e));
      expectError(() => readNpy(q), q, /not an npy file/);
    });

    it('unsupported version', () => {
      const bytes = REFERENCE_F4.slice();
      bytes[6] = 4;
      const p = file('ver.npy', bytes);
      expectError(() => readNpy(p), p, /unsupported npy format version 4\.0/);
    });

    it('unsupported dtypes: complex, structured, strings, float16', () => {
      for (const descr of ["'<c8'", "[('a', '<f4')]", "'<U3'", "'<f2'", "'|b1'"]) {
        const p = file('dt.npy', handMade(`{'descr': ${descr}, 'fortran_order': False, 'shape': (1,), }`, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        expectError(() => readNpy(p), p, /unsupported dtype/);
      }
    });

    it('fortran_order True for a 2-D array', () => {
      const p = file('f.npy', handMade("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", new Array(24).fill(0)));
      expectError(() => readNpy(p), p, /fortran_order is True/);
    });

    it('truncated data and trailing bytes', () => {
      const p = file('t.npy', REFERENCE_F4.subarray(0, REFERENCE_F4.length - 3));
      expectError(() => readNpy(p), p, /truncated: shape \(2, 3\) of '<f4' needs 24 bytes of data, the file holds 21/);
      const q = file('x.npy', Uint8Array.from([...REFERENCE_F4, 1, 2]));
      expectError(() => readNpy(q), q, /2 unexpected bytes after the data/);
      const r = file('h.npy', REFERENCE_F4.subarray(0, 40));
      expectError(() => readNpy(r), r, /truncated: the header needs 128 bytes/);
    });

    it('malformed headers: missing keys, bad shape, garbage', () => {
      const cases: Array<[string, RegExp]> = [
        ["{'descr': '<f4', 'shape': (1,), }", /expected the keys descr, fortran_order, shape/],
        ["{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", /shape \[-1\] is not a tuple/],
        ["{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", /fortran_order is 0/],
        ["{'descr': '<f4', 'fortran_order': False, 'shape': (1,) ", /malformed npy header/],
        ['not a dict at all', /malformed npy header/],
      ];
      for (const [dict, problem] of cases) {
        const p = file('m.npy', handMade(dict, [0, 0, 0, 0]));
        expectError(() => readNpy(p), p, problem);
      }
    });

    it('writeNpy: shape mismatch, bad shape, missing directory', () => {
      const p = join(dir, 'w.npy');
      expectError(() => writeNpy(p, new Float32Array(6), [2, 4]), p, /shape \(2, 4\) holds 8 elements but the data has 6/);
      expectError(() => writeNpy(p, new Float32Array(2), [2.5]), p, /not a list of non-negative integers/);
      const q = join(dir, 'missing', 'w.npy');
      expectError(() => writeNpy(q, new Float32Array(1), [1]), q, /cannot write/);
      expect(existsSync(p)).to.equal(false);
    });
  });
});
