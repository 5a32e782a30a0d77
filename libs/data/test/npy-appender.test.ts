import { expect } from 'chai';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFileError, NpyAppender, readNpy, writeNpy } from '../src/index.ts';
import { GROWTH_DIGITS, encodeNpyHeader, encodeNpyHeaderOfLength } from '../src/npy-format.ts';

/** Rows r0..r1−1 of width w with value 1000·r + j, so every element says where it belongs. */
function rows(r0: number, r1: number, w: number): Float32Array {
  const out = new Float32Array((r1 - r0) * w);
  for (let r = r0; r < r1; r++) for (let j = 0; j < w; j++) out[(r - r0) * w + j] = 1000 * r + j;
  return out;
}

describe('NpyAppender', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nbm-app-'));
    path = join(dir, 'samples.npy');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes to <path>.partial and only close() produces <path>, with the final row count', () => {
    const a = NpyAppender.open(path, { width: 5 });
    a.append(rows(0, 3, 5));
    a.append(rows(3, 3, 5)); // zero rows is fine
    a.append(rows(3, 10, 5));
    expect(a.rows).to.equal(10);
    expect(existsSync(path)).to.equal(false);
    expect(existsSync(`${path}.partial`)).to.equal(true);
    a.close();
    expect(readdirSync(dir)).to.deep.equal(['samples.npy']);
    const got = readNpy(path);
    expect(got.shape).to.deep.equal([10, 5]);
    expect(Array.from(got.data)).to.deep.equal(Array.from(rows(0, 10, 5)));
  });

  it('keeps the data where it is: the header is rewritten in place', () => {
    const a = NpyAppender.open(path, { width: 3 });
    const sizeEmpty = statSync(`${path}.partial`).size;
    expect(sizeEmpty % 64).to.equal(0);
    a.append(rows(0, 4, 3));
    a.close();
    expect(statSync(path).size).to.equal(sizeEmpty + 4 * 3 * 4);
  });

  it('its reserved header has room for any safe-integer row count, and says so when a count does not fit', () => {
    for (const width of [1, 784, 123456789]) {
      const h = encodeNpyHeader('<f4', [0, width], GROWTH_DIGITS);
      const full = encodeNpyHeaderOfLength('<f4', [Number.MAX_SAFE_INTEGER, width], h.length, 1);
      expect(full.length).to.equal(h.length);
    }
    const tight = encodeNpyHeader('<f4', [0, 3]); // no reserve: 128 bytes, room for a few more digits only
    expect(() => encodeNpyHeaderOfLength('<f4', [10 ** 15, 3], tight.length, 1)).to.not.throw();
    expect(() => encodeNpyHeaderOfLength('<f4', [Number.MAX_SAFE_INTEGER, 10 ** 15, 10 ** 15, 10 ** 15], tight.length, 1)).to.throw(RangeError, /needs more than the 128 bytes/);
  });

  it('a synced .partial is a valid npy of the rows so far; an unsynced one is not mistaken for complete', () => {
    const a = NpyAppender.open(path, { width: 4 });
    a.append(rows(0, 2, 4));
    a.sync();
    const mid = readNpy(`${path}.partial`);
    expect(mid.shape).to.deep.equal([2, 4]);
    a.append(rows(2, 3, 4));
    // header still says 2 rows: reading it as a complete file fails loudly instead of dropping a row
    expect(() => readNpy(`${path}.partial`)).to.throw(DataFileError, /16 unexpected bytes/);
    a.close();
    expect(readNpy(path).shape).to.deep.equal([3, 4]);
  });

  it('resumes an interrupted .partial, cutting the incomplete last row', () => {
    const a = NpyAppender.open(path, { width: 6 });
    a.append(rows(0, 7, 6));
    // simulate a crash: `a` is abandoned without sync or close, and 10 bytes of a torn row reached the disk
    appendFileSync(`${path}.partial`, Buffer.alloc(10, 0xff));
    const b = NpyAppender.open(path, { width: 6, resume: true });
    expect(b.rows).to.equal(7);
    b.append(rows(7, 12, 6));
    b.close();
    const got = readNpy(path);
    expect(got.shape).to.deep.equal([12, 6]);
    expect(Array.from(got.data)).to.deep.equal(Array.from(rows(0, 12, 6)));
  });

  it('resume with no .partial starts afresh; resume of a complete file is refused', () => {
    const a = NpyAppender.open(path, { width: 2, resume: true });
    expect(a.rows).to.equal(0);
    a.append(rows(0, 1, 2));
    a.close();
    expect(() => NpyAppender.open(path, { width: 2, resume: true })).to.throw(DataFileError, /is already complete/);
  });

  it('refuses to clobber: an existing file, or a leftover .partial without resume', () => {
    writeNpy(path, new Float32Array(2), [1, 2]);
    expect(() => NpyAppender.open(path, { width: 2 })).to.throw(DataFileError, /already exists \(pass overwrite/);
    const a = NpyAppender.open(path, { width: 2, overwrite: true });
    a.append(rows(0, 3, 2));
    expect(() => NpyAppender.open(path, { width: 2, overwrite: true })).to.throw(DataFileError, /left over from an interrupted run/);
    a.close();
    expect(readNpy(path).shape).to.deep.equal([3, 2]);
  });

  it('resume refuses a .partial of another width or dtype', () => {
    NpyAppender.open(path, { width: 3 }).append(rows(0, 2, 3));
    expect(() => NpyAppender.open(path, { width: 4, resume: true })).to.throw(DataFileError, /shape \(0, 3\) does not have rows of width 4/);
    expect(() => NpyAppender.open(path, { width: 3, dtype: 'uint8', resume: true })).to.throw(DataFileError, /holds '<f4' values/);
  });

  it('resume refuses a .partial that is not an npy file', () => {
    writeFileSync(`${path}.partial`, 'garbage, not numpy');
    expect(() => NpyAppender.open(path, { width: 3, resume: true })).to.throw(DataFileError, /bad magic/);
  });

  it('checks what is appended, and nothing is appended after close', () => {
    const a = NpyAppender.open(path, { width: 3 });
    expect(() => a.append(new Float32Array(4))).to.throw(DataFileError, /not a whole number of rows of width 3/);
    expect(() => a.append(new Uint8Array(3))).to.throw(DataFileError, /takes a Float32Array/);
    a.close();
    expect(() => a.append(new Float32Array(3))).to.throw(DataFileError, /the appender is closed/);
    expect(() => a.close()).to.throw(DataFileError, /the appender is closed/);
    expect(() => NpyAppender.open(join(dir, 'w.npy'), { width: 0 })).to.throw(DataFileError, /positive integer/);
  });

  it('writes uint8 rows', () => {
    const a = NpyAppender.open(path, { width: 2, dtype: 'uint8' });
    a.append(Uint8Array.of(1, 2, 3, 4));
    a.close();
    const got = readNpy(path);
    expect(got.dtype).to.equal('uint8');
    expect(Array.from(got.data)).to.deep.equal([1, 2, 3, 4]);
  });
});
