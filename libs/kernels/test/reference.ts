/**
 * A straightforward float64 implementation of the NBM math (docs/model.md), written from the formulas with plain
 * loops, to check the native kernel against. It shares nothing with the kernel but the random streams of
 * @nbm/random. Arrays are row-major; parameters follow parameterSpecs' PyTorch layout (out, in).
 */
import { LOG_PRECISION_MAX, LOG_PRECISION_MIN, type ModelConfig, type Parameters } from '@nbm/model';
import { Stream, fillNormal, fillUniform } from '@nbm/random';

/** μ, P and W for one context, and the networks' intermediates. */
export interface Cond64 {
  /** hidden pre-activations and activations of the bias and precision nets: (width) */
  ab: Float64Array;
  rb: Float64Array;
  ap: Float64Array;
  rp: Float64Array;
  /** raw precision-net output before the clip: (ny) */
  op: Float64Array;
  mu: Float64Array;
  P: Float64Array;
  /** W(x) ÷ √ny: (ny, nh) */
  W: Float64Array;
}

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

export function cond64(c: ModelConfig, p: Parameters, x: ArrayLike<number>): Cond64 {
  const bias = mlp(c, p, 0, x);
  const prec = mlp(c, p, 4, x);
  const mu = c.visible === 'ising' ? bias.o.map(Math.tanh) : bias.o;
  const lo = Math.fround(LOG_PRECISION_MIN);
  const hi = Math.fround(LOG_PRECISION_MAX);
  const P = prec.o.map((v) => Math.exp(Math.min(Math.max(v, lo), hi)));
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
export function wtd(c: ModelConfig, W: Float64Array, d: ArrayLike<number>): Float64Array {
  const z = new Float64Array(c.nh);
  for (let i = 0; i < c.ny; i++) for (let j = 0; j < c.nh; j++) z[j] += W[i * c.nh + j] * d[i];
  return z;
}

/** W v: (ny) */
export function wv(c: ModelConfig, W: Float64Array, v: ArrayLike<number>): Float64Array {
  const f = new Float64Array(c.ny);
  for (let i = 0; i < c.ny; i++) {
    let s = 0;
    for (let j = 0; j < c.nh; j++) s += W[i * c.nh + j] * v[j];
    f[i] = s;
  }
  return f;
}

/** log cosh z, stable for large |z| (cosh is even) */
const logcosh = (z: number) => Math.abs(z) - Math.LN2 + Math.log1p(Math.exp(-2 * Math.abs(z)));
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** F(y|x) = ½ Σ P d² − Σ logcosh(Wᵀd) */
export function freeEnergy64(c: ModelConfig, k: Cond64, y: ArrayLike<number>): number {
  const d = Array.from({ length: c.ny }, (_, i) => y[i] - k.mu[i]);
  let self = 0;
  for (let i = 0; i < c.ny; i++) self += k.P[i] * d[i] * d[i];
  const z = wtd(c, k.W, d);
  let phi = 0;
  for (let j = 0; j < c.nh; j++) phi += logcosh(z[j]);
  return 0.5 * self - phi;
}

/** What one teacher-forced check of a traced chain found. */
export interface ChainCheck {
  /** draws whose decision the kernel made differently from the reference although |u − p| > margin */
  wrongDraws: number;
  /** draws within the margin of their threshold: not judged (either decision is within rounding) */
  ambiguousDraws: number;
  /** all Bernoulli draws checked */
  draws: number;
  /** max |y_kernel − y_ref| / (|y_ref| + 1) over Gaussian visible states */
  maxVisibleError: number;
}

/**
 * Checks a traced chain step by step, teacher-forced: each step starts from the kernel's previous state
 * (y⁰ = μ), so one near-tie decision cannot derail the comparison of later steps. For each step t it draws
 * the same uniforms/normals (counter (step, g, t, ·)) and recomputes the step in float64: every hidden draw
 * (and Ising visible draw) must agree with the kernel's where the uniform is farther than `margin` from the
 * probability; Gaussian visible states must agree to rounding.
 */
export function checkTracedChain(
  c: ModelConfig,
  k: Cond64,
  key: { seed: number; step: number; hiddenStream?: number; visibleStream?: number },
  g: number,
  steps: number,
  hTrace: Int8Array,
  yTrace: Float32Array,
  margin: number,
): ChainCheck {
  const hk = { seed: key.seed, stream: key.hiddenStream ?? Stream.hidden };
  const vk = { seed: key.seed, stream: key.visibleStream ?? Stream.visible };
  const out: ChainCheck = { wrongDraws: 0, ambiguousDraws: 0, draws: 0, maxVisibleError: 0 };
  const judge = (u: number, p: number, kernelSaysPlus: boolean) => {
    out.draws++;
    if (Math.abs(u - p) <= margin) out.ambiguousDraws++;
    else if (u < p !== kernelSaysPlus) out.wrongDraws++;
  };
  let y: ArrayLike<number> = k.mu;
  for (let t = 0; t < steps; t++) {
    const d = Array.from({ length: c.ny }, (_, i) => y[i] - k.mu[i]);
    const z = wtd(c, k.W, d);
    const u = new Float32Array(c.nh);
    fillUniform(u, hk, key.step, g, t);
    const h = hTrace.subarray(t * c.nh, (t + 1) * c.nh);
    for (let j = 0; j < c.nh; j++) judge(u[j], sigmoid(2 * z[j]), h[j] > 0);
    const field = wv(c, k.W, h);
    const yk = yTrace.subarray(t * c.ny, (t + 1) * c.ny);
    if (c.visible === 'gaussian') {
      const eps = new Float32Array(c.ny);
      fillNormal(eps, vk, key.step, g, t);
      for (let i = 0; i < c.ny; i++) {
        const ref = k.mu[i] + field[i] / k.P[i] + eps[i] / Math.sqrt(k.P[i]);
        out.maxVisibleError = Math.max(out.maxVisibleError, Math.abs(yk[i] - ref) / (Math.abs(ref) + 1));
      }
    } else {
      const uv = new Float32Array(c.ny);
      fillUniform(uv, vk, key.step, g, t);
      for (let i = 0; i < c.ny; i++) {
        if (yk[i] !== 1 && yk[i] !== -1) out.wrongDraws++;
        judge(uv[i], sigmoid(2 * (k.P[i] * k.mu[i] + field[i])), yk[i] > 0);
      }
    }
    y = yk;
  }
  return out;
}

/** Gradient of Σ_b F(y_b) − F(ỹ_b) and the statistics of a block, in float64, for given negative samples. */
export function blockGradient64(c: ModelConfig, p: Parameters, x: Float32Array, y: Float32Array, yModel: Float32Array, m: number) {
  const g = p.values.map((v) => new Float64Array(v.length));
  const stats = { freeEnergyData: 0, freeEnergyModel: 0, squaredErrorBias: 0, sumY: 0, sumY2: 0, sumV: 0, sumVY2: 0 };
  const norm = Math.sqrt(c.ny);
  const lo = Math.fround(LOG_PRECISION_MIN);
  const hi = Math.fround(LOG_PRECISION_MAX);
  for (let b = 0; b < m; b++) {
    const xb = x.subarray(b * c.nx, (b + 1) * c.nx);
    const yb = y.subarray(b * c.ny, (b + 1) * c.ny);
    const ym = yModel.subarray(b * c.ny, (b + 1) * c.ny);
    const k = cond64(c, p, xb);
    stats.freeEnergyData += freeEnergy64(c, k, yb);
    stats.freeEnergyModel += freeEnergy64(c, k, ym);
    const d = Array.from({ length: c.ny }, (_, i) => yb[i] - k.mu[i]);
    const dm = Array.from({ length: c.ny }, (_, i) => ym[i] - k.mu[i]);
    for (let i = 0; i < c.ny; i++) {
      const v = 1 / k.P[i];
      stats.squaredErrorBias += d[i] * d[i];
      stats.sumY += yb[i];
      stats.sumY2 += yb[i] * yb[i];
      stats.sumV += v;
      stats.sumVY2 += v * yb[i] * yb[i];
    }
    const t = wtd(c, k.W, d).map(Math.tanh);
    const tm = wtd(c, k.W, dm).map(Math.tanh);
    const wt = wv(c, k.W, t.map((v, j) => v - tm[j]));
    // ∂L/∂μ, ∂L/∂s, ∂L/∂W (docs/model.md)
    const gmu = new Float64Array(c.ny);
    const gs = new Float64Array(c.ny);
    for (let i = 0; i < c.ny; i++) {
      gmu[i] = -k.P[i] * (d[i] - dm[i]) + wt[i];
      if (c.visible === 'ising') gmu[i] *= 1 - k.mu[i] * k.mu[i];
      gs[i] = k.op[i] >= lo && k.op[i] <= hi ? 0.5 * k.P[i] * (d[i] * d[i] - dm[i] * dm[i]) : 0;
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
