import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataFileError } from '../src/index.ts';
import { readIdx } from '../src/idx.ts';

/** An IDX ubyte file: 00 00 08 ndim, big-endian u32 dims, data. */
function idx(dims: number[], data: number[]): Uint8Array {
  const head = [0, 0, 0x08, dims.length];
  for (const d of dims) head.push(d >>> 24, (d >>> 16) & 0xff, (d >>> 8) & 0xff, d & 0xff);
  return Uint8Array.from([...head, ...data]);
}

describe('IDX files', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'nbm-idx-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, bytes: Uint8Array) => { const p = join(dir, name); writeFileSync(p, bytes); return p; };

  it('reads a hand-made image file (0x00000803) and its gzipped copy', () => {
    const data = [0, 1, 2, 3, 250, 251, 252, 253, 9, 8, 7, 6];
    const plain = readIdx(file('img', idx([3, 2, 2], data)), [-1, 2, 2]);
    expect(plain.dims).to.deep.equal([3, 2, 2]);
    expect(Array.from(plain.data)).to.deep.equal(data);
    const gz = readIdx(file('img.gz', gzipSync(idx([3, 2, 2], data))));
    expect(Array.from(gz.data)).to.deep.equal(data);
  });

  it('reads dims > 255 as big-endian', () => {
    const a = readIdx(file('lab', idx([300], new Array(300).fill(4))));
    expect(a.dims).to.deep.equal([300]);
  });

  it('names the file and the problem', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0), /magic number must start with two zero bytes/],
      [idx([2], [1, 2]).map((v, i) => (i === 2 ? 0x0d : v)), /unsupported IDX element type 0x0d/],
      [idx([4], [1, 2]), /truncated: dims \(4\) need 4 data bytes, the file holds 2/],
      [idx([1], [1, 2]), /1 unexpected bytes/],
      [Uint8Array.of(0, 0, 8, 3, 0, 0), /truncated: the IDX header declares 3 dimensions/],
      [Uint8Array.of(0x1f, 0x8b, 1, 2, 3), /corrupt gzip data/],
    ];
    for (const [bytes, problem] of cases) {
      const p = file('bad', bytes);
      expect(() => readIdx(p)).to.throw(DataFileError, problem).with.property('file', p);
    }
    const p = file('dims', idx([2, 1], [1, 2]));
    expect(() => readIdx(p, [2, 28, 28])).to.throw(DataFileError, /dims are \(2, 1\), expected \(2, 28, 28\)/);
    expect(() => readIdx(join(dir, 'absent'))).to.throw(DataFileError, /no such file/);
  });
});
