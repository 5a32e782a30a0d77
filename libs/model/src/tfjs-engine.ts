import { registerEngine, type EngineEntry } from './registry.ts';
import { tf, type Tensor } from '@nbm/backend';
import { Stream } from '@nbm/random';
import { validateModelConfig, type ModelConfig } from './config.ts';
import type { BlockGradient, BlockStats, ChainKey, ExampleBlock, GradientEngine, HostGradientEngine } from './engine.ts';
import { chainRandoms, runChain, type ChainStreams } from './chain.ts';
import { conditionals, freeEnergy, type ParameterTensors } from './networks.ts';
import type { Parameters } from './parameters.ts';

/** Uploads parameters as tensors keyed by state_dict name. The caller disposes them. */
export function parameterTensors(params: Parameters): ParameterTensors {
  const out: Record<string, Tensor> = {};
  params.specs.forEach((s, i) => {
    out[s.name] = tf.tensor(params.values[i], s.shape as number[], 'float32');
  });
  return out;
}

/** The training chain's streams for a step (docs/architecture.md, invariant 1: keyed by seed, step, example, Gibbs step). */
export function trainingStreams(key: ChainKey): ChainStreams {
  return {
    seed: key.seed,
    counter: key.step,
    hiddenStream: key.hiddenStream ?? Stream.hidden,
    visibleStream: key.visibleStream ?? Stream.visible,
  };
}

/**
 * Power sums of the data and of 1/P that make MSE_var computable from blocks (see BlockStats).
 * y, precision: (m·ny,)
 */
function momentSums(y: Float32Array, precision: Float32Array): Omit<BlockStats, 'freeEnergyData' | 'freeEnergyModel' | 'squaredErrorBias' | 'finite'> {
  let sumY = 0, sumY2 = 0, sumY3 = 0, sumY4 = 0, sumV = 0, sumVY = 0, sumVY2 = 0, sumV2 = 0;
  for (let i = 0; i < y.length; i++) {
    const v = 1 / precision[i];
    const yi = y[i];
    const y2 = yi * yi;
    sumY += yi;
    sumY2 += y2;
    sumY3 += y2 * yi;
    sumY4 += y2 * y2;
    sumV += v;
    sumVY += v * yi;
    sumVY2 += v * y2;
    sumV2 += v * v;
  }
  return { sumY, sumY2, sumY3, sumY4, sumV, sumVY, sumVY2, sumV2 };
}

