/**
 * Axis scales for line plots: a data range becomes a domain with "nice" tick values (1, 2 or 5 × 10^k steps, or
 * whole decades on a log scale) and their labels, and a map from data values to a 0..1 position.
 */
export interface Axis {
  log: boolean;
  /** Domain ends, in data units. */
  lo: number;
  hi: number;
  /** Labelled tick values, in data units, ascending. */
  ticks: number[];
  labels: string[];
  /** Unlabelled minor ticks (2..9 × 10^k on log axes), in data units. */
  minor: number[];
  /** Position of `v` along the axis, 0 at `lo` and 1 at `hi`; null for values the axis cannot show. */
  position(v: number): number | null;
}

/** A 1, 2 or 5 × 10^k step giving about `target` intervals over `span`. */
export function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
}

/** `v` as `1.5e-5` with just enough mantissa digits to tell ticks `10^stepExp` apart. */
function exponentLabel(v: number, stepExp: number): string {
  const digits = Math.min(15, Math.max(0, Math.floor(Math.log10(Math.abs(v)) + 1e-9) - stepExp));
  const [mantissa, exponent] = v.toExponential(digits).split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
  return `${trimmed}e${Number(exponent)}`;
}

/**
 * Labels for ticks spaced `step` apart: plain decimals with just enough places for the step (`0.25`, `-200`,
 * `10000`), unless those run longer than 6 characters and `1.5e-5` style is shorter (`3e7`, `1e-5`).
 * Distinct ticks always get distinct labels.
 */
export function formatTicks(ticks: readonly number[], step: number): string[] {
  const stepExp = Math.floor(Math.log10(step) + 1e-9);
  const isZero = (v: number) => v === 0 || Math.abs(v) < step * 1e-9;
  const fixed = ticks.map((v) => (isZero(v) ? '0' : v.toFixed(Math.min(100, Math.max(0, -stepExp)))));
  const exp = ticks.map((v) => (isZero(v) ? '0' : exponentLabel(v, stepExp)));
  const longest = (labels: string[]) => Math.max(0, ...labels.map((l) => l.length));
  return longest(fixed) > 6 && longest(exp) < longest(fixed) ? exp : fixed;
}

/** Label for 10^k on a log axis: `0.01` … `10000`, else `1e-5`, `1e6`. */
export function formatDecade(k: number): string {
  if (k >= -2 && k <= 4) return k < 0 ? Number(`1e${k}`).toFixed(-k) : String(Number(`1e${k}`));
  return `1e${k}`;
}

/** A linear axis covering [min, max] (finite, min ≤ max), extended to whole steps, with about `target` ticks. */
export function linearAxis(min: number, max: number, target: number): Axis {
  const magnitude = Math.max(Math.abs(min), Math.abs(max));
  if (max - min <= 1e-12 * magnitude || max - min < 1e-290) {
    // Flat (or numerically flat) data: an axis around the value.
    const centre = min / 2 + max / 2;
    const pad = Math.abs(centre) < 1e-290 ? 1 : Math.abs(centre) * 0.1;
    min = centre - pad;
    max = centre + pad;
  }
  const step = niceStep(max - min, target);
  // The tolerance keeps 1e-5 / 1e-6 = 10.000000000000002 from adding a whole extra step.
  const k0 = Math.floor(min / step + 1e-9);
  const k1 = Math.ceil(max / step - 1e-9);
  if (!Number.isFinite(step) || !Number.isFinite(k0) || !Number.isFinite(k1) || k1 - k0 > 1000) {
    // Extreme ranges (a span that overflows): just the two ends, unrounded.
    return {
      log: false,
      lo: min,
      hi: max,
      ticks: [min, max],
      labels: [min.toExponential(2), max.toExponential(2)],
      minor: [],
      position: (v) => (Number.isFinite(v) ? (v / 2 - min / 2) / (max / 2 - min / 2) : null),
    };
  }
  // min/max guard against the last ulp lost in k·step.
  const lo = Math.min(k0 * step, min);
  const hi = Math.max(k1 * step, max);
  const ticks = Array.from({ length: k1 - k0 + 1 }, (_, i) => (k0 + i) * step);
  return {
    log: false,
    lo,
    hi,
    ticks,
    labels: formatTicks(ticks, step),
    minor: [],
    position: (v) => (Number.isFinite(v) ? (v - lo) / (hi - lo) : null),
  };
}

/** A log10 axis covering [min, max] (finite, 0 < min ≤ max), extended to whole decades. */
export function logAxis(min: number, max: number, target: number): Axis {
  let d0 = Math.floor(Math.log10(min) + 1e-12);
  let d1 = Math.ceil(Math.log10(max) - 1e-12);
  if (d1 <= d0) {
    // All values at one power of ten: show a decade either side.
    d0 -= 1;
    d1 = d0 + 2;
  }
  const every = Math.max(1, Math.ceil((d1 - d0) / Math.max(1, target)));
  const decades: number[] = [];
  for (let k = d0; k <= d1; k += every) decades.push(k);
  const minor: number[] = [];
  if (d1 - d0 <= 8) {
    for (let k = d0; k < d1; k++) for (let m = 2; m <= 9; m++) minor.push(Number(`${m}e${k}`));
  }
  return {
    log: true,
    lo: Number(`1e${d0}`),
    hi: Number(`1e${d1}`),
    ticks: decades.map((k) => Number(`1e${k}`)),
    labels: decades.map(formatDecade),
    minor,
    position: (v) => (Number.isFinite(v) && v > 0 ? (Math.log10(v) - d0) / (d1 - d0) : null),
  };
}
