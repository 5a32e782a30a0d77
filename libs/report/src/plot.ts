import { linearAxis, logAxis, type Axis } from './axis.ts';
import { CAP_HEIGHT, drawText, drawTextUp, textHeight, textWidth } from './font.ts';
import { BLACK, Raster, type Rect, type Rgb } from './raster.ts';

/** One line: point i is (x[i], y[i]); points with a NaN/±Inf coordinate (or ≤ 0 on a log axis) leave a gap. */
export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Defaults to the next colour of {@link PALETTE}. */
  color?: Rgb;
}

export interface LinePlotOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  series: readonly Series[];
  /** Picture size in pixels (defaults 640 × 360; each from 160 to 8192). */
  width?: number;
  height?: number;
  logX?: boolean;
  logY?: boolean;
}

/** Series colours, in order (the "tab10" palette). */
export const PALETTE: readonly Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];

export const DEFAULT_WIDTH = 640;
export const DEFAULT_HEIGHT = 360;
const MIN_SIDE = 160;
const MAX_PLOT_SIDE = 8192;

const PAD = 8;
const TICK = 4;
/** Gap in pixels between the frame and the ends of the axis domains. */
const INSET = 3;
const TITLE_SCALE = 2;
const FRAME: Rgb = [68, 68, 68];
const GRID: Rgb = [230, 230, 230];
const MINOR_GRID: Rgb = [244, 244, 244];
const INK: Rgb = [40, 40, 40];
/** Series with at most this many points get a marker at each point. */
const MARKER_LIMIT = 40;

/**
 * What was drawn where: `area` is the rectangle inside the frame (drawing is clipped to it), `data` the part of it
 * the axis domains span; axes are null when there was no data.
 */
export interface PlotGeometry {
  area: Rect;
  data: Rect;
  x: Axis | null;
  y: Axis | null;
}

function checkSide(name: string, value: number): number {
  if (!Number.isInteger(value) || value < MIN_SIDE || value > MAX_PLOT_SIDE) {
    throw new Error(`report: plot ${name} must be a whole number of pixels from ${MIN_SIDE} to ${MAX_PLOT_SIDE}, got ${value}`);
  }
  return value;
}

function plottable(v: number, log: boolean): boolean {
  return Number.isFinite(v) && (!log || v > 0);
}

/** Finite min/max over the plottable points of all series (null when there are none). */
function dataRange(series: readonly Series[], logX: boolean, logY: boolean) {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i];
      const y = s.y[i];
      if (!plottable(x, logX) || !plottable(y, logY)) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  }
  return x0 <= x1 ? { x0, x1, y0, y1 } : null;
}

interface LegendItem {
  name: string;
  color: Rgb;
  x: number;
  line: number;
}

const SWATCH = 10;
const LEGEND_LINE = textHeight() + 5;

/** Places legend items left to right, wrapping at `maxWidth`. */
function legendLayout(series: readonly Series[], colors: Rgb[], maxWidth: number): { items: LegendItem[]; lines: number } {
  const items: LegendItem[] = [];
  let x = 0;
  let line = 0;
  series.forEach((s, i) => {
    if (!s.name) return;
    const w = SWATCH + 4 + textWidth(s.name);
    if (x > 0 && x + w > maxWidth) {
      x = 0;
      line++;
    }
    items.push({ name: s.name, color: colors[i], x, line });
    x += w + 14;
  });
  return { items, lines: items.length === 0 ? 0 : line + 1 };
}