function allFinite(arrays: readonly Float32Array[]): boolean {
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** One block's results as tensors, kept past the tidy that made them; `read` turns them into a BlockGradient. */
interface BlockTensors {
  readonly grads: Tensor[];
  /** F(y), F(ỹ), (y − μ)² and P, per example or element */
  readonly fData: Tensor;
  readonly fModel: Tensor;
  readonly sq: Tensor;
  readonly precision: Tensor;
}

/** How an engine reads tensors back: at once (cpu, wasm, tensorflow) or asynchronously (webgpu). */
type Reader<R> = (t: Tensor) => R;

/**
 * The reference implementation of the NBM's CD-k gradient, written once against the tfjs API so that it runs
 * on every backend. The chain's draws come from the keyed Philox streams.
 */
function tfjsEngineOn<R>(config: ModelConfig, read: Reader<R>, finish: (blk: ExampleBlock, parts: { grads: R[]; fData: R; fModel: R; sq: R; precision: R }) => BlockGradient | Promise<BlockGradient>) {
  validateModelConfig(config);
  const c = config;

  function blockTensors(params: Parameters, pt: ParameterTensors, blk: ExampleBlock, key: ChainKey, k: number): BlockTensors {
    const m = blk.count;
    const randoms = chainRandoms(c, blk.index, trainingStreams(key), k);
    const names = params.specs.map((s) => s.name);
    // tidy keeps the tensors it returns (as a flat list) and frees every other one
    const flat = tf.tidy(() => {
      const x = tf.tensor2d(blk.x, [m, c.nx]);
      const y = tf.tensor2d(blk.y, [m, c.ny]);
      // The negative sample is a constant of the loss: computed outside the differentiated function.
      const cond = conditionals(c, pt, x);
      const yModel = runChain(c, cond, randoms, k);
      const loss = (...ps: Tensor[]) => {
        const p: Record<string, Tensor> = {};
        names.forEach((n, i) => (p[n] = ps[i]));
        const kk = conditionals(c, p, x);
        return tf.sum(tf.sub(freeEnergy(y, kk), freeEnergy(yModel, kk))) as tf.Scalar;
      };
      const d = tf.sub(y, cond.mu);
      return [...tf.grads(loss)(names.map((n) => pt[n])), freeEnergy(y, cond), freeEnergy(yModel, cond), tf.mul(d, d), cond.precision];
    });
    const n = flat.length - 4;
    return { grads: flat.slice(0, n), fData: flat[n], fModel: flat[n + 1], sq: flat[n + 2], precision: flat[n + 3] };
  }

  return {
    name: `tfjs-${tf.getBackend()}`,
    blockGradients(params: Parameters, blocks: readonly ExampleBlock[], key: ChainKey, gibbsSteps: number) {
      if (!Number.isInteger(gibbsSteps) || gibbsSteps < 1) throw new RangeError(`gibbsSteps must be a positive integer, got ${gibbsSteps}`);
      const pt = parameterTensors(params);
      try {
        return blocks.map((b) => {
          const t = blockTensors(params, pt, b, key, gibbsSteps);
          const release = () => tf.dispose([...t.grads, t.fData, t.fModel, t.sq, t.precision]);
          let out: BlockGradient | Promise<BlockGradient>;
          try {
            out = finish(b, { grads: t.grads.map(read), fData: read(t.fData), fModel: read(t.fModel), sq: read(t.sq), precision: read(t.precision) });
          } catch (e) {
            release();
            throw e;
          }
          // an asynchronous read holds its tensors until it is in
          if (out instanceof Promise) return out.finally(release);
          release();
          return out;
        });
      } finally {
        tf.dispose(Object.values(pt));
      }
    },
    dispose() {},
  };
}

/** A BlockGradient from the block's read-back arrays. */
function blockGradientOf(blk: ExampleBlock, r: { grads: Float32Array[]; fData: Float32Array; fModel: Float32Array; sq: Float32Array; precision: Float32Array }): BlockGradient {
  const grads = r.grads.map((g) => g.slice());
  const stats: BlockStats = {
    freeEnergyData: sumOf(r.fData),
    freeEnergyModel: sumOf(r.fModel),
    squaredErrorBias: sumOf(r.sq),
    ...momentSums(blk.y, r.precision),
    finite: true,
  };
  stats.finite = Number.isFinite(stats.freeEnergyData) && Number.isFinite(stats.freeEnergyModel) && allFinite(grads);
  return { grads, stats };
}

/** The tfjs engine on a backend that reads back at once (cpu, wasm, tensorflow). */
export function createTfjsEngine(config: ModelConfig): HostGradientEngine {
  const engine = tfjsEngineOn(config, (t) => t.dataSync() as Float32Array, blockGradientOf);
  return engine as HostGradientEngine;
}

/**
 * The tfjs engine on a backend that reads back only asynchronously (tfjs's webgpu backend, where `dataSync`
 * throws): the same graph; each block's results are awaited (their reads start together, then the tensors are
 * released).
 */
export function createAsyncTfjsEngine(config: ModelConfig): GradientEngine {
  const engine = tfjsEngineOn(config, (t) => t.data() as Promise<Float32Array>, async (blk, p) =>
    blockGradientOf(blk, { grads: await Promise.all(p.grads), fData: await p.fData, fModel: await p.fModel, sq: await p.sq, precision: await p.precision }),
  );
  return {
    name: engine.name,
    blockGradients: async (params, blocks, key, k) => Promise.all(engine.blockGradients(params, blocks, key, k) as Promise<BlockGradient>[]),
    dispose: engine.dispose,
  };
}

/** float64 sum of a float32 array. */
function sumOf(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/** The tfjs engine in the registry: the reference path, on whichever tfjs backend is active; always available. */
export const TFJS_ENGINE: EngineEntry = {
  name: 'tfjs',
  title: 'the tfjs engine',
  tasks: ['train', 'sample'],
  priority: 0,
  probe: async () => ({ available: true, detail: 'the tfjs path' }),
};
registerEngine(TFJS_ENGINE);
