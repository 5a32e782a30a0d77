/**
 * The search space of a sweep: which training options vary, and over which values.
 *
 * A flag's value is a sweep specification when it is
 * - a list `a,b,c` (any option; values of the option's own type),
 * - a grid range `lo:hi:log:N` or `lo:hi:lin:N` (numeric options): N values spaced evenly in log or linear scale,
 *   both ends included,
 * - random draws `lo:hi:logrand:N` or `lo:hi:rand:N` (numeric options): N draws, log-uniform or uniform, from
 *   a generator keyed by the space's seed.
 * Any other value is a fixed setting and not part of the space.
 *
 * Expansion: the grid dimensions (lists and ranges) form a cartesian product, the first dimension varying
 * slowest; every grid point is repeated N times when there are random dimensions (all of which must then ask
 * for the same N), and each trial draws its own random values. Dimensions are taken in the order of the flag
 * table given to {@link parseSpace}, not the command line's, so the trials and their ids depend only on what was
 * asked for.
 */
import { fillBits } from '@nbm/random';

/** The value type of a sweepable option (what `nbm train` parses its flag as). */
export type OptionKind = 'int' | 'number' | 'string';

/** One option that may be swept: its flag (without `--`) and its value type. */
export interface SweepableOption {
  readonly flag: string;
  readonly kind: OptionKind;
}

/** A setting's value. */
export type SettingValue = number | string;

/** One trial's values of the swept options, keyed by flag. */
export type Settings = Readonly<Record<string, SettingValue>>;

/** How one dimension's values are chosen. */
export type DimensionSpec =
  | { readonly type: 'list'; readonly values: readonly SettingValue[] }
  | { readonly type: 'log' | 'lin'; readonly lo: number; readonly hi: number; readonly count: number }
  | { readonly type: 'logrand' | 'rand'; readonly lo: number; readonly hi: number; readonly count: number };

/** A swept option. */
export interface Dimension {
  readonly flag: string;
  readonly kind: OptionKind;
  /** what the user wrote */
  readonly text: string;
  readonly spec: DimensionSpec;
}

/** A parsed search space: the dimensions, in flag-table order, and the seed of its random draws. */
export interface SearchSpace {
  readonly dimensions: readonly Dimension[];
  readonly seed: number;
}

/** A search-space specification that cannot be expanded; the message names the flag and what is wrong. */
export class SpaceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpaceError';
  }
}

/** The Philox stream of the space's random draws (apart from every stream training uses). */
export const SPACE_STREAM = 0x5357_0001;

/** At most this many trials in one sweep (a guard against a typo such as `:log:1000`). */
export const MAX_TRIALS = 10_000;

const RANGE = /^([^:]+):([^:]+):(log|lin|logrand|rand):([^:]+)$/;

/** True when a flag's text asks for more than one value (a list or a range). */
export function isSweepSpec(text: string): boolean {
  return text.includes(',') || RANGE.test(text.trim());
}

function parseValue(flag: string, kind: OptionKind, text: string): SettingValue {
  const s = text.trim();
  if (kind === 'string') {
    if (s === '') throw new SpaceError(`--${flag}: an empty value in the list '${text}'`);
    return s;
  }
  const n = Number(s);
  if (s === '' || !Number.isFinite(n)) throw new SpaceError(`--${flag}: '${s}' is not a number`);
  if (kind === 'int' && !Number.isInteger(n)) throw new SpaceError(`--${flag}: '${s}' is not an integer`);
  return n;
}

function parseCount(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new SpaceError(`--${flag}: the count in '${flag} lo:hi:mode:N' must be a positive integer, got '${text}'`);
  return n;
}

