import { expect } from 'chai';
import { hasGlyph, textWidth } from '@nbm/report';
import { CAP_HEIGHT, drawText, drawTextUp, GLYPH_HEIGHT } from '../src/font.ts';
import { Raster } from '../src/raster.ts';

const darkPixels = (r: Raster) => {
  const out: Array<[number, number]> = [];
  for (let y = 0; y < r.height; y++) for (let x = 0; x < r.width; x++) if (r.get(x, y)[0] < 128) out.push([x, y]);
  return out;
};

describe('bitmap font', () => {
  it('has glyphs for digits, letters and the punctuation of tick labels and titles', () => {
    for (const ch of '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,-+:/_()[]=%?*! ') {
      expect(hasGlyph(ch), ch).to.equal(true);
    }
    expect(hasGlyph('µ')).to.equal(false);
  });

  it('every glyph is distinct from every other', () => {
    const chars = [...'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,-+:/_()[]=%?*!'];
    const seen = new Map<string, string>();
    for (const ch of chars) {
      const r = new Raster(5, GLYPH_HEIGHT);
      drawText(r, ch, 0, 0, [0, 0, 0]);
      const key = JSON.stringify(darkPixels(r));
      expect(seen.get(key), `${ch} looks like ${seen.get(key)}`).to.equal(undefined);
      seen.set(key, ch);
    }
  });

  it('draws within its measured box, and scales', () => {
    expect(textWidth('')).to.equal(0);
    expect(textWidth('ab')).to.equal(11);
    expect(textWidth('ab', 3)).to.equal(33);
    const r = new Raster(60, 30);
    drawText(r, 'E-4', 10, 5, [0, 0, 0], 2);
    const px = darkPixels(r);
    expect(Math.min(...px.map(([x]) => x))).to.equal(10);
    expect(Math.max(...px.map(([x]) => x))).to.equal(10 + textWidth('E-4', 2) - 1);
    expect(Math.min(...px.map(([, y]) => y))).to.equal(5);
    expect(Math.max(...px.map(([, y]) => y))).to.equal(5 + 2 * CAP_HEIGHT - 1);
  });

  it('draws unknown characters as ?', () => {
    const a = new Raster(5, 8);
    const b = new Raster(5, 8);
    drawText(a, 'µ', 0, 0, [0, 0, 0]);
    drawText(b, '?', 0, 0, [0, 0, 0]);
    expect(darkPixels(a)).to.deep.equal(darkPixels(b));
  });

  it('draws rotated text reading upwards', () => {
    const r = new Raster(20, 30);
    drawTextUp(r, 'L', 2, 20, [0, 0, 0]);
    // 'L' has its long stroke on the left; rotated a quarter turn anticlockwise, it lies along the bottom.
    const px = darkPixels(r);
    expect(px.filter(([, y]) => y === 20).length).to.equal(7);
    expect(Math.max(...px.map(([, y]) => y))).to.equal(20);
    expect(Math.min(...px.map(([, y]) => y))).to.equal(20 - 5 + 1);
  });
});
