import { parameterSpecs, sizeOf, validateModelConfig, type ExampleBlock, type ModelConfig, type Parameters } from '@nbm/model';

/** Checks that n is an integer in [lo, hi]; the message names the value. */
export function checkInt(name: string, n: number, lo: number, hi: number): void {
  if (!Number.isInteger(n) || n < lo || n > hi) throw new RangeError(`${name} must be an integer in [${lo}, ${hi}], got ${n}`);
}

/** A u32 counter or key word (seed, step, stream, index). */
export function checkU32(name: string, n: number): void {
  checkInt(name, n, 0, 0xffffffff);
}

/**
 * Checks parameters against the config: the 10 tensors of `parameterSpecs(config)`, same names, same sizes.
 * Returns the value arrays in spec order.
 */
export function checkParameters(config: ModelConfig, params: Parameters): Float32Array[] {
  validateModelConfig(config);
  const specs = parameterSpecs(config);
  if (params.values.length !== specs.length) {
    throw new RangeError(`parameters hold ${params.values.length} tensors, the model has ${specs.length}`);
  }
  specs.forEach((s, i) => {
    const given = params.specs[i];
    if (given && given.name !== s.name) throw new RangeError(`parameter ${i} is '${given.name}', expected '${s.name}'`);
    const v = params.values[i];
    if (!(v instanceof Float32Array)) throw new TypeError(`parameter '${s.name}' must be a Float32Array`);
    if (v.length !== sizeOf(s.shape)) {
      throw new RangeError(`parameter '${s.name}' has ${v.length} values, expected ${sizeOf(s.shape)} (shape ${s.shape.join('×')}) for this model config`);
    }
  });
  return params.values;
}

/** Checks contexts x: (m, nx) and the example indices (m,). */
export function checkContexts(config: ModelConfig, x: Float32Array, index: Uint32Array, what = 'x'): void {
  if (!(x instanceof Float32Array)) throw new TypeError(`${what} must be a Float32Array`);
  if (!(index instanceof Uint32Array)) throw new TypeError('index must be a Uint32Array');
  if (x.length !== index.length * config.nx) {
    throw new RangeError(`${what} has ${x.length} values, expected index.length × nx = ${index.length} × ${config.nx}`);
  }
}

/** Checks one block's arrays against its count. */
export function checkBlock(config: ModelConfig, b: ExampleBlock, i: number): void {
  const name = `block ${i}`;
  checkInt(`${name} count`, b.count, 0, 1 << 24);
  for (const [field, arr, per] of [
    ['x', b.x, config.nx],
    ['y', b.y, config.ny],
  ] as const) {
    if (!(arr instanceof Float32Array)) throw new TypeError(`${name}: ${field} must be a Float32Array`);
    if (arr.length !== b.count * per) throw new RangeError(`${name}: ${field} has ${arr.length} values, expected count × ${per} = ${b.count * per}`);
  }
  if (!(b.index instanceof Uint32Array)) throw new TypeError(`${name}: index must be a Uint32Array`);
  if (b.index.length !== b.count) throw new RangeError(`${name}: index has ${b.index.length} entries, expected count = ${b.count}`);
}
