/**
 * A float64, loop-by-loop reference of the NBM's networks and free energy (docs/model.md#networks), used to check the tfjs
 * implementation: brute force over h, finite differences, exact marginals.
 */
import { LOG_PRECISION_MAX, LOG_PRECISION_MIN, type ModelConfig, type Parameters } from '../src/index.ts';

export interface Cond64 {
  mu: number[];
  logP: number[];
  P: number[];
  /** W[i][j], already ÷ √ny */
  W: number[][];
}

function param(p: Parameters, name: string): Float32Array | Float64Array {
  const i = p.specs.findIndex((s) => s.name === name);
  if (i < 0) throw new Error(`no parameter ${name}`);
  return p.values[i];
}

/** weight (out, in) · x + bias */
function linear(w: ArrayLike<number>, b: ArrayLike<number>, x: number[], out: number): number[] {
  const inn = x.length;
  const y: number[] = [];
  for (let o = 0; o < out; o++) {
    let s = b[o];
    for (let i = 0; i < inn; i++) s += w[o * inn + i] * x[i];
    y.push(s);
  }
  return y;
}

function mlp(p: Parameters, prefix: string, x: number[], width: number, out: number): number[] {
  const h = linear(param(p, `${prefix}.net.0.weight`), param(p, `${prefix}.net.0.bias`), x, width).map((v) => Math.max(0, v));
  return linear(param(p, `${prefix}.net.2.weight`), param(p, `${prefix}.net.2.bias`), h, out);
}

export function cond64(c: ModelConfig, p: Parameters, x: number[]): Cond64 {
  let mu = mlp(p, 'bias_net', x, c.width, c.ny);
  if (c.visible === 'ising') mu = mu.map(Math.tanh);
  const logP = mlp(p, 'precision_net', x, c.width, c.ny).map((v) => Math.min(LOG_PRECISION_MAX, Math.max(LOG_PRECISION_MIN, v)));
  const flat = linear(param(p, 'weights_net.net.0.weight'), param(p, 'weights_net.net.0.bias'), x, c.ny * c.nh);
  const s = Math.sqrt(c.ny);
  const W = Array.from({ length: c.ny }, (_, i) => Array.from({ length: c.nh }, (_, j) => flat[i * c.nh + j] / s));
  return { mu, logP, P: logP.map(Math.exp), W };
}

export const logCosh64 = (z: number) => Math.abs(z) + Math.log1p(Math.exp(-2 * Math.abs(z))) - Math.LN2;

/** F(y|x) in float64 */
export function freeEnergy64(k: Cond64, y: number[]): number {
  const ny = y.length;
  const nh = k.W[0].length;
  const d = y.map((v, i) => v - k.mu[i]);
  let self = 0;
  for (let i = 0; i < ny; i++) self += 0.5 * k.P[i] * d[i] * d[i];
  let phi = 0;
  for (let j = 0; j < nh; j++) {
    let z = 0;
    for (let i = 0; i < ny; i++) z += k.W[i][j] * d[i];
    phi += logCosh64(z);
  }
  return self - phi;
}

/** The joint energy U(y, h|x) (eq. 2) in float64 */
export function energy64(k: Cond64, y: number[], h: number[]): number {
  let e = 0;
  for (let i = 0; i < y.length; i++) {
    const d = y[i] - k.mu[i];
    e += 0.5 * k.P[i] * d * d;
    for (let j = 0; j < h.length; j++) e -= d * k.W[i][j] * h[j];
  }
  return e;
}

/** All ±1 vectors of length n */
export function spins(n: number): number[][] {
  const out: number[][] = [];
  for (let s = 0; s < 1 << n; s++) out.push(Array.from({ length: n }, (_, j) => ((s >> j) & 1 ? 1 : -1)));
  return out;
}

/** Parameters converted to float64 copies (for finite differences without float32 rounding). */
export function toFloat64(p: Parameters): Parameters {
  return { specs: p.specs, values: p.values.map((v) => Float64Array.from(v)) as unknown as Float32Array[] };
}
