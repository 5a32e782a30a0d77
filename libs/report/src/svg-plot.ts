/**
 * Line plots as inline SVG for the HTML report pages: the same axes as the PNG plots (axis.ts: nice ticks,
 * labelled, with grid lines), one colour per series, a legend, and the plotted points in a `data-points`
 * attribute for the page's hover read-out (page-script.ts).
 */
import { linearAxis, logAxis, type Axis } from './axis.ts';
import { esc } from './html.ts';
import { PALETTE } from './plot.ts';
import type { Rgb } from './raster.ts';

/** One line: point i is (x[i], y[i]); a NaN/±Inf coordinate (or ≤ 0 on a log axis) leaves a gap. */
export interface SvgSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** A CSS colour; defaults to the next colour of the palette. */
  color?: string;
  /** Dots at the points: 'auto' (default) puts them on series of at most 60 points. */
  markers?: boolean | 'auto';
  /** Draw the points only, without joining them. */
  pointsOnly?: boolean;
}

export interface SvgPlotOptions {
  /** Prefix of the element ids inside the plot; unique on the page. */
  id: string;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  series: readonly SvgSeries[];
  /** viewBox size (defaults 960 × 320); the picture scales to the page width. */
  width?: number;
  height?: number;
  logX?: boolean;
  logY?: boolean;
  /** The x values are whole numbers (steps, epochs): ticks only at whole numbers. */
  integerX?: boolean;
  /** Shown in the middle when nothing is plottable (default "no data yet"). */
  empty?: string;
}

const FONT = 12;
/** Rough width of a character of the 12 px sans-serif font, for layout only. */
const CHAR_W = 6.6;
const MARKER_LIMIT = 60;
/** Series longer than this are thinned to the first, lowest, highest and last point of each pixel column. */
const THIN_ABOVE = 4000;

const hex = (c: Rgb) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** The palette's i-th colour as CSS. */
export function seriesColor(i: number): string {
  return hex(PALETTE[i % PALETTE.length]);
}

const textWidth = (s: string) => s.length * CHAR_W;
const num = (v: number) => String(Math.round(v * 10) / 10);

function plottable(v: number, log: boolean): boolean {
  return Number.isFinite(v) && (!log || v > 0);
}

function extent(series: readonly SvgSeries[], logX: boolean, logY: boolean) {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const s of series) {
    if (s.x.length !== s.y.length) throw new Error(`report: series "${s.name}" has ${s.x.length} x values but ${s.y.length} y values`);
    for (let i = 0; i < s.x.length; i++) {
      if (!plottable(s.x[i], logX) || !plottable(s.y[i], logY)) continue;
      x0 = Math.min(x0, s.x[i]);
      x1 = Math.max(x1, s.x[i]);
      y0 = Math.min(y0, s.y[i]);
      y1 = Math.max(y1, s.y[i]);
    }
  }
  return x0 <= x1 ? { x0, x1, y0, y1 } : null;
}

/** A point in picture coordinates with its data values. */
type Point = [px: number, py: number, x: number, y: number];

/** Keeps, per pixel column, the first, lowest, highest and last point of a run of points (order kept). */
function thin(points: Point[]): Point[] {
  if (points.length <= THIN_ABOVE) return points;
  const out: Point[] = [];
  let i = 0;
  while (i < points.length) {
    const column = Math.round(points[i][0]);
    let j = i;
    let lo = i;
    let hi = i;
    while (j < points.length && Math.round(points[j][0]) === column) {
      if (points[j][1] > points[lo][1]) lo = j;
      if (points[j][1] < points[hi][1]) hi = j;
      j++;
    }
    for (const k of [...new Set([i, lo, hi, j - 1])].sort((a, b) => a - b)) out.push(points[k]);
    i = j;
  }
  return out;
}

interface LegendItem {
  name: string;
  color: string;
  x: number;
  line: number;
}

