import { expect } from 'chai';
import { linePlot, PALETTE, stackedPlots, type LinePlotOptions } from '@nbm/report';
import { drawLinePlot } from '../src/plot.ts';
import { Raster } from '../src/raster.ts';
import { count, decode, isDark, type Decoded } from './helpers.ts';

const BLUE = PALETTE[0];
const ORANGE = PALETTE[1];
const isColor = (c: readonly number[]) => (p: [number, number, number]) => p[0] === c[0] && p[1] === c[1] && p[2] === c[2];

/** Renders like linePlot does and also returns the geometry, so tests know where the data went. */
function render(opts: LinePlotOptions) {
  const raster = new Raster(opts.width ?? 640, opts.height ?? 360);
  const geometry = drawLinePlot(raster, opts);
  return { geometry, img: decode(raster.toPng()) };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('linePlot', () => {
  it('is an RGB PNG of the requested size', () => {
    const img = decode(linePlot({ series: [{ name: 'a', x: [0, 1], y: [0, 1] }] }));
    expect([img.width, img.height, img.colorType]).to.deep.equal([640, 360, 2]);
    const small = decode(linePlot({ series: [{ name: 'a', x: [0, 1], y: [0, 1] }], width: 300, height: 200 }));
    expect([small.width, small.height]).to.deep.equal([300, 200]);
  });

  it('the PNG is exactly what was drawn', () => {
    const opts: LinePlotOptions = { title: 'x', series: [{ name: 'a', x: [0, 1, 2], y: [3, 1, 2] }] };
    const a = decode(linePlot(opts));
    const { img: b } = render(opts);
    for (let y = 0; y < 360; y += 7) for (let x = 0; x < 640; x += 3) expect(a.at(x, y)).to.deep.equal(b.at(x, y));
  });

  it('y = x puts series pixels along the diagonal of the data area and nowhere else', () => {
    const xs = range(101).map((i) => i / 10);
    const { geometry, img } = render({ series: [{ name: 'y=x', x: xs, y: xs }] });
    const { area, data } = geometry;
    expect(geometry.x!.lo).to.equal(0);
    expect(geometry.x!.hi).to.equal(10);
    // the line from data (x0, y1) to (x1, y0); distance of a pixel from it
    const dist = (x: number, y: number) => {
      const [dx, dy] = [data.x1 - data.x0, data.y0 - data.y1];
      return Math.abs(dy * (x - data.x0) - dx * (y - data.y1)) / Math.hypot(dx, dy);
    };
    let on = 0;
    for (let y = area.y0; y <= area.y1; y++) {
      for (let x = area.x0; x <= area.x1; x++) {
        if (!isColor(BLUE)(img.at(x, y))) continue;
        expect(dist(x, y), `(${x}, ${y})`).to.be.lessThan(2.5);
        on++;
      }
    }
    // every column of the data area has line pixels near the diagonal
    for (let x = data.x0; x <= data.x1; x++) {
      const yLine = Math.round(data.y1 - ((x - data.x0) * (data.y1 - data.y0)) / (data.x1 - data.x0));
      expect(count(img, x, yLine - 2, x + 1, yLine + 3, isColor(BLUE)), `column ${x}`).to.be.greaterThan(0);
    }
    expect(on).to.be.greaterThan(data.x1 - data.x0);
    // nothing of the series outside the frame
    const outside = count(img, 0, 0, 640, 360, isColor(BLUE)) - count(img, area.x0, area.y0, area.x1 + 1, area.y1 + 1, isColor(BLUE));
    expect(outside).to.equal(1 * (10 * 6)); // only the legend swatch (10 × 6 pixels)
  });

  it('draws tick marks with numeric labels under and left of the frame', () => {
    const { geometry, img } = render({ series: [{ name: '', x: [0, 10], y: [0, 10] }] });
    const { area } = geometry;
    expect(geometry.x!.labels[0]).to.equal('0');
    expect(geometry.x!.labels.at(-1)).to.equal('10');
    // dark label pixels in the band below the frame and the band left of it
    expect(count(img, area.x0 - 10, area.y1 + 2, area.x1 + 10, area.y1 + 20, isDark)).to.be.greaterThan(30);
    expect(count(img, 0, area.y0 - 5, area.x0 - 2, area.y1 + 5, isDark)).to.be.greaterThan(30);
  });

  it('leaves gaps at NaN and ±Inf instead of failing', () => {
    const xs = range(11);
    const ys = xs.map((x) => (x === 5 ? NaN : x === 8 ? Infinity : x));
    const { geometry, img } = render({ series: [{ name: 'gappy', x: xs, y: ys }], width: 400, height: 300 });
    const { data, area } = geometry;
    const px = (v: number) => Math.round(data.x0 + ((data.x1 - data.x0) * v) / 10);
    const columns = (from: number, to: number) => count(img, from, area.y0, to, area.y1 + 1, isColor(BLUE));
    expect(columns(px(4) + 3, px(6) - 2), 'around the NaN').to.equal(0);
    expect(columns(px(7) + 3, px(9) - 2), 'around the Inf').to.equal(0);
    expect(columns(px(1) + 3, px(3) - 2), 'where the data is finite').to.be.greaterThan(0);
    expect(geometry.y!.hi).to.equal(10); // Inf did not stretch the axis
  });

  it('says "no data" when nothing is plottable', () => {
    for (const series of [[], [{ name: 'a', x: [], y: [] }], [{ name: 'a', x: [1, 2], y: [NaN, -Infinity] }]]) {
      const { geometry, img } = render({ title: 'empty', series });
      expect(geometry.x).to.equal(null);
      const { area } = geometry;
      const cx = Math.round((area.x0 + area.x1) / 2);
      const cy = Math.round((area.y0 + area.y1) / 2);
      expect(count(img, cx - 50, cy - 10, cx + 50, cy + 10, isDark), 'the words').to.be.greaterThan(40);
      expect(count(img, area.x0, area.y0, area.x1 + 1, area.y1 + 1, isDark), 'nothing else in the frame').to.equal(
        count(img, cx - 50, cy - 10, cx + 50, cy + 10, isDark),
      );
    }
  });

  it('a log x axis spaces decades evenly and skips non-positive x', () => {
    const lrs = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1];
    const { geometry, img } = render({
      logX: true,
      series: [{ name: 'sweep', x: [0, -1, ...lrs], y: [5, 5, 1, 2, 3, 2, 1] }],
    });
    expect(geometry.x!.labels).to.deep.equal(['1e-5', '1e-4', '1e-3', '0.01', '0.1']);
    const { data } = geometry;
    const y = (v: number) => Math.round(data.y1 - ((data.y1 - data.y0) * (v - geometry.y!.lo)) / (geometry.y!.hi - geometry.y!.lo));
    lrs.forEach((_, i) => {
      const x = Math.round(data.x0 + ((data.x1 - data.x0) * i) / 4);
      const v = [1, 2, 3, 2, 1][i];
      // markers are drawn when points are few: the point's own pixel has the series colour
      expect(isColor(BLUE)(img.at(x, y(v))), `point ${i}`).to.equal(true);
    });
    expect(geometry.y!.hi).to.be.lessThan(5); // the skipped points did not widen the y axis
  });

  it('a log y axis skips non-positive values', () => {
    const { geometry } = render({ logY: true, series: [{ name: 'a', x: [0, 1, 2, 3], y: [0, 1e-3, 1, -4] }] });
    expect(geometry.y!.labels).to.deep.equal(['1e-3', '0.01', '0.1', '1']);
  });

  it('one colour per series, with a legend entry each', () => {
    const { geometry, img } = render({
      title: 'two',
      series: [
        { name: 'train', x: [0, 1, 2], y: [0, 1, 2] },
        { name: 'validation', x: [0, 1, 2], y: [2, 1, 0] },
      ],
    });
    const { area } = geometry;
    for (const c of [BLUE, ORANGE]) {
      expect(count(img, area.x0, area.y0, area.x1 + 1, area.y1 + 1, isColor(c)), 'in the plot').to.be.greaterThan(50);
      expect(count(img, 0, 0, 640, area.y0 - 1, isColor(c)), 'in the legend').to.equal(60);
    }
    expect(count(img, 0, 0, 640, 24, isDark), 'title').to.be.greaterThan(50);
  });

  it('refuses bad input with a clear message', () => {
    expect(() => linePlot({ series: [{ name: 'loss', x: [1, 2, 3], y: [1, 2] }] })).to.throw(
      'series "loss" has 3 x values but 2 y values',
    );
    expect(() => linePlot({ series: [], width: 100000 })).to.throw('plot width must be a whole number of pixels from 160 to 8192, got 100000');
    expect(() => linePlot({ series: [], height: 10 })).to.throw('plot height must be');
    expect(() => linePlot({ series: [], width: 200.5 })).to.throw('plot width must be');
  });
});

