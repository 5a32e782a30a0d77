import { LOG_PRECISION_MAX, LOG_PRECISION_MIN, type ModelConfig, type Parameters } from '@nbm/model';

/**
 * The NBM at one context x, in float64: everything log Z(x), F(y|x) and the diagnostics need.
 * Shapes: mu, precision: (ny); weights: (ny, nh) row-major (`weights[i·nh + j]` = W_ij), already ÷ √ny.
 */
export interface Conditional {
  readonly ny: number;
  readonly nh: number;
  /** μ(x): (ny) */
  readonly mu: Float64Array;
  /** P(x) > 0: (ny) */
  readonly precision: Float64Array;
  /** W(x) ÷ √ny: (ny, nh) row-major */
  readonly weights: Float64Array;
}

/**
 * A Conditional from plain arrays (tests and callers that build models by hand), checked for consistent sizes and
 * positive, finite precisions.
 * @param mu (ny) @param precision (ny) @param weights (ny, nh) row-major
 */
export function makeConditional(mu: ArrayLike<number>, precision: ArrayLike<number>, weights: ArrayLike<number>, nh: number): Conditional {
  const ny = mu.length;
  if (!Number.isInteger(nh) || nh < 1) throw new RangeError(`nh must be a positive integer, got ${nh}`);
  if (precision.length !== ny) throw new RangeError(`precision has length ${precision.length}, expected ny = ${ny}`);
  if (weights.length !== ny * nh) throw new RangeError(`weights has length ${weights.length}, expected ny × nh = ${ny} × ${nh}`);
  for (let i = 0; i < ny; i++) {
    if (!(precision[i] > 0) || !Number.isFinite(precision[i])) throw new RangeError(`precision[${i}] = ${precision[i]} is not a positive finite number`);
  }
  return { ny, nh, mu: Float64Array.from(mu), precision: Float64Array.from(precision), weights: Float64Array.from(weights) };
}

function parameter(p: Parameters, name: string): Float32Array {
  const i = p.specs.findIndex((s) => s.name === name);
  if (i < 0) throw new Error(`the model has no parameter ${name}`);
  return p.values[i];
}

/** out = weight · x + bias in float64, PyTorch's nn.Linear. weight: (out, in), bias: (out), x: (in) */
function linear(weight: Float32Array, bias: Float32Array, x: Float64Array): Float64Array {
  const n = bias.length;
  const m = x.length;
  const y = new Float64Array(n);
  for (let o = 0; o < n; o++) {
    let s = bias[o];
    const row = o * m;
    for (let i = 0; i < m; i++) s += weight[row + i] * x[i];
    y[o] = s;
  }
  return y;
}

/** Linear → ReLU → Linear, the bias and precision networks. x: (nx) → (ny) */
function mlp(p: Parameters, prefix: string, x: Float64Array): Float64Array {
  const hidden = linear(parameter(p, `${prefix}.net.0.weight`), parameter(p, `${prefix}.net.0.bias`), x);
  for (let i = 0; i < hidden.length; i++) if (hidden[i] < 0) hidden[i] = 0;
  return linear(parameter(p, `${prefix}.net.2.weight`), parameter(p, `${prefix}.net.2.bias`), hidden);
}

/**
 * μ(x), P(x), W(x) of docs/model.md#networks evaluated in float64 from the (float32) parameters: the bias network (Tanh at the end
 * for Ising units), the precision network (log P clipped to [ln 1e-3, ln 1e3], then exp) and the weights network
 * (reshaped to (ny, nh) row-major, ÷ √ny). Agrees with @nbm/model's tfjs `conditionals` to float32 rounding; float64
 * keeps log Z's sums over 2^nh states free of float32 error.
 * @param x (nx) one context
 */
export function conditionalAt(c: ModelConfig, p: Parameters, x: ArrayLike<number>): Conditional {
  if (x.length !== c.nx) throw new RangeError(`context has length ${x.length}, the model takes nx = ${c.nx}`);
  const x64 = Float64Array.from(x);
  const mu = mlp(p, 'bias_net', x64);
  if (c.visible === 'ising') for (let i = 0; i < mu.length; i++) mu[i] = Math.tanh(mu[i]);
  const precision = mlp(p, 'precision_net', x64);
  for (let i = 0; i < precision.length; i++) precision[i] = Math.exp(Math.min(LOG_PRECISION_MAX, Math.max(LOG_PRECISION_MIN, precision[i])));
  const weights = linear(parameter(p, 'weights_net.net.0.weight'), parameter(p, 'weights_net.net.0.bias'), x64);
  const scale = 1 / Math.sqrt(c.ny);
  for (let i = 0; i < weights.length; i++) weights[i] *= scale;
  return { ny: c.ny, nh: c.nh, mu, precision, weights };
}

/** J = Wᵀ diag(1/P) W: (nh, nh) row-major, symmetric positive semi-definite. */
export function couplings(k: Conditional): Float64Array {
  const { ny, nh, weights: W, precision: P } = k;
  const J = new Float64Array(nh * nh);
  for (let i = 0; i < ny; i++) {
    const inv = 1 / P[i];
    const row = i * nh;
    for (let a = 0; a < nh; a++) {
      const wa = W[row + a] * inv;
      if (wa === 0) continue;
      for (let b = a; b < nh; b++) J[a * nh + b] += wa * W[row + b];
    }
  }
  for (let a = 0; a < nh; a++) for (let b = 0; b < a; b++) J[a * nh + b] = J[b * nh + a];
  return J;
}
