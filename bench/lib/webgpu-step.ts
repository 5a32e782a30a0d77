/**
 * The WebGPU half of bench/step.ts (imported by it; bench/lib/ holds no benchmarks of its own): the paper-size step and sampling
 * on a WebGPU adapter, with the device traffic per step (dispatches, uploads, readbacks: counts that do not depend
 * on the hardware).
 */
import { chooseExponent } from '@nbm/collective';
import { initAdamW, initParameters, type AdamWConfig, type ExampleBlock, type ModelConfig } from '@nbm/model';
import type { StepOps } from '@nbm/train';
import { createWebgpuEngine, openGpu } from '@nbm/webgpu';

export interface WebgpuStepResult {
  readonly adapter: string;
  readonly software: boolean;
  /** median ms of a whole step: upload, kernels, the two readbacks, the host mean and AdamW */
  readonly step: number;
  /** median ms of 1000 sample rows, k steps */
  readonly sample: number;
  readonly perStep: { dispatches: number; uploads: number; uploadBytes: number; readbacks: number; readbackBytes: number };
}

/** Runs `steps` timed steps (after 2 warm-ups) of B examples in `nblocks` blocks on WebGPU adapter `device`. */
export async function benchWebgpu(config: ModelConfig, x: Float32Array, y: Float32Array, B: number, K: number, nblocks: number, steps: number, device: number, ops: StepOps, adamw: AdamWConfig): Promise<WebgpuStepResult> {
  const gpu = await openGpu({ device, allowSoftware: true });
  const engine = await createWebgpuEngine(config, gpu);
  try {
    const params = initParameters(config, 1);
    const state = initAdamW(params);
    const m = B / nblocks;
    const blocks: ExampleBlock[] = Array.from({ length: nblocks }, (_, b) => ({
      count: m,
      x: x.subarray(b * m * config.nx, (b + 1) * m * config.nx),
      y: y.subarray(b * m * config.ny, (b + 1) * m * config.ny),
      index: Uint32Array.from({ length: m }, (_, i) => b * m + i),
    }));
    const sizes = params.values.map((v) => v.length);
    const layout = { sizes, offsets: sizes.map((_, t) => sizes.slice(0, t).reduce((a, n) => a + n, 0)), total: sizes.reduce((a, n) => a + n, 0) };
    const times: number[] = [];
    let before = { ...engine.counters };
    let perStep = { dispatches: 0, uploads: 0, uploadBytes: 0, readbacks: 0, readbackBytes: 0 };
    for (let s = 0; s < steps + 2; s++) {
      const t0 = performance.now();
      const shard = await engine.shardGradients(params, blocks, { seed: 1, step: s }, K);
      const exponents = Int32Array.from(await shard.bounds(), (v) => chooseExponent(v, nblocks));
      const mean = ops.meanFromFixed(await shard.fixedSum(exponents), exponents, layout, B);
      ops.adamwStep(params, mean, state, adamw);
      const t1 = performance.now();
      const c = engine.counters;
      perStep = { dispatches: c.dispatches - before.dispatches, uploads: c.uploads - before.uploads, uploadBytes: c.uploadBytes - before.uploadBytes, readbacks: c.readbacks - before.readbacks, readbackBytes: c.readbackBytes - before.readbackBytes };
      before = { ...c };
      if (s >= 2) times.push(t1 - t0);
    }
    const rows = 1000;
    const sx = new Float32Array(rows * config.nx);
    for (let r = 0; r < rows; r++) sx[r * config.nx + (r % config.nx)] = 1;
    const index = Uint32Array.from({ length: rows }, (_, i) => i);
    const sampleTimes: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      await engine.sample(params, sx, index, { seed: 1, step: r }, K, false);
      sampleTimes.push(performance.now() - t0);
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    return { adapter: `${gpu.adapter.description} (${gpu.adapter.vendor} ${gpu.adapter.architecture})`, software: gpu.adapter.software, step: median(times), sample: median(sampleTimes.slice(1)), perStep };
  } finally {
    engine.dispose();
    gpu.close();
  }
}
