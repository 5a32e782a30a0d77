/**
 * Training step time against the number of workers, split into compute and all-reduce, for --reduce exact and
 * --reduce fast: `npm run bench -- scaling [--workers 1,2,3,4] [--steps 8] [--one-process-threads T] [--kernel auto]
 * [...nbm train flags]`. Each configuration is a real `nbm train --workers N` run on loopback; the table reports
 * medians over its steps (the first step, which includes start-up, is left out). With --one-process-threads T,
 * the baseline is `nbm train --threads T` in this process (no workers), run first in the same benchmark: e.g.
 * `--workers 2 --threads 1 --one-process-threads 2` asks whether two one-thread workers beat one two-thread process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const NBM = join(import.meta.dirname, '..', 'apps', 'cli', 'bin', 'nbm.js');

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  process.argv.splice(i, 2);
  return v;
}

const workerCounts = option('workers', '1,2,3,4').split(',').map(Number);
const oneProcessThreads = option('one-process-threads', '');
const steps = Number(option('steps', '8'));
const passThrough = process.argv.slice(2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`load average at start: ${loadavg()[0].toFixed(2)}`);
console.log(`scaling benchmark: ${steps} steps per run, paper configuration unless overridden (${passThrough.join(' ') || 'defaults'})`);
console.log(`${'reduce'.padEnd(7)} ${'workers'.padEnd(16)} step ms  compute ms  all-reduce ms  samples/s  speed-up`);
/** One `nbm train` run: its median step time, compute and all-reduce times, samples/s; or why it failed. */
function measure(flags: string[]): { stepMs: number; computeMs: number; reduceMs: number; sps: number } | string {
  const dir = mkdtempSync(join(tmpdir(), 'nbm-scaling-'));
  try {
    const r = spawnSync(process.execPath, [NBM, 'train', ...flags, '--max-steps', String(steps), '--log-every', '1', '--no-pictures', '--quiet', '--out', join(dir, 'run')], { encoding: 'utf8' });
    if (r.status !== 0) return `failed: ${r.stderr.trim().split('\n').at(-1)}`;
    const lines = readFileSync(join(dir, 'run', 'metrics.csv'), 'utf8').trim().split('\n');
    const head = lines[0].split(',');
    const rows = lines.slice(2).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i], Number(v)]))).filter((row) => row.samples_per_s > 0);
    const sps = median(rows.map((row) => row.samples_per_s));
    return { stepMs: (1000 * rows[0].examples) / sps, computeMs: median(rows.map((row) => row.compute_ms)), reduceMs: median(rows.map((row) => row.reduce_ms)), sps };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const reduce of ['exact', 'fast']) {
  let base = 0;
  const configs: Array<[label: string, flags: string[]]> = [
    ...(oneProcessThreads ? [[`1 proc, ${oneProcessThreads} thr`, ['--threads', oneProcessThreads]] as [string, string[]]] : []),
    ...workerCounts.map((n) => [String(n), ['--workers', String(n)]] as [string, string[]]),
  ];
  for (const [label, flags] of configs) {
    // a later --threads (the one-process baseline's) overrides the pass-through one
    const m = measure([...passThrough, ...flags, '--reduce', reduce]);
    if (typeof m === 'string') {
      console.log(`${reduce.padEnd(7)} ${label.padEnd(16)} ${m}`);
      continue;
    }
    if (base === 0) base = m.sps;
    console.log(
      `${reduce.padEnd(7)} ${label.padEnd(16)} ${m.stepMs.toFixed(1).padStart(7)}  ${m.computeMs.toFixed(1).padStart(10)}  ${m.reduceMs.toFixed(1).padStart(13)}  ${m.sps.toFixed(0).padStart(9)}  ${(m.sps / base).toFixed(2).padStart(7)}×`,
    );
  }
}
console.log(`load average at end: ${loadavg()[0].toFixed(2)}; speed-up: samples/s relative to the first row of each reduce`);
