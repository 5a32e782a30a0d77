/**
 * Ring all-reduce benchmark: the model's gradient (604,384 values) summed over N = 2, 3, 4 processes
 * on loopback TCP, as float32 (`--reduce fast`), as plain float64, and as fixed point (`--reduce exact`).
 *
 *   node --import tsx bench/allreduce.ts [--iterations 20] [--worlds 2,3,4] [--length 604384] [--chunk-kib 1024[,256,…]]
 *
 * NBM_BENCH_PROF=DIR writes a V8 CPU profile of each rank into DIR (node --cpu-prof).
 *
 * Prints, per N and mode, the median and 90th-percentile time of one all-reduce (the slowest rank's
 * time per iteration) and the bus bandwidth 2(N − 1)/N · S / t, S the buffer's bytes. The `exact`
 * rows time the whole path a trainer runs: local max |g|, the all-gather of the step's small vectors (bounds,
 * flag, statistics), toFixed, the reduce-scatter of packed 6-byte integers, each rank's segment to the float32 mean, the float32
 * all-gather (`Ring.allReduceFixedTo`), the finite check; `exact ring` is that collective alone, from a
 * fixed-point sum made beforehand. The `fast` rows time the same path of `--reduce fast`
 * (the float32 sum and ring, the mean), so that `× fast` compares what a step pays for exactness. The `small`
 * rows compare that all-gather with the two all-reduces (MAX, SUM) it replaced. The baseline, in the same run and processes: `raw zmq`, each rank pushing
 * the bytes a ring all-reduce of S moves per rank (2(N − 1)/N · S, in the same chunks) to its right neighbour
 * over a bare ZeroMQ PUSH/PULL pair while pulling as many from its left: the wire, with no ring protocol and no
 * arithmetic. Each ring row says what fraction of that wire it reaches. Every process is its own OS process;
 * this same file is the child, started with `--child`.
 *
 * The modes take turns: each iteration runs every mode once, in the same order, so that a slow spell of a
 * shared machine falls on all of them alike and the ratios between rows hold even when the absolute times
 * drift. Before each timed call each rank collects the frames earlier calls received (collectReceivedFrames, as
 * a worker does before each step) and the ranks line up (an all-gather of one value), so that no call is charged
 * for a rank still finishing the one before. With several `--chunk-kib` sizes, each rank binds one ring per
 * size and the ring rows repeat per size.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pull, Push } from 'zeromq';
import { DEFAULT_CHUNK_BYTES, Ring, chooseExponent, collectReceivedFrames, gradientLayout, toFixed } from '@nbm/collective';
import { loadNativeKernel } from '@nbm/kernels';
import type { BlockStats } from '@nbm/model';
import { jsOps, nativeOps } from '@nbm/train';

interface Options {
  iterations: number;
  worlds: number[];
  length: number;
  chunkKiB: number[];
}

type Mode = 'f32 ring' | 'f64 ring' | 'exact ring' | 'fast' | 'exact' | 'raw zmq f32' | 'raw zmq f64' | 'raw zmq 5 B' | 'small: 2 all-reduces' | 'small: 1 all-gather';
const MODES: Mode[] = ['raw zmq f32', 'raw zmq f64', 'raw zmq 5 B', 'f32 ring', 'f64 ring', 'exact ring', 'fast', 'exact', 'small: 2 all-reduces', 'small: 1 all-gather'];
/**
 * bytes per value each mode moves in each half of a ring all-reduce (0: the step's small vectors, not the
 * gradient): exact carries packed 6-byte integers in the reduce-scatter and float32 means in the all-gather, 5 on average
 */
const WIDTH: Record<Mode, number> = { 'raw zmq f32': 4, 'raw zmq f64': 8, 'raw zmq 5 B': 5, 'f32 ring': 4, 'f64 ring': 8, 'exact ring': 5, fast: 4, exact: 5, 'small: 2 all-reduces': 0, 'small: 1 all-gather': 0 };
/** the step's small vectors: the bounds of the 10 tensors and the non-finite flag (MAX), the 11 block statistics (SUM) */
const BOUNDS = 11;
const STATS = 11;
/** the raw baseline a ring mode is compared with: the same bytes on the bare wire */
const BASELINE: Partial<Record<Mode, Mode>> = { 'f32 ring': 'raw zmq f32', 'f64 ring': 'raw zmq f64', 'exact ring': 'raw zmq 5 B', fast: 'raw zmq f32', exact: 'raw zmq 5 B' };
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
    chunkKiB: (get('chunk-kib') ?? String(DEFAULT_CHUNK_BYTES / 1024)).split(',').map(Number),
  };
  if (opts.worlds.some((w) => !Number.isInteger(w) || w < 2)) throw new Error('--worlds must list integers ≥ 2');
  if (opts.chunkKiB.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('--chunk-kib must list positive integers');
  if (argv.includes('--child')) return { ...opts, child: { rank: int('rank', 0), world: int('world', 2) } };
  return opts;
}

