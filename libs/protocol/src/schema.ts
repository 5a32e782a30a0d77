/**
 * A small, dependency-free schema validator for decoded MessagePack values.
 *
 * A {@link Field} checks one value and reports the first problem as a sentence naming the path
 * (`peers[2]: expected a string, got number`). Builders compose into object shapes, and
 * {@link InferShape} turns a shape into the TypeScript type of the values it accepts, so each message
 * type is declared once and its static type follows.
 */

/** One value's rule. `T` is the type of values it accepts; `O` marks an optional object field. */
export interface Field<T, O extends boolean = boolean> {
  /** True when the field may be absent (or `undefined`) in its object. */
  readonly optional: O;
  /** Returns `undefined` when `value` is acceptable, else a description of the first problem at `path`. */
  validate(value: unknown, path: string): string | undefined;
  /** Phantom member carrying `T` for type inference; never set at run time. */
  readonly __type?: T;
}

/** The type of the values a field accepts. */
export type FieldType<F> = F extends Field<infer T, boolean> ? T : never;

/** A record of named fields: an object shape. */
export type Shape = Readonly<Record<string, Field<unknown, boolean>>>;

type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K] extends Field<unknown, false> ? K : never }[keyof S];
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends Field<unknown, false> ? never : K }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The object type a shape accepts: required fields required, optional fields optional. */
export type InferShape<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: FieldType<S[K]> } & { [K in OptionalKeys<S>]?: FieldType<S[K]> }
>;

/** A value as MessagePack carries it: what {@link data} accepts. */
export type PlainData = null | boolean | number | string | Uint8Array | PlainData[] | { [key: string]: PlainData };

/** Describes a value's run-time type for error messages (`null`, `array`, `Map`, `number`, …). */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) return 'object';
    return (proto && proto.constructor && proto.constructor.name) || 'object';
  }
  return typeof value;
}

/** True for a plain object (a decoded MessagePack map), not an array, Map, Date, Buffer, … */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const has = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key);

function field<T>(validate: (value: unknown, path: string) => string | undefined): Field<T, false> {
  return { optional: false, validate };
}

/** Marks a field of an object shape as optional; `undefined` counts as absent. */
export function optional<T>(inner: Field<T, boolean>): Field<T, true> {
  return {
    optional: true,
    validate: (value, path) => (value === undefined ? undefined : inner.validate(value, path)),
  };
}

/** A string, with optional length bounds (in UTF-16 code units) and pattern. */
export function string(opts: { min?: number; max?: number; pattern?: RegExp } = {}): Field<string, false> {
  const { min = 0, max = Infinity, pattern } = opts;
  return field((v, path) => {
    if (typeof v !== 'string') return `${path}: expected a string, got ${typeName(v)}`;
    if (v.length < min) return `${path}: string shorter than ${min}`;
    if (v.length > max) return `${path}: string longer than ${max}`;
    if (pattern && !pattern.test(v)) return `${path}: ${JSON.stringify(v.slice(0, 40))} does not match ${pattern}`;
    return undefined;
  });
}

/** A safe integer (|x| ≤ 2^53 − 1) within `[min, max]` (defaults: any safe integer). */
export function int(opts: { min?: number; max?: number } = {}): Field<number, false> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
  return field((v, path) => {
    if (typeof v !== 'number') return `${path}: expected an integer, got ${typeName(v)}`;
    if (!Number.isSafeInteger(v)) return `${path}: expected an integer, got ${v}`;
    if (v < min || v > max) return `${path}: ${v} is outside [${min}, ${max}]`;
    return undefined;
  });
}

/** A number; finite unless `finite: false`; within `[min, max]` when given. */
export function number(opts: { min?: number; max?: number; finite?: boolean } = {}): Field<number, false> {
  const { min = -Infinity, max = Infinity, finite = true } = opts;
  return field((v, path) => {
    if (typeof v !== 'number') return `${path}: expected a number, got ${typeName(v)}`;
    if (finite && !Number.isFinite(v)) return `${path}: expected a finite number, got ${v}`;
    if (v < min || v > max) return `${path}: ${v} is outside [${min}, ${max}]`;
    return undefined;
  });
}

