import { expect } from 'chai';
import { Stream, fillNormal, fillUniform } from '@nbm/random';
import { type Dataset, GAUSSIAN_NOISE_STD, contextsFor, transformRows } from '../src/index.ts';
import { oneHotContexts } from '../src/transforms.ts';

type Source = Pick<Dataset, 'ny' | 'count' | 'pixels' | 'transform'>;
const key = { seed: 1, stream: Stream.dataTrain };
const ny = 784;
const iota = (n: number, from = 0) => Uint32Array.from({ length: n }, (_, i) => from + i);

/** count rows of uint8 pixels, pixel (r, i) = (7i + 13r) mod 256: every value 0..255 occurs often. */
function images(count: number): Source {
  const pixels = new Uint8Array(count * ny).map((_, k) => (7 * (k % ny) + 13 * Math.floor(k / ny)) % 256);
  return { ny, count, pixels, transform: 'image' };
}

describe('transforms', () => {
  describe('Gaussian: y = 2p − 1 + 1e-3·n', () => {
    const data = images(128);
    const rows = iota(128);
    let y: Float32Array;
    before(() => { y = transformRows(data, rows, rows, 'gaussian', key, 5, 0); });

    it('has noise of mean 0 and standard deviation 1e-3', () => {
      let s = 0, s2 = 0, maxAbs = 0;
      for (let k = 0; k < y.length; k++) {
        const n = (y[k] - (2 * data.pixels[k] / 255 - 1)) / GAUSSIAN_NOISE_STD; // float32 rounding of y adds < 6e-5 to n
        s += n; s2 += n * n; maxAbs = Math.max(maxAbs, Math.abs(n));
      }
      const N = y.length; // 100,352 draws
      const mean = s / N;
      const sd = Math.sqrt(s2 / N - mean * mean);
      expect(Math.abs(mean)).to.be.below(5 / Math.sqrt(N)); // 5 standard errors: 0.016
      expect(Math.abs(sd - 1)).to.be.below(5 / Math.sqrt(2 * N)); // SE of the sd ≈ 1/√(2N): 0.011
      expect(maxAbs).to.be.below(6);
    });

    it('draws n with fillNormal(row, key, counterA, globalIndex[b], counterC), rounded once to float32', () => {
      const n = new Float32Array(ny);
      const b = 77;
      fillNormal(n, key, 5, rows[b], 0);
      const want = Float32Array.from({ length: ny }, (_, i) => 2 * data.pixels[b * ny + i] / 255 - 1 + 1e-3 * n[i]);
      expect(Array.from(y.subarray(b * ny, (b + 1) * ny))).to.deep.equal(Array.from(want));
    });

    it('gives float32 intensities the same units as the pixels they came from', () => {
      const f: Source = { ny, count: 128, pixels: Float32Array.from(data.pixels, (v) => v / 255), transform: 'image' };
      const yf = transformRows(f, rows, rows, 'gaussian', key, 5, 0);
      let worst = 0;
      for (let k = 0; k < y.length; k++) worst = Math.max(worst, Math.abs(yf[k] - y[k]));
      expect(worst).to.be.below(3e-7); // float32 rounding of p and of y
    });
  });

  describe('Ising: y = ±1 with P(+1) = clamp(p, 1e-3, 1 − 1e-3)', () => {
    it('has the right frequency of +1 for pixel values from 0 to 255', () => {
      const values = [0, 1, 64, 128, 200, 254, 255];
      const pixels = new Uint8Array(values.length * ny);
      values.forEach((v, r) => pixels.fill(v, r * ny, (r + 1) * ny));
      const data: Source = { ny, count: values.length, pixels, transform: 'image' };
      const reads = 64;
      values.forEach((v, r) => {
        const rows = new Uint32Array(reads).fill(r);
        const y = transformRows(data, rows, iota(reads, 1000 * r), 'ising', key, 3, 0);
        let plus = 0, minus = 0;
        for (const t of y) {
          if (t === 1) plus++;
          else if (t === -1) minus++;
        }
        expect(plus + minus).to.equal(y.length);
        const N = y.length; // 50,176 draws per value
        const q = Math.min(Math.max(v / 255, 1e-3), 1 - 1e-3);
        const z = (plus / N - q) / Math.sqrt((q * (1 - q)) / N);
        expect(Math.abs(z), `pixel ${v}: ${plus} of ${N} are +1, expected ${(q * N).toFixed(1)}`).to.be.below(5);
      });
    });

    it('draws u with fillUniform(row, key, counterA, globalIndex[b], counterC)', () => {
      const data = images(4);
      const y = transformRows(data, Uint32Array.of(2), Uint32Array.of(901), 'ising', key, 11, 4);
      const u = new Float32Array(ny);
      fillUniform(u, key, 11, 901, 4);
      const want = Array.from(u, (ui, i) => (ui < Math.min(Math.max(data.pixels[2 * ny + i] / 255, 1e-3), 1 - 1e-3) ? 1 : -1));
      expect(Array.from(y)).to.deep.equal(want);
    });
  });

  describe('reproducibility', () => {
    const data = images(16);
    const rows = Uint32Array.of(3, 9, 4, 15);
    const global = Uint32Array.of(30, 90, 40, 150);

    for (const visible of ['gaussian', 'ising'] as const) {
      it(`${visible}: the same key and counters give the same numbers, other counters other numbers`, () => {
        const a = transformRows(data, rows, global, visible, key, 7, 0);
        expect(Array.from(transformRows(data, rows, global, visible, key, 7, 0))).to.deep.equal(Array.from(a));
        const differing = (b: Float32Array) => b.reduce((c, v, k) => c + (v !== a[k] ? 1 : 0), 0);
        // Gaussian: every element differs; Ising: pixels with 1e-3 < p < 1 − 1e-3 flip often enough
        const least = visible === 'gaussian' ? a.length * 0.99 : a.length * 0.05;
        expect(differing(transformRows(data, rows, global, visible, key, 8, 0))).to.be.above(least); // next step
        expect(differing(transformRows(data, rows, global, visible, key, 7, 1))).to.be.above(least); // other c
        expect(differing(transformRows(data, rows, global, visible, { seed: 2, stream: Stream.dataTrain }, 7, 0))).to.be.above(least);
        expect(differing(transformRows(data, rows, global, visible, { seed: 1, stream: Stream.dataEval }, 7, 0))).to.be.above(least);
      });

      it(`${visible}: a row's numbers depend on its global index, not on the batch around it`, () => {
        const all = transformRows(data, rows, global, visible, key, 7, 0);
        for (let b = 0; b < rows.length; b++) {
          const alone = transformRows(data, rows.subarray(b, b + 1), global.subarray(b, b + 1), visible, key, 7, 0);
          expect(Array.from(alone)).to.deep.equal(Array.from(all.subarray(b * ny, (b + 1) * ny)));
        }
        const moved = transformRows(data, rows, Uint32Array.of(31, 90, 40, 150), visible, key, 7, 0);
        expect(Array.from(moved.subarray(ny))).to.deep.equal(Array.from(all.subarray(ny)));
        expect(Array.from(moved.subarray(0, ny))).to.not.deep.equal(Array.from(all.subarray(0, ny)));
      });
    }

    it('fills a caller\'s output array', () => {
      const out = new Float32Array(rows.length * ny);
      expect(transformRows(data, rows, global, 'gaussian', key, 1, 0, out)).to.equal(out);
      expect(Array.from(out)).to.deep.equal(Array.from(transformRows(data, rows, global, 'gaussian', key, 1, 0)));
    });
  });

  it("copies float32 values unchanged for transform 'none'", () => {
    const pixels = Float32Array.of(0.5, -3, 7, 1e-9, 2, 4);
    const data: Source = { ny: 2, count: 3, pixels, transform: 'none' };
    for (const visible of ['gaussian', 'ising'] as const) {
      expect(Array.from(transformRows(data, Uint32Array.of(2, 0), Uint32Array.of(0, 1), visible, key, 0, 0))).to.deep.equal([2, 4, 0.5, -3]);
    }
  });

  it('refuses bad arguments with a clear message', () => {
    const data = images(4);
    const one = Uint32Array.of(0);
    expect(() => transformRows(data, Uint32Array.of(4), one, 'gaussian', key, 0, 0)).to.throw(RangeError, /row 4 is out of range for 4 rows/);
    expect(() => transformRows(data, one, Uint32Array.of(0, 1), 'gaussian', key, 0, 0)).to.throw(RangeError, /1 rows but 2 global indices/);
    expect(() => transformRows(data, one, one, 'gaussian', key, -1, 0)).to.throw(RangeError, /counterA must be a u32/);
    expect(() => transformRows(data, one, one, 'gaussian', key, 0, 0.5)).to.throw(RangeError, /counterC must be a u32/);
    expect(() => transformRows(data, one, one, 'binary' as 'ising', key, 0, 0)).to.throw(RangeError, /visible must be/);
    expect(() => transformRows(data, one, one, 'gaussian', key, 0, 0, new Float32Array(10))).to.throw(RangeError, /out has length 10/);
  });

  describe('contexts', () => {
    it('one-hot encodes labels of the chosen rows', () => {
      const labels = Uint8Array.of(3, 0, 9, 3);
      expect(Array.from(oneHotContexts(labels, Uint32Array.of(2, 0), 10))).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
      expect(() => oneHotContexts(labels, Uint32Array.of(2), 5)).to.throw(RangeError, /label 9 of row 2 is not below 5 classes/);
      expect(() => oneHotContexts(labels, Uint32Array.of(4), 10)).to.throw(RangeError, /row 4 is out of range/);
    });

    it('contextsFor uses labels when there are some, stored rows otherwise', () => {
      const labelled = { name: 'l', nx: 3, count: 2, labels: Uint8Array.of(2, 1), classes: 3 };
      const out = new Float32Array(6).fill(7);
      expect(Array.from(contextsFor(labelled, Uint32Array.of(0, 1), out))).to.deep.equal([0, 0, 1, 0, 1, 0]);
      const stored = { name: 's', nx: 2, count: 2, contexts: Float32Array.of(1, 2, 3, 4) };
      expect(Array.from(contextsFor(stored, Uint32Array.of(1, 1, 0)))).to.deep.equal([3, 4, 3, 4, 1, 2]);
      expect(() => contextsFor({ name: 'n', nx: 1, count: 1 }, Uint32Array.of(0))).to.throw(/neither labels nor stored contexts/);
    });
  });
});