/** Parses one flag's sweep specification. */
export function parseDimension(option: SweepableOption, text: string): Dimension {
  const { flag, kind } = option;
  const m = RANGE.exec(text.trim());
  if (m) {
    if (kind === 'string') throw new SpaceError(`--${flag} takes words, so it cannot take a range '${text}': list the values (a,b,c)`);
    const [, loText, hiText, type, countText] = m;
    const lo = parseValue(flag, 'number', loText) as number;
    const hi = parseValue(flag, 'number', hiText) as number;
    const count = parseCount(flag, countText);
    if (!(lo <= hi)) throw new SpaceError(`--${flag} ${text}: the range's low end ${lo} is above its high end ${hi}`);
    if (lo === hi && count > 1) throw new SpaceError(`--${flag} ${text}: ${count} values between ${lo} and ${hi} cannot differ: widen the range or list one value`);
    if ((type === 'log' || type === 'logrand') && lo <= 0) throw new SpaceError(`--${flag} ${text}: a log range needs a positive low end, got ${lo}`);
    if (kind === 'int' && (type === 'log' || type === 'lin')) {
      const values = gridValues({ type, lo, hi, count }, kind);
      if (new Set(values).size !== values.length) {
        throw new SpaceError(`--${flag} ${text}: ${count} integers between ${lo} and ${hi} would repeat (${values.join(', ')}): ask for fewer, or list them`);
      }
    }
    return { flag, kind, text, spec: { type: type as 'log' | 'lin' | 'logrand' | 'rand', lo, hi, count } };
  }
  if (text.includes(',')) {
    const values = text.split(',').map((v) => parseValue(flag, kind, v));
    const seen = new Set<SettingValue>();
    for (const v of values) {
      if (seen.has(v)) throw new SpaceError(`--${flag} ${text}: the value ${v} is listed twice`);
      seen.add(v);
    }
    return { flag, kind, text, spec: { type: 'list', values } };
  }
  throw new SpaceError(`--${flag} '${text}' is one value, not a sweep: use a list (a,b,c) or a range (lo:hi:log|lin|logrand|rand:N)`);
}

/**
 * The search space of a sweep from the flags' texts: each text that {@link isSweepSpec} becomes a dimension;
 * the others are left to the caller as fixed settings.
 * @param options the options that may be swept, in the order their dimensions take
 * @param texts flag → the text given for it (flags not in `options` are ignored)
 * @param seed the seed of the random draws
 * @throws SpaceError for a malformed specification or a space of more than {@link MAX_TRIALS} trials
 */
export function parseSpace(options: readonly SweepableOption[], texts: Readonly<Record<string, string | undefined>>, seed = 0): SearchSpace {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new SpaceError(`--space-seed must be an integer in [0, 4294967295], got ${seed}`);
  const dimensions: Dimension[] = [];
  for (const o of options) {
    const text = texts[o.flag];
    if (text !== undefined && isSweepSpec(text)) dimensions.push(parseDimension(o, text));
  }
  const space = { dimensions, seed };
  trialCount(space);
  return space;
}

/** The number of trials a space expands to (1 for an empty space: the fixed settings alone). */
export function trialCount(space: SearchSpace): number {
  let grid = 1;
  let draws: number | undefined;
  for (const d of space.dimensions) {
    if (d.spec.type === 'rand' || d.spec.type === 'logrand') {
      if (draws !== undefined && draws !== d.spec.count) {
        const first = space.dimensions.find((e) => e.spec.type === 'rand' || e.spec.type === 'logrand')!;
        throw new SpaceError(`random dimensions draw jointly, so they must ask for the same count: --${first.flag} ${first.text} and --${d.flag} ${d.text} differ`);
      }
      draws = d.spec.count;
    } else grid *= d.spec.type === 'list' ? d.spec.values.length : d.spec.count;
  }
  const n = grid * (draws ?? 1);
  if (n > MAX_TRIALS) throw new SpaceError(`the search space has ${n} trials, more than the ${MAX_TRIALS} a sweep allows`);
  return n;
}

/** Rounds away floating-point noise (0.30000000000000004 → 0.3), keeping 12 significant digits. */
function tidy(v: number): number {
  return Number(v.toPrecision(12));
}

