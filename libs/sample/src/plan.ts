import { SampleError } from './errors.ts';

/**
 * How a job is cut up. Two sizes, with different jobs:
 * - a **block** is the unit of computation: the model always evaluates rows [b·B, (b+1)·B) of the global sample
 *   index together (the last block may be shorter). Some backends (wasm) give a row bits that depend on which rows
 *   share its batch, so fixing the batches by global index is what makes the output the same whatever the chunking
 *   and the number of workers;
 * - a **chunk** is the unit of work handed to a worker and written to disk: a whole number of blocks.
 */
export interface Chunk {
  /** position in the plan (0-based): chunks are written in this order */
  readonly index: number;
  /** global index of its first row */
  readonly first: number;
  /** rows in it */
  readonly count: number;
}

/** Checks the two sizes against each other and the job; throws SampleError naming the flag. */
export function checkSizes(total: number, chunk: number, block: number): void {
  if (!Number.isSafeInteger(block) || block < 1) throw new SampleError(`--block-size must be a positive integer, got ${block}`);
  if (!Number.isSafeInteger(chunk) || chunk < 1) throw new SampleError(`--chunk must be a positive integer, got ${chunk}`);
  if (chunk % block !== 0) {
    throw new SampleError(`--chunk ${chunk} must be a whole number of blocks of --block-size ${block} (e.g. ${Math.max(1, Math.round(chunk / block)) * block})`);
  }
  if (!Number.isSafeInteger(total) || total < 1) throw new SampleError(`the job has ${total} samples: nothing to draw`);
  if (total > 2 ** 32) throw new SampleError(`${total} samples is more than the 2^32 a job can index (the sample index keys its random draws)`);
}

/**
 * The chunks that finish a job of `total` rows whose first `done` rows are already written.
 * Work restarts at the block that holds row `done` (its rows before `done` are recomputed and dropped by the
 * writer), and chunk boundaries fall on multiples of `chunk`, so a resumed plan computes exactly the blocks an
 * uninterrupted one would.
 * @returns chunks in row order, covering [⌊done/B⌋·B, total)
 */
export function planChunks(done: number, total: number, chunk: number, block: number): Chunk[] {
  checkSizes(total, chunk, block);
  const out: Chunk[] = [];
  let first = Math.floor(Math.min(done, total) / block) * block;
  while (first < total) {
    const end = Math.min(total, (Math.floor(first / chunk) + 1) * chunk);
    out.push({ index: out.length, first, count: end - first });
    first = end;
  }
  return out;
}
