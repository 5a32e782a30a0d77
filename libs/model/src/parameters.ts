import { Stream, fillUniform } from '@nbm/random';
import type { ModelConfig } from './config.ts';

/** Which network a parameter belongs to; each network is one AdamW parameter group with its own decay. */
export type ParameterGroup = 'bias' | 'precision' | 'weights';

/** What a parameter is, without its values. Shapes use PyTorch's nn.Linear layout: weight (out, in), bias (out). */
export interface ParameterSpec {
  /** the official implementation's state_dict name, e.g. `bias_net.net.0.weight` */
  readonly name: string;
  readonly shape: readonly number[];
  readonly group: ParameterGroup;
  /** fan-in of the Linear layer it belongs to, for PyTorch's U(−1/√fan_in, 1/√fan_in) initialisation */
  readonly fanIn: number;
}

/** A model's parameters: one flat float32 array per spec, in spec order. */
export interface Parameters {
  readonly specs: readonly ParameterSpec[];
  readonly values: Float32Array[];
}

/**
 * The parameter list of an NBM, in the official state_dict order:
 * bias_net.net.{0,2}.{weight,bias}, precision_net.net.{0,2}.{weight,bias}, weights_net.net.0.{weight,bias}.
 * The weights network's output (ny·nh) reshapes to W: (ny, nh) row-major, then is divided by √ny.
 */
export function parameterSpecs(c: ModelConfig): ParameterSpec[] {
  const mlp = (prefix: string, group: ParameterGroup): ParameterSpec[] => [
    { name: `${prefix}.net.0.weight`, shape: [c.width, c.nx], group, fanIn: c.nx },
    { name: `${prefix}.net.0.bias`, shape: [c.width], group, fanIn: c.nx },
    { name: `${prefix}.net.2.weight`, shape: [c.ny, c.width], group, fanIn: c.width },
    { name: `${prefix}.net.2.bias`, shape: [c.ny], group, fanIn: c.width },
  ];
  return [
    ...mlp('bias_net', 'bias'),
    ...mlp('precision_net', 'precision'),
    { name: 'weights_net.net.0.weight', shape: [c.ny * c.nh, c.nx], group: 'weights', fanIn: c.nx },
    { name: 'weights_net.net.0.bias', shape: [c.ny * c.nh], group: 'weights', fanIn: c.nx },
  ];
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Total number of scalars in a model (604,384 for the paper's MNIST configuration). */
export function parameterCount(c: ModelConfig): number {
  return parameterSpecs(c).reduce((n, s) => n + sizeOf(s.shape), 0);
}

/**
 * PyTorch-style initialisation: every Linear weight and bias from U(−1/√fan_in, 1/√fan_in),
 * drawn from the `init` stream with counter (parameter index, 0, 0, ·).
 */
export function initParameters(c: ModelConfig, seed: number): Parameters {
  const specs = parameterSpecs(c);
  const values = specs.map((s, index) => {
    const v = new Float32Array(sizeOf(s.shape));
    fillUniform(v, { seed, stream: Stream.init }, index, 0, 0);
    const bound = 1 / Math.sqrt(s.fanIn);
    for (let i = 0; i < v.length; i++) v[i] = (2 * v[i] - 1) * bound;
    return v;
  });
  return { specs, values };
}

export function cloneParameters(p: Parameters): Parameters {
  return { specs: p.specs, values: p.values.map((v) => v.slice()) };
}

/**
 * Arrays in spec order as named wire tensors `<prefix>0` … `<prefix>{n−1}` (the runtime's raw frames): the one
 * naming every job uses to send parameters (`p`) and AdamW moments (`m`, `v`) to a worker.
 */
export function namedTensors(values: readonly Float32Array[], prefix = 'p'): Record<string, Float32Array> {
  return Object.fromEntries(values.map((v, i) => [`${prefix}${i}`, v]));
}

/**
 * The arrays {@link namedTensors} sent, received and checked against `specs`: each present, float32 and of its
 * spec's size. Returns copies (the received frames belong to the transport).
 * @param what names the receiver and the arrays in errors, e.g. `sampleLoad: parameter`
 * @throws Error naming the tensor, its parameter and what is wrong
 */
export function fromNamedTensors(specs: readonly ParameterSpec[], tensors: Readonly<Record<string, ArrayBufferView>>, prefix = 'p', what = 'parameter'): Float32Array[] {
  return specs.map((s, i) => {
    const t = tensors[`${prefix}${i}`];
    if (!(t instanceof Float32Array)) throw new Error(`${what} ${prefix}${i} (${s.name}) is missing or not float32`);
    if (t.length !== sizeOf(s.shape)) throw new Error(`${what} ${prefix}${i} (${s.name}) has ${t.length} values, expected ${sizeOf(s.shape)}`);
    return t.slice();
  });
}
