import { imageGrid, type GrayRange } from './grid.ts';

export interface SamplesFigureOptions {
  /** classes·perClass samples of ny = h·w values, class by class (all of class 0 first). */
  samples: Float32Array;
  classes: number;
  perClass: number;
  h: number;
  w: number;
  /** e.g. [-1, 1] for Gaussian or Ising visible units. */
  range: GrayRange;
  /** Pixel magnification (default 2). */
  scale?: number;
  title?: string;
}

/** Paper Fig. 1/2: one row per class, labelled with the class index, `perClass` samples across. */
export function samplesFigure(opts: SamplesFigureOptions): Buffer {
  const { samples, classes, perClass, h, w } = opts;
  const expected = classes * perClass * h * w;
  if (samples.length !== expected) {
    throw new Error(
      `report: samplesFigure got ${samples.length} values, expected classes·perClass·h·w = ${classes}·${perClass}·${h}·${w} = ${expected}`,
    );
  }
  return imageGrid({
    images: samples,
    h,
    w,
    rows: classes,
    cols: perClass,
    range: opts.range,
    scale: opts.scale ?? 2,
    rowLabels: Array.from({ length: classes }, (_, c) => String(c)),
    title: opts.title,
  });
}

export interface ComponentsFigureOptions {
  classes: number;
  h: number;
  w: number;
  /** Each classes × (h·w), class by class. */
  sample: Float32Array;
  bias: Float32Array;
  inversePrecision: Float32Array;
  meanWeights: Float32Array;
  /** Pixel magnification (default 2). */
  scale?: number;
  title?: string;
}

/** The column headers of {@link componentsFigure}, in order. */
export const COMPONENT_COLUMNS = ['sample', 'bias', '1/P', 'W'] as const;

/**
 * Paper Fig. 3/4: one row per class; columns sample, bias μ, 1/precision, and the weights averaged over hidden
 * units. Every image is scaled to its own finite min..max.
 */
export function componentsFigure(opts: ComponentsFigureOptions): Buffer {
  const { classes, h, w } = opts;
  const size = h * w;
  const parts = [opts.sample, opts.bias, opts.inversePrecision, opts.meanWeights];
  parts.forEach((part, k) => {
    if (!(part instanceof Float32Array) || part.length !== classes * size) {
      throw new Error(
        `report: componentsFigure ${COMPONENT_COLUMNS[k]} must be a Float32Array of classes·h·w = ${classes * size} values, got ${part?.length}`,
      );
    }
  });
  const images = new Float32Array(classes * parts.length * size);
  for (let c = 0; c < classes; c++) {
    parts.forEach((part, k) => images.set(part.subarray(c * size, (c + 1) * size), (c * parts.length + k) * size));
  }
  return imageGrid({
    images,
    h,
    w,
    rows: classes,
    cols: parts.length,
    range: 'auto-per-image',
    scale: opts.scale ?? 2,
    gap: 4,
    rowLabels: Array.from({ length: classes }, (_, c) => String(c)),
    colLabels: COMPONENT_COLUMNS,
    title: opts.title,
  });
}
