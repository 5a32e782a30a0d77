/**
 * Training step time against the number of workers, split into compute and all-reduce, for --reduce exact and
 * --reduce fast: `npm run bench -- scaling [--workers 1,2,3,4] [--steps 8] [--rounds 3] [--one-process-threads T]
 * [--kernel auto] [...nbm train flags]`. Each configuration is a real `nbm train --workers N` run on loopback,
 * measured by the medians over its steps (the first step, which includes start-up, is left out). With
 * --one-process-threads T, the baseline is `nbm train --threads T` in this process (no workers): e.g.
 * `--workers 2 --threads 1 --one-process-threads 2` asks whether two one-thread workers beat one two-thread process.
 *
 * The configurations take turns: each round runs every one of them once, so that a slow spell of a shared machine
 * falls on all alike. A row gives the median over rounds; its speed-up is the median of the speed-ups within each
 * round (the run against the baseline of the same round), with their range.
 */
import { loadavg } from 'node:os';
import { measureTrain, type TrainTiming } from './lib/train-run.ts';

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
const rounds = Number(option('rounds', '3'));
const passThrough = process.argv.slice(2);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Config {
  reduce: string;
  label: string;
  flags: string[];
  /** one timing per round, or why the run failed */
  runs: Array<TrainTiming | string>;
}

const configs: Config[] = ['exact', 'fast'].flatMap((reduce) => [
  ...(oneProcessThreads ? [{ reduce, label: `1 proc, ${oneProcessThreads} thr`, flags: ['--threads', oneProcessThreads], runs: [] }] : []),
  ...workerCounts.map((n) => ({ reduce, label: String(n), flags: ['--workers', String(n)], runs: [] })),
]);

console.log(`load average at start: ${loadavg()[0].toFixed(2)}`);
console.log(`scaling benchmark: ${steps} steps per run, ${rounds} round(s) taking turns, paper configuration unless overridden (${passThrough.join(' ') || 'defaults'})`);
for (let round = 0; round < rounds; round++) {
  // a later --threads (the one-process baseline's) overrides the pass-through one
  for (const c of configs) c.runs.push(measureTrain([...passThrough, ...c.flags, '--reduce', c.reduce], steps));
}

console.log(`${'reduce'.padEnd(7)} ${'workers'.padEnd(16)} step ms  compute ms  all-reduce ms  samples/s  speed-up (range over rounds)`);
for (const c of configs) {
  const failed = c.runs.find((r) => typeof r === 'string');
  if (failed) {
    console.log(`${c.reduce.padEnd(7)} ${c.label.padEnd(16)} ${failed}`);
    continue;
  }
  const runs = c.runs as TrainTiming[];
  const base = configs.find((b) => b.reduce === c.reduce)!.runs;
  const ups = runs.flatMap((r, i) => (typeof base[i] === 'string' ? [] : [r.sps / (base[i] as TrainTiming).sps]));
  const of = (f: (t: TrainTiming) => number) => median(runs.map(f));
  console.log(
    `${c.reduce.padEnd(7)} ${c.label.padEnd(16)} ${of((t) => t.stepMs).toFixed(1).padStart(7)}  ${of((t) => t.computeMs).toFixed(1).padStart(10)}  ` +
      `${of((t) => t.reduceMs).toFixed(1).padStart(13)}  ${of((t) => t.sps).toFixed(0).padStart(9)}  ` +
      `${ups.length ? `${median(ups).toFixed(2)}× (${Math.min(...ups).toFixed(2)}–${Math.max(...ups).toFixed(2)})` : '-'}`,
  );
}
console.log(`load average at end: ${loadavg()[0].toFixed(2)}; speed-up: samples/s relative to the first row of each reduce, in the same round`);
