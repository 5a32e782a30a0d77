/**
 * Ring all-reduce benchmark: the model's gradient (604,384 values) summed over N = 2, 3, 4 processes
 * on loopback TCP, as float32 (`--reduce fast`) and as float64 fixed point (`--reduce exact`).
 *
 *   node --import tsx bench/allreduce.ts [--iterations 20] [--worlds 2,3,4] [--length 604384] [--chunk-kib 256]
 *
 * Prints, per N and mode, the median and 90th-percentile time of one all-reduce (the slowest rank's
 * time per iteration) and the bus bandwidth 2(N − 1)/N · S / t, S the buffer's bytes. The `exact`
 * rows time the whole path a trainer runs: local max |g|, MAX all-reduce of the bound, toFixed,
 * the float64 all-reduce, fromFixed. Every process is its own OS process; this same file is the
 * child, started with `--child`.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Ring, chooseExponent, fromFixed, maxAbs, toFixed } from '@nbm/collective';

interface Options {
  iterations: number;
  worlds: number[];
  length: number;
  chunkKiB: number;
}

type Mode = 'f32 fast' | 'f64 ring' | 'exact';
const MODES: Mode[] = ['f32 fast', 'f64 ring', 'exact'];
const WARMUP = 3;

function parseArgs(argv: string[]): Options & { child?: { rank: number; world: number } } {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (name: string, fallback: number) => {
    const v = Number(get(name) ?? fallback);
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer`);
    return v;
  };
  const opts = {
    iterations: int('iterations', 20),
    worlds: (get('worlds') ?? '2,3,4').split(',').map(Number),
    length: int('length', 604_384),
    chunkKiB: int('chunk-kib', 256),
  };
  if (opts.worlds.some((w) => !Number.isInteger(w) || w < 2)) throw new Error('--worlds must list integers ≥ 2');
  if (argv.includes('--child')) return { ...opts, child: { rank: int('rank', 0), world: int('world', 2) } };
  return opts;
}

// ------------------------------------------------------------------ child: one rank

async function child(opts: Options, rank: number, world: number): Promise<void> {
  const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const ring = await Ring.bind('tcp://127.0.0.1:*', { chunkBytes: opts.chunkKiB * 1024, timeoutMs: 60_000 });
  say({ address: ring.address });
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const { peers } = JSON.parse((await lines.next()).value as string) as { peers: string[] };
  ring.connect({ rank, world, right: peers[(rank + 1) % world] });

  const n = opts.length;
  const grad = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.001 + rank) * 1e-3);
  const f32 = new Float32Array(n);
  const f64 = new Float64Array(n);
  const out = new Float32Array(n);
  let step = 0;
  const tag = () => ({ run: 'bench', step: step++ });
  const times: Record<Mode, number[]> = { 'f32 fast': [], 'f64 ring': [], exact: [] };
  for (const mode of MODES) {
    for (let it = 0; it < WARMUP + opts.iterations; it++) {
      f32.set(grad);
      toFixed(grad, 30, f64, false);
      const t0 = performance.now();
      if (mode === 'f32 fast') {
        await ring.allReduce(f32, 'sum', { tag: tag() });
      } else if (mode === 'f64 ring') {
        await ring.allReduce(f64, 'sum', { tag: tag(), exact: true });
      } else {
        const [bound] = await ring.allReduceScalars([maxAbs(grad)], 'max', { tag: tag() });
        const e = chooseExponent(bound, world);
        toFixed(grad, e, f64, false);
        await ring.allReduce(f64, 'sum', { tag: tag(), exact: true });
        fromFixed(f64, e, 1, out);
      }
      if (it >= WARMUP) times[mode].push(performance.now() - t0);
    }
  }
  say({ times });
  await lines.next(); // released by the parent once every rank is done (see Ring.close)
  ring.close();
}

// ------------------------------------------------------------------ parent: spawn, collect, print

const SELF = fileURLToPath(import.meta.url);

async function runWorld(opts: Options, world: number): Promise<Record<Mode, number[]>[]> {
  const children = Array.from({ length: world }, (_, rank) =>
    spawn(process.execPath, ['--import', 'tsx', SELF, '--child', '--rank', String(rank), '--world', String(world),
      '--iterations', String(opts.iterations), '--length', String(opts.length), '--chunk-kib', String(opts.chunkKiB)],
    { stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  const killAll = () => children.forEach((c) => c.kill('SIGKILL'));
  const timer = setTimeout(() => { console.error(`N=${world}: timed out`); killAll(); process.exit(1); }, 300_000);
  try {
    const readers = children.map((c) => createInterface({ input: c.stdout! })[Symbol.asyncIterator]());
    const next = async (i: number) => {
      const line = await readers[i].next();
      if (line.done) throw new Error(`rank ${i} exited early`);
      return JSON.parse(line.value) as Record<string, unknown>;
    };
    const peers = await Promise.all(children.map(async (_, i) => (await next(i)).address as string));
    for (const c of children) c.stdin!.write(`${JSON.stringify({ peers })}\n`);
    const results = await Promise.all(children.map(async (_, i) => (await next(i)).times as Record<Mode, number[]>));
    for (const c of children) c.stdin!.end();
    await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))));
    return results;
  } catch (err) {
    killAll();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))];
};

async function parent(opts: Options): Promise<void> {
  console.log(`ring all-reduce of ${opts.length.toLocaleString('en')} values over loopback TCP, ` +
    `${opts.chunkKiB} KiB chunks, ${opts.iterations} timed iterations (+${WARMUP} warm-up), ` +
    `${(await import('node:os')).cpus().length} CPU cores, node ${process.version}`);
  const rows: string[][] = [['N', 'mode', 'MB', 'median ms', 'p90 ms', 'bus GB/s']];
  for (const world of opts.worlds) {
    const perRank = await runWorld(opts, world);
    for (const mode of MODES) {
      // per iteration, the slowest rank's time: the collective is done when all ranks are
      const slowest = perRank[0][mode].map((_, it) => Math.max(...perRank.map((r) => r[mode][it])));
      const median = quantile(slowest, 0.5);
      const bytes = opts.length * (mode === 'f32 fast' ? 4 : 8);
      const bus = ((2 * (world - 1)) / world) * bytes / (median / 1000) / 1e9;
      rows.push([String(world), mode, (bytes / 1e6).toFixed(2), median.toFixed(2), quantile(slowest, 0.9).toFixed(2), bus.toFixed(3)]);
    }
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const [i, r] of rows.entries()) {
    console.log(`| ${r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(' | ')} |`);
    if (i === 0) console.log(`|${widths.map((w, c) => (c < 2 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  }
  console.log('exact = max|g| MAX all-reduce + toFixed + f64 all-reduce + fromFixed; bus GB/s uses the f64 bytes for f64 rows.');
}

const opts = parseArgs(process.argv.slice(2));
if (opts.child) await child(opts, opts.child.rank, opts.child.world);
else await parent(opts);