/** A boolean. */
export function boolean(): Field<boolean, false> {
  return field((v, path) => (typeof v === 'boolean' ? undefined : `${path}: expected a boolean, got ${typeName(v)}`));
}

/** One of a fixed set of strings. */
export function oneOf<const V extends readonly string[]>(values: V): Field<V[number], false> {
  const allowed = new Set<string>(values);
  return field((v, path) =>
    typeof v === 'string' && allowed.has(v)
      ? undefined
      : `${path}: expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${
          typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : typeName(v)
        }`,
  );
}

/** An array whose items all satisfy `item`, with at most `max` (and at least `min`) items. */
export function array<T>(item: Field<T, boolean>, opts: { min?: number; max?: number } = {}): Field<T[], false> {
  const { min = 0, max = Infinity } = opts;
  return field((v, path) => {
    if (!Array.isArray(v)) return `${path}: expected an array, got ${typeName(v)}`;
    if (v.length < min) return `${path}: fewer than ${min} items`;
    if (v.length > max) return `${path}: more than ${max} items`;
    for (let i = 0; i < v.length; i++) {
      const problem = item.validate(v[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  });
}

/** Validates `value` against an object shape: no missing required field, no unexpected field. */
export function validateShape(shape: Shape, value: unknown, path: string): string | undefined {
  if (!isPlainObject(value)) return `${path}: expected an object, got ${typeName(value)}`;
  for (const key of Object.keys(value)) {
    if (!has(shape, key) && value[key] !== undefined) return `${path}: unexpected field '${key}'`;
  }
  for (const key of Object.keys(shape)) {
    const rule = shape[key];
    const present = has(value, key) && value[key] !== undefined;
    if (!present) {
      if (!rule.optional) return `${path}: missing field '${key}'`;
      continue;
    }
    const problem = rule.validate(value[key], path ? `${path}.${key}` : key);
    if (problem) return problem;
  }
  return undefined;
}

/** A nested object with exactly the fields of `shape`. */
export function object<S extends Shape>(shape: S): Field<InferShape<S>, false> {
  return field((v, path) => validateShape(shape, v, path));
}

/** An object used as a map from string keys (at most `maxKeys`, each matching `key`) to values of one rule. */
export function record<T>(
  value: Field<T, boolean>,
  opts: { maxKeys?: number; key?: RegExp } = {},
): Field<Record<string, T>, false> {
  const { maxKeys = Infinity, key } = opts;
  return field((v, path) => {
    if (!isPlainObject(v)) return `${path}: expected an object, got ${typeName(v)}`;
    const keys = Object.keys(v);
    if (keys.length > maxKeys) return `${path}: more than ${maxKeys} entries`;
    for (const k of keys) {
      if (key && !key.test(k)) return `${path}: key ${JSON.stringify(k.slice(0, 40))} does not match ${key}`;
      const problem = value.validate(v[k], `${path}.${k}`);
      if (problem) return problem;
    }
    return undefined;
  });
}

/**
 * Any plain MessagePack data: null, booleans, finite or non-finite numbers, strings, byte strings,
 * arrays and plain objects, nested at most `maxDepth` deep. Refuses what msgpackr's extensions can
 * produce (Map, Set, Date, RegExp, Error, typed arrays other than bytes, BigInt, undefined inside data),
 * and the object key `__proto__`. Note that MessagePack carries −0 as 0.
 */
export function data(opts: { maxDepth?: number } = {}): Field<PlainData, false> {
  const { maxDepth = 32 } = opts;
  const check = (v: unknown, path: string, depth: number): string | undefined => {
    if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return undefined;
    if (depth > maxDepth) return `${path}: nested deeper than ${maxDepth}`;
    if (v instanceof Uint8Array) return undefined;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const problem = check(v[i], `${path}[${i}]`, depth + 1);
        if (problem) return problem;
      }
      return undefined;
    }
    if (isPlainObject(v)) {
      for (const k of Object.keys(v)) {
        // msgpackr renames this key on decode; refuse it rather than deliver a different object.
        if (k === '__proto__') return `${path}: the key '__proto__' is not allowed`;
        const problem = check(v[k], `${path}.${k}`, depth + 1);
        if (problem) return problem;
      }
      return undefined;
    }
    return `${path}: ${typeName(v)} is not plain data`;
  };
  return field((v, path) => check(v, path, 0));
}