// ------------------------------------------------------------------ child: one rank

/** One row of the table: a mode, at a chunk size (the small modes use the first ring's). */
interface Case {
  mode: Mode;
  chunkKiB: number;
}

const caseKey = (c: Case) => `${c.mode}@${c.chunkKiB}`;

function casesOf(opts: Options): Case[] {
  const sized = MODES.filter((m) => WIDTH[m] > 0);
  const small = MODES.filter((m) => WIDTH[m] === 0);
  return [...opts.chunkKiB.flatMap((chunkKiB) => sized.map((mode) => ({ mode, chunkKiB }))), ...small.map((mode) => ({ mode, chunkKiB: opts.chunkKiB[0] }))];
}

async function child(opts: Options, rank: number, world: number): Promise<void> {
  const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const rings = new Map<number, Ring>();
  for (const kib of opts.chunkKiB) rings.set(kib, await Ring.bind('tcp://127.0.0.1:*', { chunkBytes: kib * 1024, timeoutMs: 60_000 }));
  const pull = new Pull({ linger: 0 });
  await pull.bind('tcp://127.0.0.1:*');
  say({ addresses: [...rings.values()].map((r) => r.address), raw: pull.lastEndpoint });
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const { peers, raws } = JSON.parse((await lines.next()).value as string) as { peers: string[][]; raws: string[] };
  [...rings.values()].forEach((ring, i) => ring.connect({ rank, world, right: peers[(rank + 1) % world][i] }));
  const push = new Push({ linger: 0 });
  push.connect(raws[(rank + 1) % world]);
  const payloads = new Map(opts.chunkKiB.map((kib) => [kib, Buffer.alloc(kib * 1024, rank)]));
  /** The wire alone: what a ring all-reduce of `bytes` sends per rank, in its chunks, right; as much pulled from the left. */
  const raw = async (bytes: number, chunkKiB: number) => {
    const chunk = chunkKiB * 1024;
    const total = Math.round((2 * (world - 1) * bytes) / world);
    const payload = payloads.get(chunkKiB)!;
    const messages = Math.ceil(total / chunk);
    const receiving = (async () => {
      for (let i = 0; i < messages; i++) await pull.receive();
    })();
    for (let sent = 0; sent < total; sent += chunk) await push.send(payload.subarray(0, Math.min(chunk, total - sent)));
    await receiving;
  };

  const n = opts.length;
  // the trainer's conversions to and from fixed point: the native kernel's on one thread (a worker of
  // `--workers N --threads 1`), else JavaScript's (the same bits)
  const native = loadNativeKernel();
  const ops = native.ok ? nativeOps(native.kernel, 1, { reuseOutputs: true }) : jsOps;
  const layout = gradientLayout({ values: [{ length: n }] });
  const grad = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.001 + rank) * 1e-3);
  // this rank's gradient as the one block of its shard
  const shard = [{ grads: [grad], stats: {} as BlockStats }];
  const f32 = new Float32Array(n);
  const f64 = new Float64Array(n);
  const fixedGrad = new Float64Array(n);
  const exponent30 = Int32Array.of(30);
  toFixed(grad, exponent30[0], fixedGrad, false);
  const meanOut = new Float32Array(n);
  let step = 0;
  const tag = () => ({ run: 'bench', step: step++ });
  const cases = casesOf(opts);
  const barrier = new Float64Array(1);
  const times: Record<string, number[]> = Object.fromEntries(cases.map((c) => [caseKey(c), []]));
  // garbage collection inside each timed call: V8's gc entries, each charged to the call it started in
  const gcMs: Record<string, number> = Object.fromEntries(cases.map((c) => [caseKey(c), 0]));
  const gcs: Array<{ start: number; duration: number }> = [];
  const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcs.push({ start: e.startTime, duration: e.duration }); });
  observer.observe({ entryTypes: ['gc'] });
  const windows: Array<{ key: string; t0: number; t1: number }> = [];
  const run = async ({ mode, chunkKiB }: Case) => {
    const ring = rings.get(chunkKiB)!;
    if (mode.startsWith('raw zmq')) {
      await raw(n * WIDTH[mode], chunkKiB);
    } else if (mode === 'small: 2 all-reduces') {
      // how a step combined them before: a MAX all-reduce, then a SUM all-reduce
      await ring.allReduceScalars(new Float64Array(BOUNDS).fill(rank), 'max', { tag: tag() });
      await ring.allReduceScalars(new Float64Array(STATS).fill(rank), 'sum', { tag: tag() });
    } else if (mode === 'small: 1 all-gather') {
      // how it does now: one all-gather, each rank combining in rank order
      await ring.allGather(new Float64Array(BOUNDS + STATS).fill(rank), { tag: tag() });
    } else if (mode === 'f32 ring') {
      await ring.allReduce(f32, 'sum', { tag: tag() });
    } else if (mode === 'f64 ring') {
      await ring.allReduce(f64, 'sum', { tag: tag() });
    } else if (mode === 'exact ring') {
      // the collective alone, from a fixed-point sum made beforehand: packed reduce-scatter, float32 all-gather
      await ring.allReduceFixedTo(f64, meanOut, (start, end) => void ops.meanFromFixedRange(f64, exponent30, layout, world, start, end, meanOut), { tag: tag() });
    } else {
      // the trainer's path (reduceAndApply): the small collective (bounds and flag, statistics: see the small rows),
      // then the shard's sum, the all-reduce and the mean, checked finite
      const small = new Float64Array(BOUNDS + STATS);
      small[0] = ops.blockMaxAbs(shard, layout)[0];
      const all = await ring.allGather(small, { tag: tag() });
      let bound = 0;
      for (let o = 0; o < all.length; o += small.length) bound = Math.max(bound, all[o]);
      if (mode === 'fast') {
        const sum = ops.floatSum(shard, layout);
        await ring.allReduce(sum, 'sum', { tag: tag() });
        if (!ops.allFinite(ops.meanFromFloat(sum, layout, world)[0])) throw new Error('non-finite mean');
        return;
      }
      const e = Int32Array.of(chooseExponent(bound, world));
      // each rank converts the segment it reduced to the float32 mean; the means are gathered
      const fixed = ops.fixedSum(shard, e, layout);
      const mean = ops.meanOutput(layout);
      await ring.allReduceFixedTo(fixed, mean, (start, end) => void ops.meanFromFixedRange(fixed, e, layout, world, start, end, mean), { tag: tag() });
      if (!ops.allFinite(mean)) throw new Error('non-finite mean');
    }
  };
  // the cases take turns (see the file's comment); every rank runs the same sequence
  for (let it = 0; it < WARMUP + opts.iterations; it++) {
    for (const c of cases) {
      f32.set(grad);
      f64.set(fixedGrad);
      // as a worker does before each step: free the frames earlier calls received now, not inside this call
      collectReceivedFrames();
      // line the ranks up first, so that a call's time does not include waiting for a rank still finishing the last
      await rings.get(opts.chunkKiB[0])!.allGather(barrier, { tag: tag() });
      const t0 = performance.now();
      await run(c);
      const t1 = performance.now();
      if (it >= WARMUP) {
        times[caseKey(c)].push(t1 - t0);
        windows.push({ key: caseKey(c), t0, t1 });
      }
    }
  }
  await new Promise((resolve) => setImmediate(resolve)); // the observer's last entries
  observer.disconnect();
  for (const g of gcs) {
    const w = windows.find((x) => g.start >= x.t0 && g.start < x.t1);
    if (w) gcMs[w.key] += g.duration / opts.iterations;
  }
  say({ times, gcMs, ops: ops.name });
  await lines.next(); // released by the parent once every rank is done (see Ring.close)
  for (const ring of rings.values()) ring.close();
  push.close();
  pull.close();
}

