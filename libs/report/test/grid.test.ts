import { expect } from 'chai';
import { gridLayout, imageGrid, MAX_SIDE, textWidth } from '@nbm/report';
import { count, decode, isDark } from './helpers.ts';

const constant = (n: number, values: number[]) => {
  const out = new Float32Array(values.length * n);
  values.forEach((v, i) => out.fill(v, i * n, (i + 1) * n));
  return out;
};

describe('imageGrid', () => {
  it('maps lo to 0 and hi to 255 linearly, clamping outside the range; NaN is black', () => {
    const values = [-1, 1, 0, -0.5, 0.5, -3, 7, NaN, Infinity, -Infinity];
    const img = decode(imageGrid({ images: constant(4, values), h: 2, w: 2, rows: 1, cols: values.length, range: [-1, 1], gap: 1 }));
    expect(img.colorType).to.equal(0); // greyscale PNG
    const got = values.map((_, i) => img.gray(1 + i * 3, 1));
    expect(got).to.deep.equal([0, 255, 128, 64, 191, 0, 255, 0, 255, 0]);
  });

  it('puts cells where the layout says: by hand, 2×3 cells of 3×2 pixels at scale 2, gap 2', () => {
    const images = constant(6, [0, 0.1, 0.2, 0.3, 0.4]); // 5 images; the sixth cell stays empty
    const png = imageGrid({ images, h: 3, w: 2, rows: 2, cols: 3, range: [0, 1], scale: 2, gap: 2 });
    const img = decode(png);
    expect([img.width, img.height]).to.deep.equal([2 + 3 * (4 + 2), 2 + 2 * (6 + 2)]);
    const layout = gridLayout({ images, h: 3, w: 2, rows: 2, cols: 3, range: [0, 1], scale: 2, gap: 2 });
    expect(layout.cellX).to.deep.equal([2, 8, 14]);
    expect(layout.cellY).to.deep.equal([2, 10]);
    for (let i = 0; i < 6; i++) {
      const [x0, y0] = [layout.cellX[i % 3], layout.cellY[Math.floor(i / 3)]];
      const want = i < 5 ? Math.round(i * 0.1 * 255) : 255;
      expect(count(img, x0, y0, x0 + 4, y0 + 6, ([g]) => g === want), `cell ${i}`).to.equal(24);
      // the gap around the cell is white
      expect(img.gray(x0 - 1, y0), `left of cell ${i}`).to.equal(255);
      expect(img.gray(x0 + 4, y0 + 5), `right of cell ${i}`).to.equal(255);
      expect(img.gray(x0, y0 + 6), `below cell ${i}`).to.equal(255);
    }
  });

  it('keeps row-major pixel order and magnifies each pixel to a scale×scale block', () => {
    const images = Float32Array.from([0, 1, 2, 3, 4, 5]); // one 2×3 image
    const img = decode(imageGrid({ images, h: 2, w: 3, rows: 1, cols: 1, range: [0, 5], scale: 3, gap: 0 }));
    expect([img.width, img.height]).to.deep.equal([9, 6]);
    for (let y = 0; y < 6; y++) {
      for (let x = 0; x < 9; x++) {
        const v = Math.floor(y / 3) * 3 + Math.floor(x / 3);
        expect(img.gray(x, y), `(${x}, ${y})`).to.equal(v * 51);
      }
    }
  });

  it("'auto-per-image' stretches each image to its own finite min..max; a flat image is mid-grey", () => {
    const images = Float32Array.from([100, 200, 150, NaN, -1e-3, 1e-3, 0, Infinity, 5, 5, 5, 5]);
    const img = decode(imageGrid({ images, h: 1, w: 4, rows: 3, cols: 1, range: 'auto-per-image', gap: 0 }));
    const row = (y: number) => [0, 1, 2, 3].map((x) => img.gray(x, y));
    expect(row(0)).to.deep.equal([0, 255, 128, 0]);
    expect(row(1)).to.deep.equal([0, 255, 128, 255]);
    expect(row(2)).to.deep.equal([128, 128, 128, 128]);
  });

  it('draws row labels, column labels and a title, and makes room for them', () => {
    const images = constant(16, [0.5, 0.5, 0.5, 0.5]);
    const base = { images, h: 4, w: 4, rows: 2, cols: 2, range: [0, 1] as [number, number], gap: 2 };
    const plain = decode(imageGrid(base));
    expect(count(plain, 0, 0, plain.width, plain.height, isDark)).to.equal(0);

    const labelled = { ...base, rowLabels: ['0', '10'], colLabels: ['sample', 'W'], title: 'epoch 1' };
    const layout = gridLayout(labelled);
    const img = decode(imageGrid(labelled));
    expect([img.width, img.height]).to.deep.equal([layout.width, layout.height]);
    // Cells move right of the widest row label and below title + column labels; columns widen to fit 'sample'.
    expect(layout.cellX[0]).to.be.greaterThan(textWidth('10'));
    expect(layout.cellX[1] - layout.cellX[0]).to.be.at.least(textWidth('sample'));
    expect(layout.cellY[0]).to.be.greaterThan(16);
    for (const [label, [x, y]] of [
      ['0', layout.rowLabelAt[0]],
      ['10', layout.rowLabelAt[1]],
      ['sample', layout.colLabelAt[0]],
      ['W', layout.colLabelAt[1]],
      ['epoch 1', layout.titleAt!],
    ] as const) {
      expect(count(img, x, y, x + textWidth(label), y + 7, isDark), label).to.be.greaterThan(3);
    }
    // Cells keep their value after the shift.
    expect(img.gray(layout.cellX[1], layout.cellY[1])).to.equal(128);
  });

  it('refuses inconsistent input with a clear message', () => {
    const images = new Float32Array(12);
    const base = { images, h: 2, w: 3, rows: 1, cols: 2, range: [0, 1] as [number, number] };
    expect(() => imageGrid({ ...base, images: new Float32Array(7) })).to.throw('7 values are not a whole number of 2×3 images');
    expect(() => imageGrid({ ...base, cols: 1 })).to.throw('2 images do not fit in 1×1 cells');
    expect(() => imageGrid({ ...base, range: [1, 1] })).to.throw('lo < hi');
    expect(() => imageGrid({ ...base, range: [0, NaN] })).to.throw('range must be');
    expect(() => imageGrid({ ...base, rowLabels: ['a', 'b'] })).to.throw('2 row labels for 1 rows');
    expect(() => imageGrid({ ...base, scale: 0 })).to.throw('scale must be a whole number from 1 to 64');
    expect(() => imageGrid({ ...base, h: 2.5 })).to.throw('h must be a whole number');
  });

  it('refuses absurd sizes before allocating them', () => {
    const t0 = Date.now();
    expect(() => imageGrid({ images: new Float32Array(784), h: 28, w: 28, rows: 1000, cols: 1000, range: [0, 1] })).to.throw(
      /too large \(at most 16384 pixels a side/,
    );
    expect(() => imageGrid({ images: new Float32Array(784), h: 28, w: 28, rows: 1, cols: 1, range: [0, 1], scale: 64, gap: 1000 })).to.not.throw();
    expect(() =>
      imageGrid({ images: new Float32Array(1), h: 1, w: 1, rows: 1, cols: MAX_SIDE, range: [0, 1], gap: 1 }),
    ).to.throw(/too large/);
    expect(Date.now() - t0).to.be.lessThan(2000);
  });
});
