/** Random small NBM conditionals for the statistical tests, built from keyed draws (so every test is repeatable). */
import { fillNormal, fillUniform } from '@nbm/random';
import { makeConditional, type Conditional } from '../src/conditional.ts';
import { maxCouplingEigenvalue } from '../src/eigen.ts';

/** A stream id no library uses, so test draws never coincide with real ones. */
const TEST_STREAM = 0x7e57;

export interface RandomModelOptions {
  readonly ny: number;
  readonly nh: number;
  readonly visible: 'gaussian' | 'ising';
  /** W is rescaled so that the largest eigenvalue of J = Wᵀ P⁻¹ W is this (0: W = 0) */
  readonly coupling: number;
  /** log P ~ U(−spread, spread) (default 1) */
  readonly logPrecisionSpread?: number;
}

/**
 * μ ~ 0.5·N(0,1) (Gaussian) or tanh(N(0,1)) (Ising), ln P ~ U(−s, s), W ~ N(0,1) rescaled to the requested
 * coupling. Trained MNIST models reach λ_max(J) ≈ 1.4–1.7 (docs/model.md#log-likelihood).
 */
export function randomConditional(seed: number, o: RandomModelOptions): Conditional {
  const { ny, nh } = o;
  const key = { seed, stream: TEST_STREAM };
  const normals = new Float32Array(ny + ny * nh);
  fillNormal(normals, key, 0, 0, 0);
  const uniforms = new Float32Array(ny);
  fillUniform(uniforms, key, 1, 0, 0);
  const s = o.logPrecisionSpread ?? 1;
  const mu = Array.from({ length: ny }, (_, i) => (o.visible === 'ising' ? Math.tanh(normals[i]) : 0.5 * normals[i]));
  const P = Array.from(uniforms, (u) => Math.exp(s * (2 * u - 1)));
  const W = Array.from(normals.subarray(ny));
  if (o.coupling === 0) return makeConditional(mu, P, new Float64Array(ny * nh), nh);
  const scale = Math.sqrt(o.coupling / maxCouplingEigenvalue(makeConditional(mu, P, W, nh)));
  return makeConditional(mu, P, W.map((w) => w * scale), nh);
}