/** The values of a grid range: `count` points evenly spaced in log or linear scale, both ends exact. */
export function gridValues(spec: { type: 'log' | 'lin'; lo: number; hi: number; count: number }, kind: OptionKind): number[] {
  const { type, lo, hi, count } = spec;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    let v: number;
    if (count === 1 || i === 0) v = lo;
    else if (i === count - 1) v = hi;
    else if (type === 'log') v = tidy(Math.exp(Math.log(lo) + (i / (count - 1)) * (Math.log(hi) - Math.log(lo))));
    else v = tidy(lo + (i / (count - 1)) * (hi - lo));
    out.push(kind === 'int' ? Math.round(v) : v);
  }
  return out;
}

/** A uniform number in [0, 1) with 53 random bits, for trial `trial` and random dimension `dim`. */
function uniform(seed: number, trial: number, dim: number): number {
  const bits = new Uint32Array(2);
  fillBits(bits, { seed, stream: SPACE_STREAM }, trial, dim, 0);
  return ((bits[0] >>> 5) * 67108864 + (bits[1] >>> 6)) / 9007199254740992;
}

/** One random draw of a `rand`/`logrand` dimension from the uniform u. */
function draw(spec: { type: 'logrand' | 'rand'; lo: number; hi: number }, kind: OptionKind, u: number): number {
  const v = spec.type === 'logrand' ? Math.exp(Math.log(spec.lo) + u * (Math.log(spec.hi) - Math.log(spec.lo))) : spec.lo + u * (spec.hi - spec.lo);
  return kind === 'int' ? Math.round(v) : tidy(v);
}

/**
 * Every trial's settings, in trial order: the cartesian product of the grid dimensions (the first varying
 * slowest), each grid point repeated for the random draws, which trial i draws with counter (i, dimension).
 */
export function expandSpace(space: SearchSpace): Settings[] {
  const total = trialCount(space);
  const grid = space.dimensions.filter((d) => d.spec.type === 'list' || d.spec.type === 'log' || d.spec.type === 'lin');
  const random = space.dimensions.filter((d) => d.spec.type === 'rand' || d.spec.type === 'logrand');
  const axes = grid.map((d) => (d.spec.type === 'list' ? [...d.spec.values] : gridValues(d.spec as { type: 'log' | 'lin'; lo: number; hi: number; count: number }, d.kind)));
  const repeats = random.length > 0 ? (random[0].spec as { count: number }).count : 1;
  const trials: Settings[] = [];
  for (let t = 0; t < total; t++) {
    const point = Math.floor(t / repeats);
    const settings: Record<string, SettingValue> = {};
    // mixed-radix digits of the grid point, the last axis varying fastest
    let rest = point;
    for (let a = axes.length - 1; a >= 0; a--) {
      settings[grid[a].flag] = axes[a][rest % axes[a].length];
      rest = Math.floor(rest / axes[a].length);
    }
    random.forEach((d, j) => {
      settings[d.flag] = draw(d.spec as { type: 'logrand' | 'rand'; lo: number; hi: number }, d.kind, uniform(space.seed, t, j));
    });
    // keys in dimension order, whatever order they were filled in
    trials.push(Object.fromEntries(space.dimensions.map((d) => [d.flag, settings[d.flag]])));
  }
  return trials;
}

/** The id of trial `index` of `total`: t000, t001, … (more digits when a sweep has more than 1000 trials). */
export function trialId(index: number, total: number): string {
  const width = Math.max(3, String(Math.max(total - 1, 0)).length);
  return `t${String(index).padStart(width, '0')}`;
}

/** Settings as a short text: `lr=1e-3 decay-weights=0.5`. */
export function describeSettings(s: Settings): string {
  const parts = Object.entries(s).map(([k, v]) => `${k}=${formatSetting(v)}`);
  return parts.length ? parts.join(' ') : '(fixed settings)';
}

/** A setting value as a short text (numbers to 4 significant digits). */
export function formatSetting(v: SettingValue): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const s = Number(v.toPrecision(4));
  return Math.abs(s) >= 1e-3 && Math.abs(s) < 1e4 ? String(s) : s.toExponential().replace('e+', 'e');
}
