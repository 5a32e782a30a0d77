/**
 * The NBM's math in float64, loop by loop, from the formulas of docs/model.md: the one reference. Evaluation
 * computes log Z(x) and F(y|x) with it (float64 keeps sums over 2^nh states free of float32 error), and every
 * engine's tests (tfjs, native, WebGPU) check against it. It shares nothing with the engines but the parameter
 * layout. Arrays are row-major; parameters follow parameterSpecs' PyTorch layout (out, in), and may hold float64
 * values (finite differences).
 */
import { LOG_PRECISION_MAX, LOG_PRECISION_MIN, type ModelConfig } from './config.ts';
import type { Parameters } from './parameters.ts';

/** μ, P and W(x) at one context, with the networks' intermediates (what the backward pass needs). */
export interface Conditional64 {
  /** hidden pre-activations (a) and activations (r = relu a) of the bias and precision networks: (width) */
  readonly ab: Float64Array;
  readonly rb: Float64Array;
  readonly ap: Float64Array;
  readonly rp: Float64Array;
  /** the precision network's output s = log P before the clip: (ny) */
  readonly op: Float64Array;
  /** μ(x): (ny) */
  readonly mu: Float64Array;
  /** P(x) = exp(clip(s)): (ny) */
  readonly P: Float64Array;
  /** W(x) ÷ √ny: (ny, nh) row-major */
  readonly W: Float64Array;
}

/**
 * The clip bounds as the engines apply them: ln 1e-3 and ln 1e3 rounded to float32 (tfjs clips float32 tensors,
 * the kernels compare float32 values), so that the reference clips where they do.
 */
const CLIP_LO = Math.fround(LOG_PRECISION_MIN);
const CLIP_HI = Math.fround(LOG_PRECISION_MAX);

function mlp(c: ModelConfig, p: Parameters, first: number, x: ArrayLike<number>) {
  const [W1, b1, W2, b2] = p.values.slice(first, first + 4);
  const a = new Float64Array(c.width);
  const r = new Float64Array(c.width);
  for (let k = 0; k < c.width; k++) {
    let s = b1[k];
    for (let j = 0; j < c.nx; j++) s += W1[k * c.nx + j] * x[j];
    a[k] = s;
    r[k] = Math.max(s, 0);
  }
  const o = new Float64Array(c.ny);
  for (let i = 0; i < c.ny; i++) {
    let s = b2[i];
    for (let k = 0; k < c.width; k++) s += W2[i * c.width + k] * r[k];
    o[i] = s;
  }
  return { a, r, o };
}

/** The three networks at context x (nx): bias (Tanh at the end for Ising units), precision (clipped log), weights. */
export function conditional64(c: ModelConfig, p: Parameters, x: ArrayLike<number>): Conditional64 {
  if (x.length !== c.nx) throw new RangeError(`context has length ${x.length}, the model takes nx = ${c.nx}`);
  const bias = mlp(c, p, 0, x);
  const prec = mlp(c, p, 4, x);
  const mu = c.visible === 'ising' ? bias.o.map(Math.tanh) : bias.o;
  const P = prec.o.map((v) => Math.exp(Math.min(Math.max(v, CLIP_LO), CLIP_HI)));
  const [Ww, bw] = [p.values[8], p.values[9]];
  const W = new Float64Array(c.ny * c.nh);
  const norm = Math.sqrt(c.ny);
  for (let o = 0; o < c.ny * c.nh; o++) {
    let s = bw[o];
    for (let j = 0; j < c.nx; j++) s += Ww[o * c.nx + j] * x[j];
    W[o] = s / norm;
  }
  return { ab: bias.a, rb: bias.r, ap: prec.a, rp: prec.r, op: prec.o, mu, P, W };
}

/** z = Wᵀd: (nh) */
export function wtd64(c: ModelConfig, W: Float64Array, d: ArrayLike<number>): Float64Array {
  const z = new Float64Array(c.nh);
  for (let i = 0; i < c.ny; i++) for (let j = 0; j < c.nh; j++) z[j] += W[i * c.nh + j] * d[i];
  return z;
}

/** W v: (ny) */
export function wv64(c: ModelConfig, W: Float64Array, v: ArrayLike<number>): Float64Array {
  const f = new Float64Array(c.ny);
  for (let i = 0; i < c.ny; i++) {
    let s = 0;
    for (let j = 0; j < c.nh; j++) s += W[i * c.nh + j] * v[j];
    f[i] = s;
  }
  return f;
}

/** log cosh z, stable for large |z| (cosh is even) */
export const logCosh64 = (z: number) => Math.abs(z) - Math.LN2 + Math.log1p(Math.exp(-2 * Math.abs(z)));

