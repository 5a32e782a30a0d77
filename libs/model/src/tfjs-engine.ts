import { registerEngine, type EngineEntry } from './registry.ts';
import { tf, type Tensor } from '@nbm/backend';
import { Stream } from '@nbm/random';
import { validateModelConfig, type ModelConfig } from './config.ts';
import type { BlockGradient, BlockStats, ChainKey, ExampleBlock, HostGradientEngine } from './engine.ts';
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

/**
 * The reference implementation of the NBM's CD-k gradient, written once against the tfjs API so that it runs
 * on every backend (tensorflow on GPUs, wasm, cpu). The chain's draws come from the keyed Philox streams.
 */
export function createTfjsEngine(config: ModelConfig): HostGradientEngine {
  validateModelConfig(config);
  const c = config;

  function block(params: Parameters, pt: ParameterTensors, blk: ExampleBlock, key: ChainKey, k: number): BlockGradient {
    const m = blk.count;
    const randoms = chainRandoms(c, blk.index, trainingStreams(key), k);
    const names = params.specs.map((s) => s.name);
    let result: BlockGradient | undefined;
    tf.tidy(() => {
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
      const grads = tf.grads(loss)(names.map((n) => pt[n])).map((g) => (g.dataSync() as Float32Array).slice());
      const d = tf.sub(y, cond.mu);
      const stats: BlockStats = {
        freeEnergyData: sumOf(freeEnergy(y, cond).dataSync() as Float32Array),
        freeEnergyModel: sumOf(freeEnergy(yModel, cond).dataSync() as Float32Array),
        squaredErrorBias: sumOf(tf.mul(d, d).dataSync() as Float32Array),
        ...momentSums(blk.y, cond.precision.dataSync() as Float32Array),
        finite: true,
      };
      stats.finite = Number.isFinite(stats.freeEnergyData) && Number.isFinite(stats.freeEnergyModel) && allFinite(grads);
      yModel.dispose();
      result = { grads, stats };
    });
    return result!;
  }

  return {
    name: `tfjs-${tf.getBackend()}`,
    blockGradients(params, blocks, key, gibbsSteps) {
      if (!Number.isInteger(gibbsSteps) || gibbsSteps < 1) throw new RangeError(`gibbsSteps must be a positive integer, got ${gibbsSteps}`);
      const pt = parameterTensors(params);
      try {
        return blocks.map((b) => block(params, pt, b, key, gibbsSteps));
      } finally {
        tf.dispose(Object.values(pt));
      }
    },
    dispose() {},
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
