/**
 * What a sweep directory holds (@nbm/sweep's state.ts and outputs.ts: sweep.json, best.json, trials/tNNN/),
 * read as plain JSON for the sweep's report page. Only the fields the page shows are typed, all optional
 * except what makes a file a sweep, so a sweep written by a newer or older nbm still renders.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** One validation epoch of a trial (val_cd, val_mse_bias, val_mse_var, val_nll, …). */
export interface TrialEpoch {
  epoch: number;
  [metric: string]: number;
}

export interface SweepTrial {
  id: string;
  /** Its run directory, relative to the sweep directory. */
  dir: string;
  settings: Record<string, number | string>;
  state: string;
  metrics: TrialEpoch[];
  target?: number;
  attempts?: number;
  worker?: string;
  error?: string;
  startedAt?: string;
  endedAt?: string;
  config?: Record<string, unknown>;
}

export interface SweepDimension {
  flag: string;
  kind?: string;
  text?: string;
  spec?: Record<string, unknown>;
}

export interface SweepJson {
  name: string;
  metric: string;
  trials: SweepTrial[];
  space?: { seed?: number; dimensions?: SweepDimension[] };
  scheduler?: Record<string, unknown>;
  divergeAbove?: number;
  argv?: string[];
  createdAt?: string;
  updatedAt?: string;
  finished?: boolean;
}

export interface SweepData {
  dir: string;
  sweep: SweepJson;
  dimensions: SweepDimension[];
  /** best.json, when the sweep has written one. */
  best?: Record<string, unknown>;
}

/** Reads sweep.json (and best.json) in `dir`; throws an Error naming the file when sweep.json is missing or malformed. */
export function readSweepData(dir: string): SweepData {
  const abs = resolve(dir);
  const file = join(abs, 'sweep.json');
  if (!existsSync(file)) throw new Error(`report: ${dir} is not a sweep directory (no sweep.json)`);
  let sweep: SweepJson;
  try {
    sweep = JSON.parse(readFileSync(file, 'utf8')) as SweepJson;
  } catch (e) {
    throw new Error(`report: ${file} does not parse (${(e as Error).message})`);
  }
  if (sweep === null || typeof sweep !== 'object' || !Array.isArray(sweep.trials)) throw new Error(`report: ${file} has no trials list`);
  sweep.trials = sweep.trials.filter((t) => t && typeof t.id === 'string');
  for (const t of sweep.trials) {
    t.dir = typeof t.dir === 'string' ? t.dir : `trials/${t.id}`;
    t.settings = t.settings && typeof t.settings === 'object' ? t.settings : {};
    t.metrics = Array.isArray(t.metrics) ? t.metrics : [];
    t.state = typeof t.state === 'string' ? t.state : 'unknown';
  }
  const declared = Array.isArray(sweep.space?.dimensions) ? sweep.space.dimensions.filter((d) => d && typeof d.flag === 'string') : [];
  // without a space (an older file), the swept flags are those that appear in the trials' settings
  const dimensions = declared.length ? declared : [...new Set(sweep.trials.flatMap((t) => Object.keys(t.settings)))].map((flag) => ({ flag }));
  let best: Record<string, unknown> | undefined;
  try {
    const b = JSON.parse(readFileSync(join(abs, 'best.json'), 'utf8')) as unknown;
    if (b && typeof b === 'object' && !Array.isArray(b)) best = b as Record<string, unknown>;
  } catch {
    best = undefined;
  }
  return { dir: abs, sweep, dimensions, best };
}

/** A trial's metric at its last validation (NaN when it has none). */
export function lastMetric(t: SweepTrial, metric: string): number {
  const v = t.metrics.at(-1)?.[metric];
  return typeof v === 'number' ? v : NaN;
}

/**
 * The best trial so far: among the trials with a finite metric at their last validation (diverged ones excluded),
 * those that trained the most epochs (a scheduler stopped the others as worse), and of those the lowest metric.
 */
export function bestSoFar(trials: readonly SweepTrial[], metric: string): SweepTrial | undefined {
  let best: SweepTrial | undefined;
  for (const t of trials) {
    const v = lastMetric(t, metric);
    if (t.state === 'diverged' || !Number.isFinite(v)) continue;
    if (!best || t.metrics.length > best.metrics.length || (t.metrics.length === best.metrics.length && v < lastMetric(best, metric))) best = t;
  }
  return best;
}
