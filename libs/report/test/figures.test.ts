import { expect } from 'chai';
import { COMPONENT_COLUMNS, componentsFigure, gridLayout, samplesFigure, textWidth } from '@nbm/report';
import { count, decode, isDark } from './helpers.ts';

const h = 28;
const w = 28;
const ny = h * w;

describe('samplesFigure (paper Fig. 1/2)', () => {
  it('one row per class, perClass samples across, each row labelled with its class index', () => {
    const classes = 10;
    const perClass = 4;
    const samples = new Float32Array(classes * perClass * ny);
    // sample j of class c: value −1 everywhere except a bright pixel at (row c, column j)
    for (let c = 0; c < classes; c++) {
      for (let j = 0; j < perClass; j++) {
        const image = samples.subarray((c * perClass + j) * ny, (c * perClass + j + 1) * ny);
        image.fill(-1);
        image[c * w + j] = 1;
      }
    }
    const img = decode(samplesFigure({ samples, classes, perClass, h, w, range: [-1, 1] }));
    const layout = gridLayout({
      images: samples,
      h,
      w,
      rows: classes,
      cols: perClass,
      range: [-1, 1],
      scale: 2,
      rowLabels: Array.from({ length: classes }, (_, c) => String(c)),
    });
    expect([img.width, img.height]).to.deep.equal([layout.width, layout.height]);
    for (let c = 0; c < classes; c++) {
      for (let j = 0; j < perClass; j++) {
        const x0 = layout.cellX[j];
        const y0 = layout.cellY[c];
        const bright = count(img, x0, y0, x0 + 2 * w, y0 + 2 * h, ([g]) => g === 255);
        expect(bright, `class ${c} sample ${j}`).to.equal(4); // one pixel at scale 2
        expect(img.gray(x0 + 2 * j, y0 + 2 * c)).to.equal(255);
        expect(img.gray(x0 + 2 * j + 2, y0 + 2 * c)).to.equal(0);
      }
      const [lx, ly] = layout.rowLabelAt[c];
      expect(count(img, lx, ly, lx + textWidth(String(c)), ly + 7, isDark), `label ${c}`).to.be.greaterThan(3);
    }
  });

  it('names the mismatch when the sample count is wrong', () => {
    expect(() =>
      samplesFigure({ samples: new Float32Array(10), classes: 10, perClass: 4, h, w, range: [-1, 1] }),
    ).to.throw('samplesFigure got 10 values, expected classes·perClass·h·w = 10·4·28·28 = 31360');
  });
});

describe('componentsFigure (paper Fig. 3/4)', () => {
  it('columns sample, bias, 1/P, W with headers; every image on its own scale', () => {
    const classes = 3;
    // Part k of class c: a constant background of very different magnitude per part, and one extreme pixel at c·4+k.
    const offsets = [0, 1e3, 1e-3, -50];
    const parts = offsets.map((offset, k) => {
      const a = new Float32Array(classes * ny);
      for (let c = 0; c < classes; c++) {
        a.fill(offset, c * ny, (c + 1) * ny);
        a[c * ny + c * 4 + k] = offset + Math.abs(offset) * 0.01 + 1e-6;
      }
      return a;
    });
    const png = componentsFigure({
      classes,
      h,
      w,
      sample: parts[0],
      bias: parts[1],
      inversePrecision: parts[2],
      meanWeights: parts[3],
    });
    const img = decode(png);
    const layout = gridLayout({
      images: new Float32Array(classes * 4 * ny),
      h,
      w,
      rows: classes,
      cols: 4,
      range: 'auto-per-image',
      scale: 2,
      gap: 4,
      rowLabels: ['0', '1', '2'],
      colLabels: COMPONENT_COLUMNS,
    });
    expect([img.width, img.height]).to.deep.equal([layout.width, layout.height]);
    for (let c = 0; c < classes; c++) {
      for (let k = 0; k < 4; k++) {
        const x0 = layout.cellX[k];
        const y0 = layout.cellY[c];
        const at = c * 4 + k;
        const [px, py] = [x0 + 2 * (at % w), y0 + 2 * Math.floor(at / w)];
        expect(img.gray(px, py), `class ${c} ${COMPONENT_COLUMNS[k]}: the extreme pixel`).to.equal(255);
        expect(count(img, x0, y0, x0 + 2 * w, y0 + 2 * h, ([g]) => g === 0), `class ${c} part ${k}: background`).to.equal(
          4 * ny - 4,
        );
      }
    }
    COMPONENT_COLUMNS.forEach((label, k) => {
      const [x, y] = layout.colLabelAt[k];
      expect(count(img, x, y, x + textWidth(label), y + 8, isDark), label).to.be.greaterThan(3);
    });
  });

  it('names the part whose size is wrong', () => {
    const ok = new Float32Array(2 * ny);
    expect(() =>
      componentsFigure({ classes: 2, h, w, sample: ok, bias: ok, inversePrecision: new Float32Array(3), meanWeights: ok }),
    ).to.throw('componentsFigure 1/P must be a Float32Array of classes·h·w = 1568 values, got 3');
  });
});
