import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataFileError, NpyAppender, readNpy } from '@nbm/data';
import { SampleOutput } from '../src/output.ts';
import { outPaths, readWrittenRows } from '../src/out-dir.ts';
import { handmadeNpy, parseBySpec } from './npy-spec.ts';
import { scratch } from './helpers.ts';

const NX = 3;
const NY = 5;

/** Row r of the samples holds r·10 + j, of the contexts r + j/10: every value tells where it belongs. */
const ys = (first: number, n: number) => Float32Array.from({ length: n * NY }, (_, i) => (first + Math.floor(i / NY)) * 10 + (i % NY));
const xs = (first: number, n: number) => Float32Array.from({ length: n * NX }, (_, i) => first + Math.floor(i / NX) + (i % NX) / 10);

describe('SampleOutput', () => {
  const dir = scratch();

  it('writes samples.npy and contexts.npy that read back, by the format spec, as float32 (count, width)', () => {
    const out = join(dir.path, 'fresh');
    const paths = outPaths(out);
    mkdirSync(out, { recursive: true });
    const o = SampleOutput.open(paths, { nx: NX, ny: NY, total: 12, resume: false });
    o.write(0, ys(0, 5), xs(0, 5));
    expect(existsSync(paths.samples), 'no complete-looking file before close').to.equal(false);
    o.write(5, ys(5, 7), xs(5, 7));
    o.close();
    expect(readdirSync(out).sort()).to.deep.equal(['contexts.npy', 'samples.npy']);
    for (const [file, width, values] of [[paths.samples, NY, ys(0, 12)], [paths.contexts, NX, xs(0, 12)]] as const) {
      const bytes = readFileSync(file);
      const h = parseBySpec(bytes);
      expect(h).to.include({ descr: '<f4', fortranOrder: false });
      expect(h.shape).to.deep.equal([12, width]);
      expect(h.dataOffset % 64, 'data aligned to 64 bytes').to.equal(0);
      expect(bytes.length).to.equal(h.dataOffset + 12 * width * 4);
      // the data section is exactly that of a reference file built by hand from the spec
      const reference = handmadeNpy(12, width, values);
      const refHeader = parseBySpec(reference);
      expect(Buffer.from(bytes.subarray(h.dataOffset)).equals(Buffer.from(reference.subarray(refHeader.dataOffset)))).to.equal(true);
      // and the project's reader agrees on both
      const a = readNpy(file);
      writeFileSync(`${file}.ref`, reference);
      const b = readNpy(`${file}.ref`);
      expect(a.dtype).to.equal('float32');
      expect(a.shape).to.deep.equal(b.shape);
      expect(Array.from(a.data)).to.deep.equal(Array.from(b.data));
    }
    expect(Array.from(readWrittenRows(paths.samples, 12, NY, 3, 2))).to.deep.equal(Array.from(ys(3, 2)));
  });

  it('resumes files left at different row counts (and a torn row) and ends byte-identical to one pass', () => {
    const straight = outPaths(join(dir.path, 'straight'));
    mkdirSync(join(dir.path, 'straight'));
    const s = SampleOutput.open(straight, { nx: NX, ny: NY, total: 40, resume: false });
    s.write(0, ys(0, 40), xs(0, 40));
    s.close();

    // a kill left 30 sample rows plus half a row, and 37 context rows
    const resumed = outPaths(join(dir.path, 'resumed'));
    mkdirSync(join(dir.path, 'resumed'));
    const a = NpyAppender.open(resumed.samples, { width: NY });
    a.append(ys(0, 30));
    a.sync();
    const b = NpyAppender.open(resumed.contexts, { width: NX });
    b.append(xs(0, 37));
    const torn = Buffer.concat([readFileSync(`${resumed.samples}.partial`), Buffer.from(new Float32Array([1, 2, 3]).buffer)]);
    writeFileSync(`${resumed.samples}.partial`, torn);

    const o = SampleOutput.open(resumed, { nx: NX, ny: NY, total: 40, resume: true });
    expect(o.rowsDone).to.equal(30);
    o.write(30, ys(30, 10), xs(30, 10));
    o.close();
    expect(readFileSync(resumed.samples).equals(readFileSync(straight.samples))).to.equal(true);
    expect(readFileSync(resumed.contexts).equals(readFileSync(straight.contexts))).to.equal(true);
  });

  it('refuses to close with rows missing, leaving only .partial files', () => {
    const out = join(dir.path, 'short');
    mkdirSync(out, { recursive: true });
    const o = SampleOutput.open(outPaths(out), { nx: NX, ny: NY, total: 10, resume: false });
    o.write(0, ys(0, 6), xs(0, 6));
    expect(() => o.close()).to.throw(/6 rows written, the job has 10; left as .*samples\.npy\.partial/);
    expect(readdirSync(out).sort()).to.deep.equal(['contexts.npy.partial', 'samples.npy.partial']);
  });

  it('refuses a gap: rows must arrive in order', () => {
    const out = join(dir.path, 'gap');
    mkdirSync(out, { recursive: true });
    const o = SampleOutput.open(outPaths(out), { nx: NX, ny: NY, total: 10, resume: false });
    expect(() => o.write(4, ys(4, 2), xs(4, 2))).to.throw(/would leave a gap after row 0/);
  });

  it('will not write over a finished file on a fresh start', () => {
    const out = join(dir.path, 'fresh');
    expect(() => SampleOutput.open(outPaths(out), { nx: NX, ny: NY, total: 12, resume: false })).to.throw(DataFileError, /already exists/);
  });
});
