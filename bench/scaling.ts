/**
 * Training step time against the number of workers, split into compute and all-reduce, for --reduce exact and
 * --reduce fast: `npm run bench -- scaling [--workers 1,2,3,4] [--steps 8] [--one-process-threads T] [--kernel auto]
 * [...nbm train flags]`. Each configuration is a real `nbm train --workers N` run on loopback; the table reports
 * medians over its steps (the first step, which includes start-up, is left out). With --one-process-threads T,
 * the baseline is `nbm train --threads T` in this process (no workers), run first in the same benchmark: e.g.
 * `--workers 2 --threads 1 --one-process-threads 2` asks whether two one-thread workers beat one two-thread process.
 */
import { loadavg } from 'node:os';
import { measureTrain } from './lib/train-run.ts';

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

console.log(`load average at start: ${loadavg()[0].toFixed(2)}`);
console.log(`scaling benchmark: ${steps} steps per run, paper configuration unless overridden (${passThrough.join(' ') || 'defaults'})`);
console.log(`${'reduce'.padEnd(7)} ${'workers'.padEnd(16)} step ms  compute ms  all-reduce ms  samples/s  speed-up`);
for (const reduce of ['exact', 'fast']) {
  let base = 0;
  const configs: Array<[label: string, flags: string[]]> = [
    ...(oneProcessThreads ? [[`1 proc, ${oneProcessThreads} thr`, ['--threads', oneProcessThreads]] as [string, string[]]] : []),
    ...workerCounts.map((n) => [String(n), ['--workers', String(n)]] as [string, string[]]),
  ];
  for (const [label, flags] of configs) {
    // a later --threads (the one-process baseline's) overrides the pass-through one
    const m = measureTrain([...passThrough, ...flags, '--reduce', reduce], steps);
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
