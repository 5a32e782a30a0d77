import { tf } from '@nbm/backend';
import type { ModelConfig } from './config.ts';
import { chainRandoms, runChain, type ChainStreams } from './chain.ts';
import { conditionals } from './networks.ts';
import type { Parameters } from './parameters.ts';
import { parameterTensors } from './tfjs-engine.ts';

/**
 * Samples y ~ p(y|x) with a k-step chain from y = μ(x) (the official `sample`), one chain per row.
 * x: (m, nx); index: (m,) keys each chain's draws. Returns (m, ny). With `denoise`, Gaussian rows are
 * μ + W h / P (no noise) and Ising rows tanh(sigmoid(2a)), as the official pictures show.
 */
export function sampleModel(
  c: ModelConfig,
  params: Parameters,
  x: Float32Array,
  index: Uint32Array,
  streams: ChainStreams,
  gibbsSteps: number,
  denoise: boolean,
): Float32Array {
  const m = index.length;
  const pt = parameterTensors(params);
  try {
    const randoms = chainRandoms(c, index, streams, gibbsSteps);
    return tf.tidy(() => {
      const k = conditionals(c, pt, tf.tensor2d(x, [m, c.nx]));
      return runChain(c, k, randoms, gibbsSteps, denoise).dataSync() as Float32Array;
    }).slice();
  } finally {
    tf.dispose(Object.values(pt));
  }
}

/** μ(x), P(x) and W(x) as arrays: mu, precision (m, ny); weights (m, ny, nh), already ÷ √ny. */
export function conditionalArrays(c: ModelConfig, params: Parameters, x: Float32Array): { mu: Float32Array; precision: Float32Array; weights: Float32Array } {
  const m = x.length / c.nx;
  const pt = parameterTensors(params);
  try {
    return tf.tidy(() => {
      const k = conditionals(c, pt, tf.tensor2d(x, [m, c.nx]));
      return { mu: (k.mu.dataSync() as Float32Array).slice(), precision: (k.precision.dataSync() as Float32Array).slice(), weights: (k.weights.dataSync() as Float32Array).slice() };
    });
  } finally {
    tf.dispose(Object.values(pt));
  }
}