/** F(y|x) = ½ Σ P d² − Σ logcosh(Wᵀd), d = y − μ (eq. 3, without the constant nh·ln 2) */
export function freeEnergy64(c: ModelConfig, k: Conditional64, y: ArrayLike<number>): number {
  const d = Array.from({ length: c.ny }, (_, i) => y[i] - k.mu[i]);
  let self = 0;
  for (let i = 0; i < c.ny; i++) self += k.P[i] * d[i] * d[i];
  const z = wtd64(c, k.W, d);
  let phi = 0;
  for (let j = 0; j < c.nh; j++) phi += logCosh64(z[j]);
  return 0.5 * self - phi;
}

/** The joint energy U(y, h|x) = ½ (y−μ)ᵀ P (y−μ) − (y−μ)ᵀ W h (eq. 2) */
export function energy64(c: ModelConfig, k: Conditional64, y: ArrayLike<number>, h: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < c.ny; i++) {
    const d = y[i] - k.mu[i];
    e += 0.5 * k.P[i] * d * d;
    for (let j = 0; j < c.nh; j++) e -= d * k.W[i * c.nh + j] * h[j];
  }
  return e;
}

/**
 * The gradient of Σ_b F(y_b) − F(ỹ_b) over m examples, for given negative samples ỹ, and the block statistics
 * the engines report. x (m, nx), y and yModel (m, ny). Returns one float64 array per parameter tensor.
 */
export function blockGradient64(c: ModelConfig, p: Parameters, x: ArrayLike<number>, y: ArrayLike<number>, yModel: ArrayLike<number>, m: number) {
  const g = p.values.map((v) => new Float64Array(v.length));
  const stats = { freeEnergyData: 0, freeEnergyModel: 0, squaredErrorBias: 0, sumY: 0, sumY2: 0, sumV: 0, sumVY2: 0 };
  const norm = Math.sqrt(c.ny);
  const row = (a: ArrayLike<number>, b: number, n: number) => Array.from({ length: n }, (_, i) => a[b * n + i]);
  for (let b = 0; b < m; b++) {
    const xb = row(x, b, c.nx);
    const yb = row(y, b, c.ny);
    const ym = row(yModel, b, c.ny);
    const k = conditional64(c, p, xb);
    stats.freeEnergyData += freeEnergy64(c, k, yb);
    stats.freeEnergyModel += freeEnergy64(c, k, ym);
    const d = yb.map((v, i) => v - k.mu[i]);
    const dm = ym.map((v, i) => v - k.mu[i]);
    for (let i = 0; i < c.ny; i++) {
      const v = 1 / k.P[i];
      stats.squaredErrorBias += d[i] * d[i];
      stats.sumY += yb[i];
      stats.sumY2 += yb[i] * yb[i];
      stats.sumV += v;
      stats.sumVY2 += v * yb[i] * yb[i];
    }
    const t = wtd64(c, k.W, d).map(Math.tanh);
    const tm = wtd64(c, k.W, dm).map(Math.tanh);
    const wt = wv64(c, k.W, t.map((v, j) => v - tm[j]));
    // ∂L/∂μ, ∂L/∂s (s = log P before the clip), ∂L/∂W (docs/model.md)
    const gmu = new Float64Array(c.ny);
    const gs = new Float64Array(c.ny);
    for (let i = 0; i < c.ny; i++) {
      gmu[i] = -k.P[i] * (d[i] - dm[i]) + wt[i];
      if (c.visible === 'ising') gmu[i] *= 1 - k.mu[i] * k.mu[i];
      gs[i] = k.op[i] >= CLIP_LO && k.op[i] <= CLIP_HI ? 0.5 * k.P[i] * (d[i] * d[i] - dm[i] * dm[i]) : 0;
    }
    for (let i = 0; i < c.ny; i++) {
      for (let j = 0; j < c.nh; j++) {
        const gw = (-d[i] * t[j] + dm[i] * tm[j]) / norm;
        const o = i * c.nh + j;
        g[9][o] += gw;
        for (let q = 0; q < c.nx; q++) g[8][o * c.nx + q] += gw * xb[q];
      }
    }
    // the two MLPs: output layer, then the hidden layer through the relu
    for (const [first, go, r, a] of [
      [0, gmu, k.rb, k.ab],
      [4, gs, k.rp, k.ap],
    ] as const) {
      const W2 = p.values[first + 2];
      const ga = new Float64Array(c.width);
      for (let i = 0; i < c.ny; i++) {
        g[first + 3][i] += go[i];
        for (let q = 0; q < c.width; q++) {
          g[first + 2][i * c.width + q] += go[i] * r[q];
          ga[q] += W2[i * c.width + q] * go[i];
        }
      }
      for (let q = 0; q < c.width; q++) {
        if (a[q] <= 0) continue;
        g[first + 1][q] += ga[q];
        for (let j = 0; j < c.nx; j++) g[first][q * c.nx + j] += ga[q] * xb[j];
      }
    }
  }
  return { grads: g, stats };
}
