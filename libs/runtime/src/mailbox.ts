/**
 * A worker's mailbox: jobs (calls, placements) run one at a time in arrival order — a worker is a
 * sequential actor — and an abort cancels the job in flight and the queued jobs of its step.
 *
 * Between jobs the mailbox yields to the event loop, to timers too when a job ran long, so a
 * heartbeat that fell due during a CPU-heavy synchronous job is sent before the next job starts:
 * such a job delays heartbeats for as long as it runs, never longer.
 */

/** One unit of work. */
export interface MailboxJob {
  /** For logs and heartbeat state, e.g. `call 7 'trainStep'`. */
  readonly label: string;
  /** The step it belongs to, for {@link Mailbox.abort}; undefined: belongs to every step. */
  readonly step?: number;
  /** False for jobs an abort never cancels (a ring placement). */
  readonly abortable: boolean;
  /** Does the work; `signal` aborts when the coordinator aborts its step or the worker stops. Must not throw. */
  run(signal: AbortSignal): Promise<void>;
  /** Called instead of `run` when an abort removes the job from the queue. Must not throw. */
  cancel(reason: Error): void;
}

/** Does an abort of `abortStep` (undefined: everything) cover a job of `jobStep`? */
export function abortCovers(jobStep: number | undefined, abortStep: number | undefined): boolean {
  return abortStep === undefined || jobStep === undefined || jobStep <= abortStep;
}

/** A job that ran at least this long (ms) is followed by a yield to timers. */
const LONG_JOB_MS = 5;

/** Runs jobs one at a time in arrival order. */
export class Mailbox {
  private readonly queue: MailboxJob[] = [];
  private current: { job: MailboxJob; controller: AbortController } | undefined;
  private pumping = false;
  private closed = false;

  constructor(private readonly onJobError: (job: MailboxJob, err: unknown) => void) {}

  /** The label of the job in flight, if any. */
  get busy(): string | undefined {
    return this.current?.job.label;
  }

  /** Number of jobs waiting (not counting the one in flight). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Queues a job; it runs after every job queued before it. Ignored once closed. */
  push(job: MailboxJob): void {
    if (this.closed) return;
    this.queue.push(job);
    void this.pump();
  }

  /**
   * Aborts the job in flight when it is abortable and covered by `step` (its signal fires with
   * `reason`), and cancels every covered abortable job in the queue.
   * @returns what was hit, for the log.
   */
  abort(step: number | undefined, reason: Error): { running: boolean; cancelled: number } {
    let running = false;
    const cur = this.current;
    if (cur && cur.job.abortable && abortCovers(cur.job.step, step) && !cur.controller.signal.aborted) {
      cur.controller.abort(reason);
      running = true;
    }
    let cancelled = 0;
    for (let i = 0; i < this.queue.length; ) {
      const job = this.queue[i];
      if (job.abortable && abortCovers(job.step, step)) {
        this.queue.splice(i, 1);
        cancelled++;
        job.cancel(reason);
      } else i++;
    }
    return { running, cancelled };
  }

  /** Stops for good: aborts the job in flight with `reason` and discards the queue without running it. */
  close(reason: Error): void {
    this.closed = true;
    this.queue.length = 0;
    if (this.current && !this.current.controller.signal.aborted) this.current.controller.abort(reason);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        const job = this.queue.shift()!;
        const controller = new AbortController();
        this.current = { job, controller };
        const started = performance.now();
        try {
          await job.run(controller.signal);
        } catch (err) {
          this.onJobError(job, err);
        } finally {
          this.current = undefined;
        }
        // setImmediate lets inbound messages in. After a long job, a second one, queued from the first, runs in
        // the next turn of the loop, after its timers phase: overdue timers (heartbeats) go first, and the
        // next job (often queued already: a step run ahead) waits no timer tick (setTimeout(0) waits ≥ 1 ms)
        await new Promise<void>((resolve) => setImmediate(performance.now() - started >= LONG_JOB_MS ? () => setImmediate(resolve) : resolve));
      }
    } finally {
      this.pumping = false;
    }
  }
}
