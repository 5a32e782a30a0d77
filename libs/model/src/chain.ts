import { tf, type Tensor } from '@nbm/backend';
import { fillNormal, fillUniform } from '@nbm/random';
import type { ModelConfig } from './config.ts';
import { hiddenTimesWeights, visibleTimesWeights, type Conditionals } from './networks.ts';

/** Names the chain's draws: hidden and visible streams with counter (counter, example index, Gibbs step, ·). */
export interface ChainStreams {
  readonly seed: number;
  readonly counter: number;
  readonly hiddenStream: number;
  readonly visibleStream: number;
}

/**
 * The random numbers of a k-step chain for m examples, drawn from the keyed streams so that any engine and any
 * worker reproduces them. hidden: (k, m, nh) uniforms; visible: (k, m, ny) normals (Gaussian) or uniforms (Ising).
 */
export function chainRandoms(
  c: ModelConfig,
  index: Uint32Array,
  streams: ChainStreams,
  gibbsSteps: number,
): { hidden: Float32Array; visible: Float32Array } {
  const m = index.length;
  const hidden = new Float32Array(gibbsSteps * m * c.nh);
  const visible = new Float32Array(gibbsSteps * m * c.ny);
  const hk = { seed: streams.seed, stream: streams.hiddenStream };
  const vk = { seed: streams.seed, stream: streams.visibleStream };
  for (let t = 0; t < gibbsSteps; t++) {
    for (let b = 0; b < m; b++) {
      const g = index[b];
      fillUniform(hidden.subarray((t * m + b) * c.nh, (t * m + b + 1) * c.nh), hk, streams.counter, g, t);
      const v = visible.subarray((t * m + b) * c.ny, (t * m + b + 1) * c.ny);
      if (c.visible === 'gaussian') fillNormal(v, vk, streams.counter, g, t);
      else fillUniform(v, vk, streams.counter, g, t);
    }
  }
  return { hidden, visible };
}

/** h | y: h_j = +1 where u_j < sigmoid(2 (Wᵀ(y−μ))_j), else −1. u: (m, nh) */
export function sampleHidden(y: Tensor, k: Conditionals, u: Tensor): Tensor {
  const z = visibleTimesWeights(tf.sub(y, k.mu), k.weights);
  return tf.where(tf.less(u, tf.sigmoid(tf.mul(z, 2))), 1, -1);
}

/**
 * y | h. Gaussian (eq. 5): μ + W h / P + ε / √P with ε the given normals (omitted when denoising).
 * Ising (eq. 6): a = P μ + W h, y_i = +1 where u_i < sigmoid(2 a_i); denoised: tanh(sigmoid(2a)) as the
 * official implementation returns. noise: (m, ny)
 */
export function sampleVisible(c: ModelConfig, h: Tensor, k: Conditionals, noise: Tensor | null): Tensor {
  const field = hiddenTimesWeights(h, k.weights);
  if (c.visible === 'gaussian') {
    const mean = tf.add(k.mu, tf.div(field, k.precision));
    return noise ? tf.add(mean, tf.div(noise, tf.sqrt(k.precision))) : mean;
  }
  const p = tf.sigmoid(tf.mul(tf.add(tf.mul(k.precision, k.mu), field), 2));
  return noise ? tf.where(tf.less(noise, p), 1, -1) : tf.tanh(p);
}

/**
 * The k-step block-Gibbs chain started at y = μ(x) (docs/model.md#block-gibbs-sampling), returning the final y: (m, ny).
 * With `denoise`, the last visible draw is replaced by its noise-free value from the last h.
 */
export function runChain(
  c: ModelConfig,
  k: Conditionals,
  randoms: { hidden: Float32Array; visible: Float32Array },
  gibbsSteps: number,
  denoise = false,
): Tensor {
  const m = k.mu.shape[0];
  let y = tf.clone(k.mu);
  let h: Tensor | null = null;
  for (let t = 0; t < Math.max(1, gibbsSteps); t++) {
    const next = tf.tidy(() => {
      const u = tf.tensor2d(randoms.hidden.subarray(t * m * c.nh, (t + 1) * m * c.nh), [m, c.nh]);
      const hNew = sampleHidden(y, k, u);
      const noise = tf.tensor2d(randoms.visible.subarray(t * m * c.ny, (t + 1) * m * c.ny), [m, c.ny]);
      return { y: sampleVisible(c, hNew, k, noise), h: hNew };
    });
    y.dispose();
    h?.dispose();
    y = next.y;
    h = next.h;
  }
  if (denoise && h) {
    const clean = tf.tidy(() => sampleVisible(c, h!, k, null));
    y.dispose();
    y = clean;
  }
  h?.dispose();
  return y;
}
