/**
 * Training step time against the number of workers, split into compute and all-reduce, for --reduce exact and
 * --reduce fast: `npm run bench -- scaling [--workers 1,2,3,4] [--steps 8] [--kernel auto] [...nbm train flags]`.
 * Each configuration is a real `nbm train --workers N` run on loopback; the table reports medians over its
 * steps (the first step, which includes start-up, is left out).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
const steps = Number(option('steps', '8'));
const passThrough = process.argv.slice(2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`scaling benchmark: ${steps} steps per run, paper configuration unless overridden (${passThrough.join(' ') || 'defaults'})`);
console.log('reduce  workers  step ms  compute ms  all-reduce ms  samples/s  speed-up');
for (const reduce of ['exact', 'fast']) {
  let base = 0;
  for (const n of workerCounts) {
    const dir = mkdtempSync(join(tmpdir(), 'nbm-scaling-'));
    try {
      const r = spawnSync(process.execPath, [NBM, 'train', '--workers', String(n), '--reduce', reduce, '--max-steps', String(steps), '--log-every', '1', '--no-pictures', '--quiet', ...passThrough, '--out', join(dir, 'run')], { encoding: 'utf8' });
      if (r.status !== 0) {
        console.log(`${reduce.padEnd(7)} ${String(n).padEnd(8)} failed: ${r.stderr.trim().split('\n').at(-1)}`);
        continue;
      }
      const lines = readFileSync(join(dir, 'run', 'metrics.csv'), 'utf8').trim().split('\n');
      const head = lines[0].split(',');
      const rows = lines.slice(2).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i], Number(v)]))).filter((row) => row.samples_per_s > 0);
      const sps = median(rows.map((row) => row.samples_per_s));
      const stepMs = (1000 * rows[0].examples) / sps;
      if (n === workerCounts[0]) base = sps;
      console.log(
        `${reduce.padEnd(7)} ${String(n).padEnd(8)} ${stepMs.toFixed(1).padStart(7)}  ${median(rows.map((row) => row.compute_ms)).toFixed(1).padStart(10)}  ${median(rows.map((row) => row.reduce_ms)).toFixed(1).padStart(13)}  ${sps.toFixed(0).padStart(9)}  ${(sps / base).toFixed(2).padStart(7)}×`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
