import type { AdamWConfig, AdamWState, Parameters } from '@nbm/model';

/**
 * The scalars of AdamW step t, exactly as `@nbm/model`'s adamwStep computes them (in double, rounded once
 * to float32): [1−β1, 1−β2, β2, ε, lr/(1−β1^t), √(1−β2^t), 1 − lr·decay]. The last is per parameter group:
 * the caller sets it.
 */
export function adamwScalars(cfg: AdamWConfig, t: number): Float32Array {
  const beta1 = cfg.beta1 ?? 0.9;
  const beta2 = cfg.beta2 ?? 0.999;
  const eps = cfg.eps ?? 1e-8;
  const f = Math.fround;
  return new Float32Array([f(1 - beta1), f(1 - beta2), f(beta2), f(eps), f(cfg.lr / (1 - beta1 ** t)), f(Math.sqrt(1 - beta2 ** t)), 0]);
}

/** Every gradient and moment has its parameter's length (checked before anything is updated). */
export function checkAdamwShapes(params: Parameters, grads: readonly Float32Array[], state: AdamWState): void {
  if (grads.length !== params.values.length) throw new RangeError(`${grads.length} gradients for ${params.values.length} parameters`);
  params.specs.forEach((spec, i) => {
    const n = params.values[i].length;
    for (const [what, a] of [
      ['gradient', grads[i]],
      ['first moment', state.m[i]],
      ['second moment', state.v[i]],
    ] as const) {
      if (!(a instanceof Float32Array) || a.length !== n) throw new RangeError(`${what} of ${spec.name} has ${a?.length} values, expected ${n}`);
    }
  });
}
