import type { Chunk } from './plan.ts';

/** Something that draws chunks: this process, or one worker of a pool. */
export interface ChunkWorker {
  /** for logs, e.g. `local` or `w2 (host pid 1234)` */
  readonly name: string;
  /**
   * Draws the samples of `chunk`.
   * @param x (chunk.count, nx) its contexts
   * @returns (chunk.count, ny)
   * @throws WorkerGoneError when the worker is gone (its chunk goes to another); anything else ends the job
   */
  run(chunk: Chunk, x: Float32Array): Promise<Float32Array>;
}

/** The worker died, disconnected or stopped answering: the chunk it held is handed to another. */
export class WorkerGoneError extends Error {
  override readonly name = 'WorkerGoneError';
}

export interface ScheduleOptions {
  /**
   * At most this many chunks are in flight or finished-but-unwritten at a time, counted from the oldest chunk not
   * yet written: a worker that gets ahead waits rather than filling memory. Memory is about
   * window · chunk · (ny + nx) · 4 bytes.
   */
  readonly window: number;
  /** the contexts of a chunk's rows: (chunk.count, nx) */
  readonly contexts: (chunk: Chunk) => Float32Array;
  /** called once per chunk, in plan order: y (count, ny), x (count, nx) */
  readonly write: (chunk: Chunk, y: Float32Array, x: Float32Array) => void;
  /** told when a lost worker's chunk goes back to the queue */
  readonly onRequeue?: (chunk: Chunk, worker: ChunkWorker, reason: string) => void;
}

/**
 * Runs `chunks` (in plan order, `chunk.index` = position) on `workers`, one chunk per worker at a time, and
 * writes the results in plan order. A worker whose `run` throws WorkerGoneError leaves the pool and its chunk is
 * given to the next free worker; any other error ends the job at once (rejects without waiting for the chunks
 * still in flight: the caller then closes the workers).
 * @throws the first error, or an Error when every worker is gone with chunks left
 */
export function runChunks(chunks: readonly Chunk[], workers: readonly ChunkWorker[], o: ScheduleOptions): Promise<void> {
  chunks.forEach((c, i) => {
    if (c.index !== i) throw new RangeError(`runChunks: chunk ${i} has index ${c.index}`);
  });
  if (!(Number.isInteger(o.window) && o.window >= 1)) throw new RangeError(`runChunks: window must be a positive integer, got ${o.window}`);
  if (workers.length === 0) return Promise.reject(new Error('no worker to sample on'));
  const queue: Chunk[] = [...chunks];
  const finished = new Map<number, { y: Float32Array; x: Float32Array }>();
  let nextWrite = 0;
  let alive = workers.length;
  let failed = false;
  let waiters: Array<() => void> = [];
  const notify = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const changed = () => new Promise<void>((resolve) => waiters.push(resolve));

  return new Promise<void>((resolve, reject) => {
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      notify();
      reject(e);
    };
    const flush = () => {
      while (finished.has(nextWrite)) {
        const r = finished.get(nextWrite)!;
        finished.delete(nextWrite);
        o.write(chunks[nextWrite], r.y, r.x);
        nextWrite++;
      }
      if (nextWrite === chunks.length) resolve();
    };
    const serve = async (w: ChunkWorker) => {
      while (!failed && nextWrite < chunks.length) {
        const c = queue[0];
        if (!c || c.index >= nextWrite + o.window) {
          await changed();
          continue;
        }
        queue.shift();
        const x = o.contexts(c);
        let y: Float32Array;
        try {
          y = await w.run(c, x);
        } catch (e) {
          if (!(e instanceof WorkerGoneError)) return fail(e);
          const at = queue.findIndex((q) => q.index > c.index);
          queue.splice(at < 0 ? queue.length : at, 0, c);
          alive--;
          o.onRequeue?.(c, w, e.message);
          if (alive === 0) fail(new Error(`every worker was lost, ${chunks.length - nextWrite} chunk(s) still to draw (last: ${e.message})`));
          notify();
          return;
        }
        if (failed) return;
        finished.set(c.index, { y, x });
        try {
          flush();
        } catch (e) {
          return fail(e);
        }
        notify();
      }
    };
    if (chunks.length === 0) resolve();
    for (const w of workers) void serve(w);
  });
}
