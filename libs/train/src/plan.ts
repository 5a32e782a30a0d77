/**
 * Step planning: how a minibatch (its rows come from @nbm/data's `epochOrder`/`batchRows`) is cut into
 * gradient blocks and how blocks are dealt to workers. Pure functions: the same on the coordinator and on every
 * worker, whatever the world size.
 */

/** [start, end) offsets into the minibatch of each gradient block: blocks of `blockSize`, the last maybe short. */
export function blockRanges(batch: number, blockSize: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = 0; s < batch; s += blockSize) out.push([s, Math.min(batch, s + blockSize)]);
  return out;
}

/**
 * Assigns whole blocks to workers as evenly as possible: worker r gets blocks [start, end). With more workers
 * than blocks some get none. Contiguous ranges keep each worker's data reads sequential.
 */
export function shardBlocks(blocks: number, world: number, rank: number): [number, number] {
  const base = Math.floor(blocks / world);
  const extra = blocks % world;
  const start = rank * base + Math.min(rank, extra);
  return [start, start + base + (rank < extra ? 1 : 0)];
}