function legendLayout(names: string[], colors: string[], maxWidth: number): { items: LegendItem[]; lines: number } {
  const items: LegendItem[] = [];
  let x = 0;
  let line = 0;
  names.forEach((name, i) => {
    if (!name) return;
    const w = 16 + textWidth(name);
    if (x > 0 && x + w > maxWidth) {
      x = 0;
      line++;
    }
    items.push({ name, color: colors[i], x, line });
    x += w + 18;
  });
  return { items, lines: items.length ? line + 1 : 0 };
}

/** The x axis; a whole-number one is at least one unit wide and never ticks between whole numbers. */
function xAxisFor(lo: number, hi: number, target: number, log: boolean, integer: boolean): Axis {
  if (log) return logAxis(lo, hi, target);
  if (!integer) return linearAxis(lo, hi, target);
  if (hi - lo < 1e-9) {
    // one value: a unit either side
    lo -= 1;
    hi += 1;
  } else if (hi - lo < 1) {
    lo = Math.floor(lo);
    hi = Math.max(Math.ceil(hi), lo + 1);
  }
  return linearAxis(lo, hi, Math.max(1, Math.min(target, Math.floor(hi - lo))));
}

/** An inline `<svg>` line plot (see {@link SvgPlotOptions}). */
export function svgLinePlot(o: SvgPlotOptions): string {
  const width = o.width ?? 960;
  const height = o.height ?? 320;
  const logX = o.logX ?? false;
  const logY = o.logY ?? false;
  const colors = o.series.map((s, i) => s.color ?? seriesColor(i));
  const range = extent(o.series, logX, logY);

  let top = 8;
  const titleY = top + 14;
  if (o.title) top += 24;
  const legend = legendLayout(o.series.map((s) => s.name), colors, width - 80);
  const legendY = top;
  top += legend.lines * 18 + 6;
  const bottom = height - (o.xLabel ? 40 : 24);
  const plotH = bottom - top;
  const yAxis = range ? (logY ? logAxis : linearAxis)(range.y0, range.y1, Math.max(2, Math.min(8, Math.floor(plotH / 40)))) : null;
  const left = 10 + (o.yLabel ? 18 : 0) + (yAxis ? Math.max(...yAxis.labels.map(textWidth)) : 0) + 8;
  const right = width - 16;
  const xAxis = range ? xAxisFor(range.x0, range.x1, Math.max(2, Math.min(12, Math.floor((right - left) / 80))), logX, o.integerX ?? false) : null;
  const inset = 8;
  const px = (v: number) => left + inset + (right - left - 2 * inset) * (xAxis as Axis).position(v)!;
  const py = (v: number) => bottom - inset - (bottom - top - 2 * inset) * (yAxis as Axis).position(v)!;

  const parts: string[] = [];
  const clip = `${o.id}-clip`;
  parts.push(`<defs><clipPath id="${esc(clip)}"><rect x="${num(left)}" y="${num(top)}" width="${num(right - left)}" height="${num(bottom - top)}"/></clipPath></defs>`);
  parts.push(`<rect class="frame" x="${num(left)}" y="${num(top)}" width="${num(right - left)}" height="${num(bottom - top)}"/>`);
  const tooltip: Array<{ n: string; c: string; p: Point[] }> = [];
  if (xAxis && yAxis) {
    const grid: string[] = [];
    for (const v of xAxis.minor) grid.push(`<line class="minor" x1="${num(px(v))}" x2="${num(px(v))}" y1="${num(top)}" y2="${num(bottom)}"/>`);
    for (const v of yAxis.minor) grid.push(`<line class="minor" x1="${num(left)}" x2="${num(right)}" y1="${num(py(v))}" y2="${num(py(v))}"/>`);
    for (const v of xAxis.ticks) grid.push(`<line class="grid" x1="${num(px(v))}" x2="${num(px(v))}" y1="${num(top)}" y2="${num(bottom)}"/>`);
    for (const v of yAxis.ticks) grid.push(`<line class="grid" x1="${num(left)}" x2="${num(right)}" y1="${num(py(v))}" y2="${num(py(v))}"/>`);
    parts.push(`<g clip-path="url(#${esc(clip)})">${grid.join('')}</g>`);

    const ticks: string[] = [];
    xAxis.ticks.forEach((v, i) => {
      const x = px(v);
      ticks.push(`<line class="tick" x1="${num(x)}" x2="${num(x)}" y1="${num(bottom)}" y2="${num(bottom + 5)}"/>`);
      ticks.push(`<text x="${num(x)}" y="${num(bottom + 18)}" text-anchor="middle">${esc(xAxis.labels[i])}</text>`);
    });
    yAxis.ticks.forEach((v, i) => {
      const y = py(v);
      ticks.push(`<line class="tick" x1="${num(left - 5)}" x2="${num(left)}" y1="${num(y)}" y2="${num(y)}"/>`);
      ticks.push(`<text x="${num(left - 8)}" y="${num(y + 4)}" text-anchor="end">${esc(yAxis.labels[i])}</text>`);
    });
    parts.push(`<g class="axis">${ticks.join('')}</g>`);

    const lines: string[] = [];
    o.series.forEach((s, si) => {
      const all: Array<Point | null> = [];
      for (let i = 0; i < s.x.length; i++) {
        all.push(plottable(s.x[i], logX) && plottable(s.y[i], logY) ? [px(s.x[i]), py(s.y[i]), s.x[i], s.y[i]] : null);
      }
      const runs: Point[][] = [];
      let run: Point[] = [];
      for (const p of all) {
        if (p) run.push(p);
        else if (run.length) {
          runs.push(run);
          run = [];
        }
      }
      if (run.length) runs.push(run);
      const kept = runs.map(thin);
      const count = kept.reduce((n, r) => n + r.length, 0);
      const markers = s.markers === true || s.pointsOnly || ((s.markers ?? 'auto') === 'auto' && count <= MARKER_LIMIT);
      const color = esc(colors[si]);
      if (!s.pointsOnly) {
        for (const r of kept) {
          if (r.length > 1) lines.push(`<polyline stroke="${color}" points="${r.map((p) => `${num(p[0])},${num(p[1])}`).join(' ')}"/>`);
        }
      }
      for (const r of kept) {
        if (markers || r.length === 1) for (const p of r) lines.push(`<circle fill="${color}" cx="${num(p[0])}" cy="${num(p[1])}" r="3"/>`);
      }
      tooltip.push({ n: s.name, c: colors[si], p: kept.flat().map((p) => [Number(num(p[0])), Number(num(p[1])), p[2], p[3]]) });
    });
    parts.push(`<g class="series" clip-path="url(#${esc(clip)})">${lines.join('')}</g>`);
  } else {
    parts.push(`<text class="empty" x="${num((left + right) / 2)}" y="${num((top + bottom) / 2)}" text-anchor="middle">${esc(o.empty ?? 'no data yet')}</text>`);
  }

  if (o.title) parts.push(`<text class="title" x="${num(width / 2)}" y="${titleY}" text-anchor="middle">${esc(o.title)}</text>`);
  for (const item of legend.items) {
    const x = 40 + item.x;
    const y = legendY + item.line * 18;
    parts.push(`<rect fill="${esc(item.color)}" x="${num(x)}" y="${num(y + 3)}" width="12" height="10"/>`);
    parts.push(`<text x="${num(x + 16)}" y="${num(y + 12)}">${esc(item.name)}</text>`);
  }
  if (o.xLabel) parts.push(`<text class="label" x="${num((left + right) / 2)}" y="${height - 8}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  if (o.yLabel) {
    const cy = (top + bottom) / 2;
    parts.push(`<text class="label" x="14" y="${num(cy)}" text-anchor="middle" transform="rotate(-90 14 ${num(cy)})">${esc(o.yLabel)}</text>`);
  }
  const data =
    (xAxis && yAxis ? ` data-points="${esc(JSON.stringify(tooltip))}"` : '') +
    (o.xLabel ? ` data-x="${esc(o.xLabel)}"` : '') +
    (o.yLabel ? ` data-y="${esc(o.yLabel)}"` : '');
  const label = o.title ?? o.yLabel ?? 'plot';
  return (
    `<svg class="plot" id="${esc(o.id)}" viewBox="0 0 ${width} ${height}" font-size="${FONT}" role="img" aria-label="${esc(label)}"${data}>` +
    `${parts.join('')}</svg>`
  );
}
