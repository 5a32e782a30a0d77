/** Real `nbm train` runs measured from their metrics.csv: what the benchmarks report as end-to-end step times. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NBM = join(import.meta.dirname, '..', '..', 'apps', 'cli', 'bin', 'nbm.js');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface TrainTiming {
  /** wall ms per step: the step's examples over its samples/s, median over the steps */
  readonly stepMs: number;
  readonly computeMs: number;
  readonly reduceMs: number;
  readonly sps: number;
}

/**
 * One `nbm train … --max-steps steps` run in a temporary directory: medians over its steps, the first (which
 * includes start-up) left out; or why it failed.
 */
export function measureTrain(flags: readonly string[], steps: number): TrainTiming | string {
  const dir = mkdtempSync(join(tmpdir(), 'nbm-bench-train-'));
  try {
    const r = spawnSync(process.execPath, [NBM, 'train', ...flags, '--max-steps', String(steps), '--log-every', '1', '--no-pictures', '--quiet', '--out', join(dir, 'run')], { encoding: 'utf8' });
    if (r.status !== 0) return `failed: ${r.stderr.trim().split('\n').at(-1)}`;
    const lines = readFileSync(join(dir, 'run', 'metrics.csv'), 'utf8').trim().split('\n');
    const head = lines[0].split(',');
    const rows = lines.slice(2).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i], Number(v)]))).filter((row) => row.samples_per_s > 0);
    if (rows.length === 0) return `failed: no timed steps in metrics.csv (--steps must be at least 2)`;
    const sps = median(rows.map((row) => row.samples_per_s));
    return { stepMs: (1000 * rows[0].examples) / sps, computeMs: median(rows.map((row) => row.compute_ms)), reduceMs: median(rows.map((row) => row.reduce_ms)), sps };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
