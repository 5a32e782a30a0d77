import { BLACK, Raster } from './raster.ts';
import { CAP_HEIGHT, drawText, textHeight, textWidth } from './font.ts';

/** Space in pixels between a label and what it labels, and around labels. */
const LABEL_PAD = 3;

/** How pixel values become grey levels: a fixed [lo, hi] for all images, or each image's own finite min..max. */
export type GrayRange = readonly [number, number] | 'auto-per-image';

export interface ImageGridOptions {
  /** n images of h·w pixels each, row-major, one after another (n·h·w values, n ≤ rows·cols). */
  images: Float32Array;
  h: number;
  w: number;
  rows: number;
  cols: number;
  /** Values map linearly from lo → 0 (black) to hi → 255 (white), clamped. NaN is drawn black. */
  range: GrayRange;
  /** Each image pixel becomes a scale×scale block (whole number ≥ 1, default 1). */
  scale?: number;
  /** Pixels of white between and around cells (default 2). */
  gap?: number;
  /** One label per row, drawn left of the row. */
  rowLabels?: readonly string[];
  /** One label per column, drawn above it. */
  colLabels?: readonly string[];
  /** A line of text above everything. */
  title?: string;
}

/** Where things go in an image grid: `cellX[c]`, `cellY[r]` are the top-left pixel of cell (r, c). */
export interface GridLayout {
  width: number;
  height: number;
  cellWidth: number;
  cellHeight: number;
  cellX: number[];
  cellY: number[];
  /** Top-left of each row label and column label, and of the title. */
  rowLabelAt: Array<[number, number]>;
  colLabelAt: Array<[number, number]>;
  titleAt?: [number, number];
}

function positiveInteger(name: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`report: ${name} must be a whole number from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Checks the options and computes where every cell and label goes. */
export function gridLayout(opts: ImageGridOptions): GridLayout {
  const h = positiveInteger('h', opts.h, 16384);
  const w = positiveInteger('w', opts.w, 16384);
  const rows = positiveInteger('rows', opts.rows, 16384);
  const cols = positiveInteger('cols', opts.cols, 16384);
  const scale = positiveInteger('scale', opts.scale ?? 1, 64);
  const gap = opts.gap ?? 2;
  if (!Number.isInteger(gap) || gap < 0 || gap > 1000) throw new Error(`report: gap must be a whole number from 0 to 1000, got ${gap}`);
  if (opts.rowLabels && opts.rowLabels.length !== rows) {
    throw new Error(`report: ${opts.rowLabels.length} row labels for ${rows} rows`);
  }
  if (opts.colLabels && opts.colLabels.length !== cols) {
    throw new Error(`report: ${opts.colLabels.length} column labels for ${cols} columns`);
  }

  const cellWidth = w * scale;
  const cellHeight = h * scale;
  const lineHeight = textHeight();
  const left = opts.rowLabels ? 2 * LABEL_PAD + Math.max(0, ...opts.rowLabels.map((l) => textWidth(l))) : 0;
  const titleBlock = opts.title ? 2 * LABEL_PAD + lineHeight : 0;
  const colBlock = opts.colLabels ? 2 * LABEL_PAD + lineHeight : 0;
  const colPitch = Math.max(cellWidth, ...(opts.colLabels ?? []).map((l) => textWidth(l)));
  const top = titleBlock + colBlock;

  const columnLeft = (c: number) => left + gap + c * (colPitch + gap);
  const cellX = Array.from({ length: cols }, (_, c) => columnLeft(c) + Math.floor((colPitch - cellWidth) / 2));
  const cellY = Array.from({ length: rows }, (_, r) => top + gap + r * (cellHeight + gap));
  const rowLabelAt = (opts.rowLabels ?? []).map(
    (_, r): [number, number] => [LABEL_PAD, cellY[r] + Math.floor((cellHeight - CAP_HEIGHT) / 2)],
  );
  const colLabelAt = (opts.colLabels ?? []).map(
    (label, c): [number, number] => [columnLeft(c) + Math.floor((colPitch - textWidth(label)) / 2), titleBlock + LABEL_PAD],
  );
  const width = Math.max(columnLeft(cols), opts.title ? 2 * LABEL_PAD + textWidth(opts.title) : 0);
  const height = top + gap + rows * (cellHeight + gap);
  return {
    width,
    height,
    cellWidth,
    cellHeight,
    cellX,
    cellY,
    rowLabelAt,
    colLabelAt,
    titleAt: opts.title ? [LABEL_PAD, LABEL_PAD] : undefined,
  };
}

/** Grey level 0..255 of `v` on the scale lo → 0, hi → 255 (clamped; NaN → 0). */
export function grayLevel(v: number, lo: number, hi: number): number {
  if (Number.isNaN(v)) return 0;
  if (hi === lo) return v < lo ? 0 : v > hi ? 255 : 128;
  const t = (v - lo) / (hi - lo);
  return Math.round(Math.min(1, Math.max(0, t)) * 255);
}

/** The finite min and max of `values` ([0, 0] when none are finite). */
function finiteRange(values: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

/**
 * A grid of greyscale images as a greyscale PNG: image i goes to row ⌊i/cols⌋, column i mod cols; cells without an
 * image stay white. See {@link ImageGridOptions}.
 */
export function imageGrid(opts: ImageGridOptions): Buffer {
  const layout = gridLayout(opts);
  const { h, w, rows, cols, images, range } = opts;
  const scale = opts.scale ?? 1;
  const size = h * w;
  if (!(images instanceof Float32Array)) throw new Error('report: images must be a Float32Array');
  if (images.length % size !== 0) {
    throw new Error(`report: ${images.length} values are not a whole number of ${h}×${w} images`);
  }
  const n = images.length / size;
  if (n > rows * cols) throw new Error(`report: ${n} images do not fit in ${rows}×${cols} cells`);
  if (range !== 'auto-per-image') {
    if (!Array.isArray(range) || range.length !== 2 || !range.every(Number.isFinite) || !(range[0] < range[1])) {
      throw new Error(`report: range must be 'auto-per-image' or finite [lo, hi] with lo < hi, got ${JSON.stringify(range)}`);
    }
  }

  const raster = new Raster(layout.width, layout.height);
  for (let i = 0; i < n; i++) {
    const image = images.subarray(i * size, (i + 1) * size);
    const [lo, hi] = range === 'auto-per-image' ? finiteRange(image) : range;
    const x0 = layout.cellX[i % cols];
    const y0 = layout.cellY[Math.floor(i / cols)];
    for (let py = 0; py < h; py++) {
      for (let px = 0; px < w; px++) {
        const g = grayLevel(image[py * w + px], lo, hi);
        raster.fillRect(x0 + px * scale, y0 + py * scale, scale, scale, [g, g, g]);
      }
    }
  }
  opts.rowLabels?.forEach((label, r) => drawText(raster, label, ...layout.rowLabelAt[r], BLACK));
  opts.colLabels?.forEach((label, c) => drawText(raster, label, ...layout.colLabelAt[c], BLACK));
  if (opts.title && layout.titleAt) drawText(raster, opts.title, ...layout.titleAt, BLACK);
  return raster.toPng('gray');
}
