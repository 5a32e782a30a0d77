/**
 * The teacher-forced check of a traced native chain against @nbm/model's float64 reference (reference.ts there):
 * the same keyed draws of @nbm/random, each step recomputed in float64.
 */
import { wtd64, wv64, type Conditional64, type ModelConfig } from '@nbm/model';
import { Stream, fillNormal, fillUniform } from '@nbm/random';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

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
  k: Conditional64,
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
    const z = wtd64(c, k.W, d);
    const u = new Float32Array(c.nh);
    fillUniform(u, hk, key.step, g, t);
    const h = hTrace.subarray(t * c.nh, (t + 1) * c.nh);
    for (let j = 0; j < c.nh; j++) judge(u[j], sigmoid(2 * z[j]), h[j] > 0);
    const field = wv64(c, k.W, h);
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
