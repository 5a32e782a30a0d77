/** Test helpers around @nbm/model's float64 reference (src/reference.ts): spin enumeration, float64 parameters. */
import type { Parameters } from '../src/index.ts';

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