/** Draws a line plot filling `raster` (see {@link LinePlotOptions}); returns where the data went. */
export function drawLinePlot(raster: Raster, opts: LinePlotOptions): PlotGeometry {
  const { width, height } = raster;
  const logX = opts.logX ?? false;
  const logY = opts.logY ?? false;
  opts.series.forEach((s) => {
    if (s.x.length !== s.y.length) {
      throw new Error(`report: series "${s.name}" has ${s.x.length} x values but ${s.y.length} y values`);
    }
  });
  const colors = opts.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);

  // Vertical layout: title, legend, plot area, tick labels, x label.
  let top = PAD;
  const titleY = top;
  if (opts.title) top += textHeight(TITLE_SCALE) + 6;
  const legend = legendLayout(opts.series, colors, width - 2 * PAD);
  const legendY = top;
  top += legend.lines * LEGEND_LINE;
  const y0 = top + 4;
  const xLabelBlock = opts.xLabel ? textHeight() + 5 : 0;
  const y1 = height - 1 - (PAD + xLabelBlock + textHeight() + 3 + TICK + 1);

  const range = dataRange(opts.series, logX, logY);
  const plotHeight = y1 - y0;
  const yAxis = range
    ? (logY ? logAxis : linearAxis)(range.y0, range.y1, Math.min(8, Math.max(2, Math.floor(plotHeight / 35))))
    : null;

  // Horizontal layout: y label, y tick labels, plot area.
  const yLabelBlock = opts.yLabel ? textHeight() + 5 : 0;
  const yTickWidth = yAxis ? Math.max(...yAxis.labels.map((l) => textWidth(l))) : 0;
  const x0 = PAD + yLabelBlock + yTickWidth + 3 + TICK + 1;
  const x1 = width - 1 - PAD - 12;
  if (x1 - x0 < 40 || y1 - y0 < 30) {
    throw new Error(`report: a ${width}×${height} plot leaves too little room for the data; make it larger`);
  }
  const area: Rect = { x0, y0, x1, y1 };
  const xAxis = range
    ? (logX ? logAxis : linearAxis)(range.x0, range.x1, Math.min(10, Math.max(2, Math.floor((x1 - x0) / 70))))
    : null;
  // Data map into the area inset by INSET pixels, so lines and markers at the domain ends stay visible.
  const data: Rect = { x0: x0 + INSET, y0: y0 + INSET, x1: x1 - INSET, y1: y1 - INSET };
  const px = (v: number) => data.x0 + (data.x1 - data.x0) * xAxis!.position(v)!;
  const py = (v: number) => data.y1 - (data.y1 - data.y0) * yAxis!.position(v)!;

  if (xAxis && yAxis) {
    for (const v of xAxis.minor) raster.line(px(v), y0, px(v), y1, MINOR_GRID);
    for (const v of yAxis.minor) raster.line(x0, py(v), x1, py(v), MINOR_GRID);
    for (const v of xAxis.ticks) raster.line(px(v), y0, px(v), y1, GRID);
    for (const v of yAxis.ticks) raster.line(x0, py(v), x1, py(v), GRID);
    opts.series.forEach((s, i) => drawSeries(raster, s, colors[i], data, area, xAxis, yAxis));
  }

  raster.strokeRect({ x0: x0 - 1, y0: y0 - 1, x1: x1 + 1, y1: y1 + 1 }, FRAME);
  if (xAxis && yAxis) {
    xAxis.ticks.forEach((v, i) => {
      const x = Math.round(px(v));
      raster.line(x, y1 + 2, x, y1 + 1 + TICK, FRAME);
      const label = xAxis.labels[i];
      const lx = Math.min(width - 1 - textWidth(label), Math.max(0, x - Math.floor(textWidth(label) / 2)));
      drawText(raster, label, lx, y1 + 2 + TICK + 2, INK);
    });
    yAxis.ticks.forEach((v, i) => {
      const y = Math.round(py(v));
      raster.line(x0 - 2 - TICK + 1, y, x0 - 2, y, FRAME);
      const label = yAxis.labels[i];
      drawText(raster, label, x0 - 2 - TICK - 3 - textWidth(label), y - Math.floor(CAP_HEIGHT / 2), INK);
    });
  } else {
    const text = 'no data';
    drawText(
      raster,
      text,
      Math.round((x0 + x1 - textWidth(text, 2)) / 2),
      Math.round((y0 + y1 - textHeight(2)) / 2),
      INK,
      2,
    );
  }

  if (opts.xLabel) {
    drawText(raster, opts.xLabel, Math.round((x0 + x1 - textWidth(opts.xLabel)) / 2), height - PAD - textHeight(), BLACK);
  }
  if (opts.yLabel) {
    drawTextUp(raster, opts.yLabel, PAD, Math.round((y0 + y1 + textWidth(opts.yLabel)) / 2), BLACK);
  }
  for (const item of legend.items) {
    const lx = PAD + item.x;
    const ly = legendY + item.line * LEGEND_LINE;
    raster.fillRect(lx, ly + 1, SWATCH, textHeight() - 2, item.color);
    drawText(raster, item.name, lx + SWATCH + 4, ly, INK);
  }
  if (opts.title) {
    drawText(raster, opts.title, Math.round((width - textWidth(opts.title, TITLE_SCALE)) / 2), titleY, BLACK, TITLE_SCALE);
  }
  return { area, data, x: xAxis, y: yAxis };
}

