import { tf, type Tensor } from '@nbm/backend';
import { LOG_PRECISION_MAX, LOG_PRECISION_MIN, type ModelConfig } from './config.ts';

/** The model's parameters as tensors, keyed by state_dict name. */
export type ParameterTensors = Readonly<Record<string, Tensor>>;

/** μ, P and W for a batch of contexts. */
export interface Conditionals {
  /** bias μ(x): (m, ny) */
  readonly mu: Tensor;
  /** log-precision after clipping: (m, ny) */
  readonly logPrecision: Tensor;
  /** precision P(x) = exp(logPrecision): (m, ny) */
  readonly precision: Tensor;
  /** weights W(x) ÷ √ny: (m, ny, nh) */
  readonly weights: Tensor;
}

/** y = x·Wᵀ + b, PyTorch's nn.Linear with weight (out, in). x: (m, in) → (m, out) */
function linear(x: Tensor, weight: Tensor, bias: Tensor): Tensor {
  return tf.add(tf.matMul(x, weight, false, true), bias);
}

function mlp(x: Tensor, p: ParameterTensors, prefix: string): Tensor {
  const hidden = tf.relu(linear(x, p[`${prefix}.net.0.weight`], p[`${prefix}.net.0.bias`]));
  return linear(hidden, p[`${prefix}.net.2.weight`], p[`${prefix}.net.2.bias`]);
}

/**
 * The three networks of docs/model.md#networks: bias net (Tanh at the end for Ising units), precision net (log P clipped to
 * [ln 1e-3, ln 1e3], then exp), weights net (reshaped to (ny, nh) row-major and divided by √ny).
 * x: (m, nx)
 */
export function conditionals(c: ModelConfig, p: ParameterTensors, x: Tensor): Conditionals {
  const rawMu = mlp(x, p, 'bias_net');
  const mu = c.visible === 'ising' ? tf.tanh(rawMu) : rawMu;
  const logPrecision = tf.clipByValue(mlp(x, p, 'precision_net'), LOG_PRECISION_MIN, LOG_PRECISION_MAX);
  const precision = tf.exp(logPrecision);
  const flat = linear(x, p['weights_net.net.0.weight'], p['weights_net.net.0.bias']);
  const weights = tf.div(tf.reshape(flat, [-1, c.ny, c.nh]), Math.sqrt(c.ny));
  return { mu, logPrecision, precision, weights };
}

/** logcosh(z) = z − ln 2 + softplus(−2z), stable for large |z| (as the official code writes it). */
export function logCosh(z: Tensor): Tensor {
  return tf.add(tf.sub(z, Math.LN2), tf.softplus(tf.mul(z, -2)));
}

/** Wᵀd per example. d: (m, ny), W: (m, ny, nh) → (m, nh) */
export function visibleTimesWeights(d: Tensor, weights: Tensor): Tensor {
  const m = d.shape[0];
  return tf.reshape(tf.matMul(tf.expandDims(d, 1), weights), [m, weights.shape[2]!]);
}

/** W h per example. h: (m, nh), W: (m, ny, nh) → (m, ny) */
export function hiddenTimesWeights(h: Tensor, weights: Tensor): Tensor {
  const m = h.shape[0];
  return tf.reshape(tf.matMul(weights, tf.expandDims(h, 2)), [m, weights.shape[1]!]);
}

/**
 * Free energy (eq. 3, without the constant nh·ln 2): F(y|x) = ½ Σ_i P_i d_i² − Σ_j logcosh((Wᵀd)_j), d = y − μ.
 * y: (m, ny) → (m,)
 */
export function freeEnergy(y: Tensor, k: Conditionals): Tensor {
  const d = tf.sub(y, k.mu);
  const self = tf.mul(0.5, tf.sum(tf.mul(tf.mul(d, d), k.precision), -1));
  const phi = tf.sum(logCosh(visibleTimesWeights(d, k.weights)), -1);
  return tf.sub(self, phi);
}