// ------------------------------------------------------------------ parent: spawn, collect, print

const SELF = fileURLToPath(import.meta.url);
/** which arithmetic the children's exact rows used (native or js) */
let opsUsed = '?';

interface RankResult {
  times: Record<string, number[]>;
  /** mean milliseconds of garbage collection per call */
  gcMs: Record<string, number>;
}

async function runWorld(opts: Options, world: number): Promise<RankResult[]> {
  const children = Array.from({ length: world }, (_, rank) =>
    spawn(process.execPath, [...(process.env.NBM_BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.NBM_BENCH_PROF] : []), '--import', 'tsx', SELF, '--child', '--rank', String(rank), '--world', String(world),
      '--iterations', String(opts.iterations), '--length', String(opts.length), '--chunk-kib', opts.chunkKiB.join(',')],
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
    const hello = await Promise.all(children.map((_, i) => next(i)));
    const peers = hello.map((h) => h.addresses as string[]);
    const raws = hello.map((h) => h.raw as string);
    for (const c of children) c.stdin!.write(`${JSON.stringify({ peers, raws })}\n`);
    const done = await Promise.all(children.map((_, i) => next(i)));
    opsUsed = String(done[0].ops);
    const results = done.map((d) => ({ times: d.times, gcMs: d.gcMs }) as RankResult);
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
    `${opts.chunkKiB.join(', ')} KiB chunks, ${opts.iterations} timed iterations (+${WARMUP} warm-up), modes taking turns, ` +
    `${cpus().length} CPU cores, node ${process.version}`);
  console.log(`machine load average at start: ${loadavg()[0].toFixed(2)} (other processes share the cores)`);
  const rows: string[][] = [['N', 'mode', 'chunk KiB', 'MB', 'median ms', 'p90 ms', 'GC ms', 'bus GB/s', 'of raw wire', '× f32 ring', '× fast']];
  for (const world of opts.worlds) {
    const perRank = await runWorld(opts, world);
    // per iteration, the slowest rank's time: the collective is done when all ranks are
    const slowest = (c: Case) => perRank[0].times[caseKey(c)].map((_, it) => Math.max(...perRank.map((r) => r.times[caseKey(c)][it])));
    const gcOf = (c: Case) => Math.max(...perRank.map((r) => r.gcMs[caseKey(c)])).toFixed(2);
    const medianOf = (c: Case) => quantile(slowest(c), 0.5);
    const busOf = (c: Case) => ((2 * (world - 1)) / world) * opts.length * WIDTH[c.mode] / (medianOf(c) / 1000) / 1e9;
    for (const c of casesOf(opts)) {
      const cells = [String(world), c.mode];
      if (WIDTH[c.mode] === 0) {
        rows.push([...cells, '', ((8 * (BOUNDS + STATS)) / 1e6).toFixed(4), medianOf(c).toFixed(2), quantile(slowest(c), 0.9).toFixed(2), gcOf(c), '', '', '', '']);
        continue;
      }
      const base = BASELINE[c.mode];
      rows.push([
        ...cells, String(c.chunkKiB), ((opts.length * WIDTH[c.mode]) / 1e6).toFixed(2), medianOf(c).toFixed(2), quantile(slowest(c), 0.9).toFixed(2), gcOf(c), busOf(c).toFixed(3),
        base ? `${((100 * busOf(c)) / busOf({ mode: base, chunkKiB: c.chunkKiB })).toFixed(0)}%` : '',
        c.mode !== 'f32 ring' && !c.mode.startsWith('raw') ? `${(medianOf(c) / medianOf({ mode: 'f32 ring', chunkKiB: c.chunkKiB })).toFixed(2)}×` : '',
        c.mode === 'exact' ? `${(medianOf(c) / medianOf({ mode: 'fast', chunkKiB: c.chunkKiB })).toFixed(2)}×` : '',
      ]);
    }
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const [i, r] of rows.entries()) {
    console.log(`| ${r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(' | ')} |`);
    if (i === 0) console.log(`|${widths.map((w, c) => (c < 2 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  }
  console.log(`exact = the trainer's exact path: max|g| (the kernel's) + the small all-gather + toFixed + reduce-scatter packed (6 B) + each rank's segment to the f32 mean + all-gather in f32 + the finite check;`);
  console.log(`fast = the trainer's fast path: max|g| + the small all-gather + the float32 sum + the f32 ring + the mean + the finite check (both with the ${opsUsed} arithmetic, 1 thread);`);
  console.log(`machine load average at end: ${loadavg()[0].toFixed(2)}`);
  console.log("'GC ms' = garbage collection per call, the mean over iterations, on the rank that spent most.");
  console.log("'of raw wire' = the ring's bus bandwidth over that of raw zmq for the same bytes in the same chunks (f32: raw zmq f32; f64: raw zmq f64; exact, 6 + 4 bytes a value: raw zmq 5 B).");
}

const opts = parseArgs(process.argv.slice(2));
if (opts.child) await child(opts, opts.child.rank, opts.child.world);
else await parent(opts);
