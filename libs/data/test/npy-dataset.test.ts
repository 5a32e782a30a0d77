import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFileError, contextsFor, loadDataset, writeNpy } from '../src/index.ts';
import { loadNpyDataset } from '../src/npy-dataset.ts';
import { trainValSplit } from '../src/split.ts';

describe('npy datasets', () => {
  let dir: string;
  let n = 0;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'nbm-npyds-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));
  /** Writes an array to a fresh file (fresh names keep the per-process cache out of the way). */
  const put = (data: Float32Array | Uint8Array | Int32Array, shape: number[]) => {
    const p = join(dir, `a${n++}.npy`);
    writeNpy(p, data, shape);
    return p;
  };
  /** x (N, 3) with x[i] = (i, −i, 0.5); y (N, 4) with y[i][j] = i + j/10 (float32) */
  const pair = (N: number) => {
    const x = new Float32Array(N * 3).map((_, k) => [Math.floor(k / 3), -Math.floor(k / 3), 0.5][k % 3]);
    const y = new Float32Array(N * 4).map((_, k) => Math.floor(k / 4) + (k % 4) / 10);
    return { x: put(x, [N, 3]), y: put(y, [N, 4]), xs: x, ys: y };
  };

  it('loads all rows with their shapes; float32 y is used as given', () => {
    const { x, y, xs, ys } = pair(20);
    const d = loadNpyDataset(x, y);
    expect([d.name, d.split, d.count, d.nx, d.ny, d.transform]).to.deep.equal(['npy', 'all', 20, 3, 4, 'none']);
    expect(Array.from(d.pixels)).to.deep.equal(Array.from(ys));
    expect(Array.from(d.contexts!)).to.deep.equal(Array.from(xs));
    expect(d.labels).to.equal(undefined);
    expect(Array.from(contextsFor(d, Uint32Array.of(7, 2)))).to.deep.equal([7, -7, 0.5, 2, -2, 0.5]);
  });

  it('splits the last round(N·fraction) of a seeded permutation off for validation', () => {
    const { x, y } = pair(50);
    const train = loadNpyDataset(x, y, { split: 'train', seed: 3, valFraction: 0.2 });
    const val = loadNpyDataset(x, y, { split: 'val', seed: 3, valFraction: 0.2 });
    const parts = trainValSplit(50, 10, 3);
    expect(Array.from(train.sourceIndex)).to.deep.equal(Array.from(parts.train));
    expect(Array.from(val.sourceIndex)).to.deep.equal(Array.from(parts.val));
    expect(new Set([...train.sourceIndex, ...val.sourceIndex]).size).to.equal(50);
    // rows travel with their contexts: y row i starts with i, x row i starts with i
    for (let r = 0; r < val.count; r++) {
      expect(val.pixels[r * 4]).to.equal(val.sourceIndex[r]);
      expect(val.contexts![r * 3]).to.equal(val.sourceIndex[r]);
    }
    const again = loadDataset({ name: 'npy', split: 'val', x, y, seed: 3, valFraction: 0.2 });
    expect(Array.from(again.sourceIndex)).to.deep.equal(Array.from(val.sourceIndex));
    expect(loadNpyDataset(x, y, { split: 'train' }).count).to.equal(45); // default fraction 0.1
  });

  it('treats uint8 y as pixels and uint8 x as numbers', () => {
    const x = put(Uint8Array.of(1, 0, 0, 1), [2, 2]);
    const y = put(Uint8Array.of(0, 255, 128, 3, 4, 5), [2, 3]);
    const d = loadNpyDataset(x, y);
    expect(d.transform).to.equal('image');
    expect(d.contexts).to.be.instanceOf(Float32Array);
    expect(Array.from(d.contexts!)).to.deep.equal([1, 0, 0, 1]);
  });

  it('accepts float32 intensities with yTransform image, and checks they lie in [0, 1]', () => {
    const x = put(new Float32Array(2), [2, 1]);
    expect(loadNpyDataset(x, put(Float32Array.of(0, 0.5, 1, 0.25), [2, 2]), { yTransform: 'image' }).transform).to.equal('image');
    const bad = put(Float32Array.of(0, 0.5, 1.5, 0.25), [2, 2]);
    expect(() => loadNpyDataset(x, bad, { yTransform: 'image' })).to.throw(DataFileError, /y value 1\.5 at row 1, column 0 is outside \[0, 1\]/);
    const u8 = put(new Uint8Array(4), [2, 2]);
    expect(() => loadNpyDataset(x, u8, { yTransform: 'none' })).to.throw(DataFileError, /yTransform 'none' needs float32/);
  });

  describe('errors name the file, the expected and the actual shape', () => {
    const expectFileError = (fn: () => unknown, file: string, problem: RegExp) => {
      expect(fn).to.throw(DataFileError, problem).with.property('file', file);
    };

    it('missing files', () => {
      const { x } = pair(3);
      const missing = join(dir, 'missing.npy');
      expectFileError(() => loadNpyDataset(x, missing), missing, /no such file/);
      expectFileError(() => loadNpyDataset(missing, x), missing, /no such file/);
    });

    it('mismatched N', () => {
      const a = pair(5);
      const b = pair(6);
      expectFileError(() => loadNpyDataset(a.x, b.y), b.y, /y has shape \(6, 4\): 6 rows, but x .* has shape \(5, 3\): 5 rows/);
    });

    it('not 2-D, empty, integer dtype, non-finite', () => {
      const { y } = pair(4);
      const oneD = put(new Float32Array(4), [4]);
      expectFileError(() => loadNpyDataset(oneD, y), oneD, /x has shape \(4,\); expected a 2-D array \(N, nx\)/);
      const threeD = put(new Float32Array(8), [4, 1, 2]);
      expectFileError(() => loadNpyDataset(put(new Float32Array(4), [4, 1]), threeD), threeD, /y has shape \(4, 1, 2\); expected a 2-D array \(N, ny\)/);
      const empty = put(new Float32Array(0), [0, 3]);
      expectFileError(() => loadNpyDataset(empty, y), empty, /expected at least one row/);
      const ints = put(new Int32Array(4), [4, 1]);
      expectFileError(() => loadNpyDataset(ints, y), ints, /dtype '<i4'; expected float32/);
      const nan = put(Float32Array.of(0, 1, NaN, 2), [4, 1]);
      expectFileError(() => loadNpyDataset(nan, y), nan, /non-finite value NaN at row 2, column 0/);
    });

    it('splits that cannot be made', () => {
      const { x, y } = pair(4);
      expectFileError(() => loadNpyDataset(x, y, { split: 'val', valFraction: 0.1 }), x, /the val split is empty: N = 4 rows/);
      expect(() => loadNpyDataset(x, y, { valFraction: 1 })).to.throw(RangeError, /valFraction/);
      expectFileError(() => loadDataset({ name: 'npy', split: 'test', x, y }), x, /no 'test' split/);
      expect(() => loadDataset({ name: 'npy', split: 'train', x })).to.throw(DataFileError, /needs both x and y/);
    });
  });
});
