/**
 * Sampling benchmark (`nbm sample`): samples/s drawing 10,000 samples at k = 32 from a paper-size model
 * (nx 10, ny 784, nh 64, freshly initialised), in one process and on a pool of 1 and N local workers.
 *
 *   node --import tsx bench/sample.ts [--samples 10000] [--gibbs-steps 32] [--workers 1,N] [--backend auto]
 *                                     [--chunk 500] [--block-size 50]
 *
 * Workers are the nbm CLI's `worker` processes (apps/cli/bin/nbm.js worker), as `nbm sample --workers N` spawns.
 * Prints a table: for each setup the sampling time (first chunk to last row written), samples/s, the speed-up over
 * the one-process run, and the wall time including start-up (worker processes, model load). Every run draws the
 * same request, and the table's last column checks that the files are byte-identical to the one-process run's.
 */
import { availableParallelism, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConfig } from '@nbm/model';
import { runSampleJob } from '@nbm/sample';
// a run directory holding a freshly initialised model as its latest checkpoint (shared with the tests)
import { makeRun } from '../libs/sample/test/helpers.ts';

const NBM_BIN = join(import.meta.dirname, '..', 'apps', 'cli', 'bin', 'nbm.js');
const MODEL: ModelConfig = { nx: 10, ny: 784, nh: 64, width: 32, visible: 'gaussian' };

function options(argv: string[]) {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (name: string, fallback: number) => {
    const v = Number(get(name) ?? fallback);
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
    return v;
  };
  const n = Math.max(2, availableParallelism());
  const workers = (get('workers') ?? `1,${n}`).split(',').map(Number);
  if (workers.some((w) => !Number.isInteger(w) || w < 1)) throw new Error('--workers must list positive integers');
  return {
    samples: int('samples', 10_000),
    gibbsSteps: int('gibbs-steps', 32),
    chunk: int('chunk', 500),
    blockSize: int('block-size', 50),
    backend: (get('backend') ?? 'auto') as 'auto' | 'wasm' | 'cpu' | 'tensorflow',
    workers,
  };
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const scratch = mkdtempSync(join(tmpdir(), 'nbm-bench-sample-'));
  try {
    const run = join(scratch, 'run');
    await makeRun(run, MODEL, { gibbsSteps: 32 });
    const perClass = Math.ceil(o.samples / 10);
    const spec = { checkpoint: run, classes: '0-9', perClass, gibbsSteps: o.gibbsSteps, seed: 1, blockSize: o.blockSize, backend: o.backend };
    const setups: Array<{ label: string; workers?: number }> = [{ label: '1 (in process)' }, ...o.workers.map((w) => ({ label: `${w} worker${w > 1 ? 's' : ''}`, workers: w }))];
    const rows: string[][] = [];
    let base: { rate: number; bytes: Buffer } | undefined;
    let backend = o.backend as string;
    for (const [i, s] of setups.entries()) {
      const out = join(scratch, `out-${i}`);
      const t0 = performance.now();
      const r = await runSampleJob(
        { ...spec, backend: backend as typeof o.backend },
        { out, chunk: o.chunk, workers: s.workers, workerCommand: { file: NBM_BIN, args: ['worker'] }, quiet: true, pictures: false },
      );
      const wall = (performance.now() - t0) / 1000;
      if (r.status !== 'complete') throw new Error('unexpected: the job was already complete');
      const m = r.manifest;
      backend = m.request.backend; // resolve auto once, so every setup draws on the same backend
      const bytes = readFileSync(join(out, 'samples.npy'));
      base ??= { rate: m.samplesPerSecond, bytes };
      rows.push([s.label, String(m.request.count), m.seconds.toFixed(1), m.samplesPerSecond.toFixed(1), (m.samplesPerSecond / base.rate).toFixed(2), wall.toFixed(1), bytes.equals(base.bytes) ? 'yes' : 'NO']);
      process.stderr.write(`${s.label}: ${m.samplesPerSecond.toFixed(1)} samples/s\n`);
      rmSync(out, { recursive: true, force: true });
    }
    const head = ['workers', 'samples', 'sampling s', 'samples/s', 'speed-up', 'wall s', 'same bytes'];
    const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const line = (cells: string[]) => `| ${cells.map((x, c) => x.padStart(widths[c])).join(' | ')} |`;
    console.log(`nbm sample: ${o.samples} samples (10 classes), k = ${o.gibbsSteps}, nx 10, ny 784, nh 64, backend ${backend}, chunk ${o.chunk}, block ${o.blockSize}, ${availableParallelism()} CPU cores`);
    console.log(line(head));
    console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    for (const r of rows) console.log(line(r));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
