import { Stream, assertSeed, permutation } from '@nbm/random';

/**
 * The order in which an epoch visits a dataset's rows: `permutation(count, {seed, stream: Stream.permutation},
 * epoch)`. A pure function of (count, seed, epoch), so every worker agrees on it without communication.
 * @returns (count,) row indices
 */
export function epochOrder(count: number, seed: number, epoch: number): Uint32Array {
  assertSeed(seed);
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffffffff) throw new RangeError(`epoch must be a u32, got ${epoch}`);
  return permutation(count, { seed, stream: Stream.permutation }, epoch);
}

/**
 * Minibatches per epoch: ⌈count / batchSize⌉, or ⌊count / batchSize⌋ with `dropLast` (PyTorch DataLoader's
 * `drop_last`). 55,000 rows at 128: 430 (the last holds 88 rows), 429 with dropLast.
 */
export function batchesPerEpoch(count: number, batchSize: number, dropLast = false): number {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/**
 * The rows of minibatch `batchIndex` of an epoch: `order[batchIndex·batchSize : (batchIndex+1)·batchSize]`,
 * shorter for the last batch when batchSize does not divide the count (drop_last=False).
 * @returns a view into `order` (not a copy), (≤ batchSize,)
 */
export function batchRows(order: Uint32Array, batchIndex: number, batchSize: number): Uint32Array {
  const batches = batchesPerEpoch(order.length, batchSize);
  if (!Number.isInteger(batchIndex) || batchIndex < 0 || batchIndex >= batches) {
    throw new RangeError(`batch index ${batchIndex} is out of range: ${order.length} rows make ${batches} batches of ${batchSize}`);
  }
  const start = batchIndex * batchSize;
  return order.subarray(start, Math.min(start + batchSize, order.length));
}