/**
 * Draws one series (mapped into `data`, clipped to `area`): segments between consecutive plottable points, markers
 * where points are few or isolated.
 */
function drawSeries(raster: Raster, s: Series, color: Rgb, data: Rect, area: Rect, xAxis: Axis, yAxis: Axis): void {
  const n = s.x.length;
  const points: Array<[number, number] | null> = [];
  for (let i = 0; i < n; i++) {
    const tx = xAxis.position(s.x[i]);
    const ty = yAxis.position(s.y[i]);
    points.push(
      tx === null || ty === null
        ? null
        : [Math.round(data.x0 + (data.x1 - data.x0) * tx), Math.round(data.y1 - (data.y1 - data.y0) * ty)],
    );
  }
  const count = points.filter((p) => p !== null).length;
  for (let i = 0; i < n; i++) {
    const p = points[i];
    if (!p) continue;
    const prev = i > 0 ? points[i - 1] : null;
    const next = i + 1 < n ? points[i + 1] : null;
    if (prev) raster.line(prev[0], prev[1], p[0], p[1], color, area, 2);
    if (count <= MARKER_LIMIT || (!prev && !next)) {
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) raster.set(p[0] + dx, p[1] + dy, color, area);
    }
  }
}

function renderPlot(opts: LinePlotOptions, width: number, height: number): Raster {
  const raster = new Raster(checkSide('width', width), checkSide('height', height));
  drawLinePlot(raster, opts);
  return raster;
}

/**
 * A line plot as an RGB PNG: axes with ticks and numeric labels, one colour per series, a legend of the named
 * series under the title, gaps at non-finite points, and "no data" when nothing is plottable.
 */
export function linePlot(opts: LinePlotOptions): Buffer {
  return renderPlot(opts, opts.width ?? DEFAULT_WIDTH, opts.height ?? DEFAULT_HEIGHT).toPng('rgb');
}

/**
 * Several line plots one above the other in one PNG (e.g. loss.png: CD loss, MSE_bias, MSE_var). All panels take
 * `width` (default: the first panel's width, else 640); each keeps its own height.
 */
export function stackedPlots(panels: readonly LinePlotOptions[], opts: { width?: number } = {}): Buffer {
  if (panels.length === 0) throw new Error('report: stackedPlots needs at least one panel');
  const width = opts.width ?? panels[0].width ?? DEFAULT_WIDTH;
  const rasters = panels.map((p) => renderPlot(p, width, p.height ?? DEFAULT_HEIGHT));
  const total = new Raster(width, rasters.reduce((sum, r) => sum + r.height, 0));
  let y = 0;
  for (const r of rasters) {
    total.blit(r, 0, y);
    y += r.height;
  }
  return total.toPng('rgb');
}
