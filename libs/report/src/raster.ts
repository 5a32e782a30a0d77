import { PNG } from 'pngjs';

/** An sRGB colour, each channel 0..255. */
export type Rgb = readonly [number, number, number];

export const WHITE: Rgb = [255, 255, 255];
export const BLACK: Rgb = [0, 0, 0];

/** Largest side and largest pixel count a picture may have; beyond these a request is a mistake. */
export const MAX_SIDE = 16384;
export const MAX_PIXELS = 40_000_000;

/** Throws a clear error unless a `width`×`height` picture is within {@link MAX_SIDE} and {@link MAX_PIXELS}. */
export function checkPictureSize(width: number, height: number, what = 'picture'): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`report: ${what} size ${width}×${height} is not a positive whole number of pixels`);
  }
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS) {
    throw new Error(
      `report: ${what} of ${width}×${height} pixels is too large (at most ${MAX_SIDE} pixels a side and ${MAX_PIXELS} pixels in all)`,
    );
  }
}

/** A rectangle of pixels, inclusive bounds. */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * An RGB picture in memory: `data` holds width·height·3 bytes, row-major, top row first.
 * Drawing outside the picture (or outside `clip`, when given) is silently ignored.
 */
export class Raster {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = WHITE,
  ) {
    checkPictureSize(width, height);
    this.data = new Uint8Array(width * height * 3);
    this.fillRect(0, 0, width, height, background);
  }

  /** Sets one pixel; ignored outside the picture or outside `clip`. */
  set(x: number, y: number, color: Rgb, clip?: Rect): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    if (clip && (x < clip.x0 || x > clip.x1 || y < clip.y0 || y > clip.y1)) return;
    const i = (y * this.width + x) * 3;
    this.data[i] = color[0];
    this.data[i + 1] = color[1];
    this.data[i + 2] = color[2];
  }

  /** The colour of one pixel. */
  get(x: number, y: number): Rgb {
    const i = (y * this.width + x) * 3;
    return [this.data[i], this.data[i + 1], this.data[i + 2]];
  }

  /** Fills the `w`×`h` rectangle whose top-left pixel is (x, y). */
  fillRect(x: number, y: number, w: number, h: number, color: Rgb): void {
    const xa = Math.max(0, x);
    const xb = Math.min(this.width, x + w);
    const ya = Math.max(0, y);
    const yb = Math.min(this.height, y + h);
    for (let yy = ya; yy < yb; yy++) {
      for (let xx = xa; xx < xb; xx++) {
        const i = (yy * this.width + xx) * 3;
        this.data[i] = color[0];
        this.data[i + 1] = color[1];
        this.data[i + 2] = color[2];
      }
    }
  }

  /** A one-pixel line from (xa, ya) to (xb, yb), both ends included (Bresenham). */
  line(xa: number, ya: number, xb: number, yb: number, color: Rgb, clip?: Rect, brush = 1): void {
    let x = Math.round(xa);
    let y = Math.round(ya);
    const xe = Math.round(xb);
    const ye = Math.round(yb);
    const dx = Math.abs(xe - x);
    const dy = -Math.abs(ye - y);
    const sx = x < xe ? 1 : -1;
    const sy = y < ye ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      for (let by = 0; by < brush; by++) for (let bx = 0; bx < brush; bx++) this.set(x + bx, y + by, color, clip);
      if (x === xe && y === ye) break;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y += sy;
      }
    }
  }

  /** The outline of a rectangle (inclusive bounds). */
  strokeRect(r: Rect, color: Rgb): void {
    this.line(r.x0, r.y0, r.x1, r.y0, color);
    this.line(r.x0, r.y1, r.x1, r.y1, color);
    this.line(r.x0, r.y0, r.x0, r.y1, color);
    this.line(r.x1, r.y0, r.x1, r.y1, color);
  }

  /** Copies `src` so that its top-left pixel lands at (x, y). */
  blit(src: Raster, x: number, y: number): void {
    for (let yy = 0; yy < src.height; yy++) {
      const ty = y + yy;
      if (ty < 0 || ty >= this.height) continue;
      for (let xx = 0; xx < src.width; xx++) {
        const tx = x + xx;
        if (tx < 0 || tx >= this.width) continue;
        const s = (yy * src.width + xx) * 3;
        const t = (ty * this.width + tx) * 3;
        this.data[t] = src.data[s];
        this.data[t + 1] = src.data[s + 1];
        this.data[t + 2] = src.data[s + 2];
      }
    }
  }

  /**
   * PNG bytes. `gray` writes an 8-bit greyscale PNG from the red channel (use it only for pictures drawn in greys);
   * otherwise an 8-bit RGB PNG.
   */
  toPng(mode: 'gray' | 'rgb' = 'rgb'): Buffer {
    const png = new PNG({ width: 0, height: 0 });
    png.width = this.width;
    png.height = this.height;
    if (mode === 'gray') {
      const gray = Buffer.alloc(this.width * this.height);
      for (let i = 0; i < gray.length; i++) gray[i] = this.data[i * 3];
      png.data = gray;
      return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, deflateLevel: 6 });
    }
    png.data = Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, deflateLevel: 6 });
  }
}
