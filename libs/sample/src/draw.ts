import type { ContextSource } from './contexts.ts';
import type { Sampler } from './local.ts';
import type { SampleOutput } from './output.ts';
import type { Chunk } from './plan.ts';
import type { SampleProgress } from './progress.ts';
import { runChunks } from './schedule.ts';

/** What drawing the rows took. */
export interface DrawReport {
  /** wall time from the first chunk handed out to the last row written */
  readonly seconds: number;
  /** workers lost on the way */
  readonly lost: number;
}

/**
 * Draws `chunks` on the sampler's workers and streams them into `output` in row order, updating `progress`.
 * At most `window` chunks are in flight or waiting to be written (default 2 per worker, at least 2).
 */
export async function drawRows(chunks: readonly Chunk[], sampler: Sampler, contexts: ContextSource, output: SampleOutput, progress: SampleProgress, window?: number): Promise<DrawReport> {
  const t0 = performance.now();
  const workers = sampler.workers.length;
  let lost = 0;
  await runChunks(chunks, sampler.workers, {
    window: window ?? Math.max(2, 2 * workers),
    contexts: (c) => contexts.rows(c.first, c.count),
    write: (c, y, x) => {
      output.write(c.first, y, x);
      progress.update(c.first + c.count, workers - lost);
    },
    onRequeue: (c, w, reason) => {
      lost++;
      progress.log(`chunk ${c.index} (rows ${c.first}-${c.first + c.count - 1}) goes to another worker: ${w.name} is gone (${reason})`);
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  progress.update(contexts.count, workers - lost, true);
  progress.done();
  return { seconds, lost };
}
