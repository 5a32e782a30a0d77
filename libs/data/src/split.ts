import { Stream, assertSeed, permutation } from '@nbm/random';

/** Row indices of a train/validation split. */
export interface TrainValSplit {
  /** (count − valCount,) indices into the pool, in permutation order */
  readonly train: Uint32Array;
  /** (valCount,) indices into the pool, in permutation order */
  readonly val: Uint32Array;
}

/**
 * The project's one random train/validation split rule, used by every dataset:
 * `perm = permutation(count, {seed, stream: Stream.split}, 0)`; the first `count − valCount` entries are the
 * training rows, the last `valCount` the validation rows. Both keep permutation order (as PyTorch's
 * `random_split` subsets do). The numbers differ from PyTorch's `random_split(generator=manual_seed(1))`,
 * which uses another generator; the rule (a uniformly random split, fixed by a seed) is the same.
 */
export function trainValSplit(count: number, valCount: number, seed: number): TrainValSplit {
  assertSeed(seed);
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`split count must be a non-negative integer, got ${count}`);
  if (!Number.isSafeInteger(valCount) || valCount < 0 || valCount > count) {
    throw new RangeError(`validation size must be an integer in [0, ${count}], got ${valCount}`);
  }
  const perm = permutation(count, { seed, stream: Stream.split }, 0);
  return { train: perm.subarray(0, count - valCount), val: perm.subarray(count - valCount) };
}
