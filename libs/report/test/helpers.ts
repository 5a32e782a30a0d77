import { PNG } from 'pngjs';

/** A decoded PNG: `at(x, y)` is [r, g, b]. */
export interface Decoded {
  width: number;
  height: number;
  colorType: number;
  at(x: number, y: number): [number, number, number];
  gray(x: number, y: number): number;
}

export function decode(png: Buffer): Decoded {
  const img = PNG.sync.read(png);
  const at = (x: number, y: number): [number, number, number] => {
    if (!Number.isInteger(x) || !Number.isInteger(y)) throw new Error(`pixel (${x}, ${y}) is not at whole coordinates`);
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) throw new Error(`pixel (${x}, ${y}) is outside the picture`);
    const i = (y * img.width + x) * 4;
    return [img.data[i], img.data[i + 1], img.data[i + 2]];
  };
  return { width: img.width, height: img.height, colorType: img.colorType, at, gray: (x, y) => at(x, y)[0] };
}

/** Number of pixels in the rectangle [x0, x1) × [y0, y1) for which `pred` holds. */
export function count(img: Decoded, x0: number, y0: number, x1: number, y1: number, pred: (rgb: [number, number, number]) => boolean): number {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (pred(img.at(x, y))) n++;
  return n;
}

export const isDark = ([r, g, b]: [number, number, number]) => r + g + b < 3 * 128;
