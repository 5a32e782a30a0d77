import { sampleModel, type ChainStreams, type ModelConfig, type Parameters } from '@nbm/model';
import { Stream } from '@nbm/random';
import type { ChainRunner } from './backend.ts';

/** What, besides the model and the contexts, decides a sample's bits. */
export interface DrawSettings {
  /** the request's seed, an integer in [0, 2^53) */
  readonly seed: number;
  /** Gibbs steps k of each chain */
  readonly gibbsSteps: number;
  /** return the noise-free last visible state (see sampleModel) */
  readonly denoise: boolean;
  /** rows per model evaluation; blocks start at multiples of it (see plan.ts) */
  readonly blockSize: number;
}

const TWO_32 = 2 ** 32;

/**
 * The random streams of `nbm sample` (@nbm/random's table: sampleHidden / sampleVisible): the key holds the low
 * 32 bits of the seed, the counter's first word the high bits, the second the global sample index and the third
 * the Gibbs step. So a sample's draws depend on (seed, its index, step) alone.
 */
export function sampleStreams(seed: number): ChainStreams {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be an integer in [0, 2^53), got ${seed}`);
  return { seed: seed % TWO_32, counter: Math.floor(seed / TWO_32), hiddenStream: Stream.sampleHidden, visibleStream: Stream.sampleVisible };
}

/** Lets timers (heartbeats, progress) and I/O run between blocks. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Draws the samples of global rows [first, first + m), block by block, on the active tfjs backend, or with
 * `chains` (the native kernel, the WebGPU engine: each chain there depends on its own row alone).
 * `first` must start a block; the range may end inside one only where the job ends (the last, short block).
 * Between blocks it yields to the event loop and honours `signal`.
 * @param x (m, nx) the contexts of those rows
 * @returns (m, ny)
 */
export async function sampleRange(
  model: ModelConfig,
  params: Parameters,
  x: Float32Array,
  first: number,
  settings: DrawSettings,
  signal?: AbortSignal,
  chains?: ChainRunner,
): Promise<Float32Array> {
  const { blockSize, gibbsSteps, denoise } = settings;
  if (x.length % model.nx !== 0) throw new RangeError(`sampleRange: ${x.length} context values are not whole rows of nx = ${model.nx}`);
  if (first % blockSize !== 0) throw new RangeError(`sampleRange: row ${first} does not start a block of ${blockSize}`);
  const m = x.length / model.nx;
  if (first + m > TWO_32) throw new RangeError(`sampleRange: rows up to ${first + m} exceed the 2^32 sample indices`);
  const streams = sampleStreams(settings.seed);
  const out = new Float32Array(m * model.ny);
  for (let r = 0; r < m; r += blockSize) {
    signal?.throwIfAborted();
    const n = Math.min(blockSize, m - r);
    const index = new Uint32Array(n);
    for (let i = 0; i < n; i++) index[i] = first + r + i;
    const xs = x.subarray(r * model.nx, (r + n) * model.nx);
    const y = chains
      ? await chains(params, xs, index, { seed: streams.seed, step: streams.counter }, gibbsSteps, denoise, { hidden: streams.hiddenStream, visible: streams.visibleStream })
      : sampleModel(model, params, xs, index, streams, gibbsSteps, denoise);
    out.set(y, r * model.ny);
    await yieldToLoop();
  }
  return out;
}