describe('stackedPlots', () => {
  it('stacks panels top to bottom at one width', () => {
    const steps = range(50);
    const panels: LinePlotOptions[] = [
      { title: 'CD loss', series: [{ name: 'train', x: steps, y: steps.map((s) => -90 - s) }], height: 200 },
      { title: 'MSE_bias', series: [{ name: 'train', x: steps, y: steps.map((s) => 0.3 / (1 + s)) }], height: 250 },
      { title: 'MSE_var', series: [], height: 180 },
    ];
    const img: Decoded = decode(stackedPlots(panels, { width: 500 }));
    expect([img.width, img.height]).to.deep.equal([500, 630]);
    // each panel's title sits at its top
    for (const top of [0, 200, 450]) expect(count(img, 0, top, 500, top + 24, isDark), `panel at ${top}`).to.be.greaterThan(40);
    // the series appears in the first two panels only
    expect(count(img, 0, 0, 500, 200, isColor(BLUE))).to.be.greaterThan(100);
    expect(count(img, 0, 200, 500, 450, isColor(BLUE))).to.be.greaterThan(100);
    expect(count(img, 0, 450, 500, 630, isColor(BLUE))).to.equal(0);
  });

  it('needs at least one panel', () => {
    expect(() => stackedPlots([])).to.throw('stackedPlots needs at least one panel');
  });
});
