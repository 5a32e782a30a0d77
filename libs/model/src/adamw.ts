import type { ParameterGroup, Parameters } from './parameters.ts';

/** AdamW settings: one learning rate, one decoupled weight decay per network (docs/model.md#adamw). */
export interface AdamWConfig {
  readonly lr: number;
  readonly decay: Readonly<Record<ParameterGroup, number>>;
  /** PyTorch defaults: 0.9, 0.999, 1e-8 */
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
}

/** The optimiser's state: step count and first and second moments, one array per parameter. */
export interface AdamWState {
  step: number;
  readonly m: Float32Array[];
  readonly v: Float32Array[];
}

export function initAdamW(params: Parameters): AdamWState {
  return { step: 0, m: params.values.map((p) => new Float32Array(p.length)), v: params.values.map((p) => new Float32Array(p.length)) };
}

const f = Math.fround;

/**
 * One AdamW step in place, in the order and float32 rounding of PyTorch's single-tensor AdamW:
 * p ← p·(1 − lr·wd); m ← m + (1−β1)(g − m); v ← β2 v + (1−β2) g²;
 * p ← p − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + ε).
 * Pure JavaScript on flat arrays: deterministic on every backend and every worker.
 * grads: the mean gradient, one array per parameter in `params` order.
 */
export function adamwStep(params: Parameters, grads: readonly Float32Array[], state: AdamWState, cfg: AdamWConfig): void {
  const beta1 = cfg.beta1 ?? 0.9;
  const beta2 = cfg.beta2 ?? 0.999;
  const eps = cfg.eps ?? 1e-8;
  state.step += 1;
  const t = state.step;
  const stepSize = f(cfg.lr / (1 - beta1 ** t));
  const bc2Sqrt = f(Math.sqrt(1 - beta2 ** t));
  const oneMinusBeta1 = f(1 - beta1);
  const oneMinusBeta2 = f(1 - beta2);
  const b2 = f(beta2);
  const e = f(eps);
  params.specs.forEach((spec, i) => {
    const p = params.values[i];
    const g = grads[i];
    const m = state.m[i];
    const v = state.v[i];
    if (g.length !== p.length) throw new RangeError(`gradient of ${spec.name} has ${g.length} values, expected ${p.length}`);
    const shrink = f(1 - cfg.lr * cfg.decay[spec.group]);
    for (let j = 0; j < p.length; j++) {
      const gj = g[j];
      const mj = f(m[j] + f(oneMinusBeta1 * f(gj - m[j])));
      const vj = f(f(v[j] * b2) + f(oneMinusBeta2 * f(gj * gj)));
      m[j] = mj;
      v[j] = vj;
      const denom = f(f(Math.sqrt(vj) / bc2Sqrt) + e);
      p[j] = f(f(p[j] * shrink) - f(stepSize * f(mj / denom)));
    }
  });
}
