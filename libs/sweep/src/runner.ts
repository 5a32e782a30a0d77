/**
 * Runs a sweep directory to the end on a worker pool: the coordinator side of `nbm sweep`.
 *
 * Each free worker gets the scheduler's next job (a trial and the epochs to train it to) as one
 * `trialEpochs` call; the answer's epochs are reported to the scheduler one by one, which decides whether the
 * trial continues, waits in a rung, completes, or diverged. sweep.json is rewritten atomically after every
 * event, so a sweep killed at any point resumes from it (`resumeSweep` is the same call): trials that finished
 * stay finished, jobs that were out go out again and continue from their trial's last checkpoint.
 * A lost worker costs only its trial's progress since that checkpoint: the job is handed to another worker.
 */
import { resolve as resolvePath } from 'node:path';
import { appendFileSync } from 'node:fs';
import { RemoteError, WorkerLostError, type WorkerHandle } from '@nbm/runtime';
import { asha, noScheduler, type RungScheduler } from './asha.ts';
import { formatMetric, metricOf, type EpochMetrics } from './metric.ts';
import { bestLine, writeOutputs } from './outputs.ts';
import { startPool, type Pool, type PoolOptions } from './pool.ts';
import { FINAL_STATES, MAX_LOSSES, loadSweep, saveSweep, sweepPaths, type SweepFile, type TrialRecord } from './state.ts';
import { formatTable, LiveTable } from './table.ts';
import { validationRows, type TrialEpochsCall, type TrialEpochsResult } from './trial-run.ts';
import { SWEEP_METHODS } from './worker-actor.ts';

/** The sweep cannot go on (no workers, workers that do not serve the sweep); its state is saved for --resume. */
export class SweepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepError';
  }
}

export interface RunSweepOptions {
  /** the sweep directory (made by createSweep) */
  readonly dir: string;
  readonly pool: PoolOptions;
  /** how long to wait while no worker is connected and work remains, ms (default 300 000) */
  readonly startTimeoutMs?: number;
  /** aborting it stops the sweep: the state is saved and the run resolves with `interrupted` */
  readonly signal?: AbortSignal;
  /** where the table and event lines go (default stderr); null: nowhere */
  readonly stream?: (NodeJS.WritableStream & { isTTY?: boolean; columns?: number }) | null;
  /** the table's refresh interval when the stream is not a TTY, ms (default 30 000) */
  readonly printEveryMs?: number;
}

export interface SweepOutcome {
  readonly sweep: SweepFile;
  /** true when stopped by the signal before the end */
  readonly interrupted: boolean;
  /** the final table, ranked (empty when interrupted) */
  readonly table: string[];
  /** the line naming the winner (empty when interrupted) */
  readonly best: string;
}

/** The scheduler of a sweep file, continued from its saved state. */
export function schedulerOf(sweep: SweepFile): RungScheduler {
  const ids = sweep.trials.map((t) => t.id);
  const s = sweep.scheduler;
  return s.kind === 'asha' ? asha(ids, s, sweep.schedulerState) : noScheduler(ids, s.maxEpochs, sweep.schedulerState);
}

const describeWorker = (w: WorkerHandle | undefined, id: string) => (w ? `${w.id} ${w.info.host} pid ${w.info.pid}` : id);

/** Runs (or resumes) the sweep in `o.dir` to its end. */
export async function runSweep(o: RunSweepOptions): Promise<SweepOutcome> {
  const sweep = loadSweep(o.dir);
  const scheduler = schedulerOf(sweep);
  const table = o.stream === null ? undefined : new LiveTable(o.stream ?? process.stderr, o.printEveryMs ?? 30_000);
  const say = (line: string) => table?.log(line);
  const byId = new Map(sweep.trials.map((t) => [t.id, t]));

  // jobs that were out when the last coordinator stopped: hand them out again
  scheduler.requeueAll();
  for (const t of sweep.trials) if (t.state === 'running') t.state = 'queued';
  const save = () => {
    sweep.schedulerState = scheduler.toJSON();
    saveSweep(o.dir, sweep);
  };
  save();

  const finish = (): SweepOutcome => {
    for (const t of sweep.trials) {
      if (t.state === 'paused') {
        t.state = 'stopped';
        t.endedAt ??= new Date().toISOString();
      }
    }
    sweep.finished = true;
    save();
    writeOutputs(sweep, o.dir);
    const final = formatTable(sweep, { ranked: true });
    return { sweep, interrupted: false, table: final, best: bestLine(sweep, o.dir) };
  };
  if (scheduler.done()) return finish();
  if (o.signal?.aborted) return { sweep, interrupted: true, table: [], best: '' };

  const workersLog = sweepPaths(o.dir).workersLog;
  const logToFile = (line: string) => appendFileSync(workersLog, `coordinator: ${line}\n`);
  const pool: Pool = await startPool(o.pool, workersLog, logToFile);
  const run = new Dispatch(sweep, o, scheduler, pool, byId, save, say);
  let refresher: NodeJS.Timeout | undefined;
  if (table) {
    const show = (force = false) => table.update(formatTable(sweep, { live: run.peek() }), force);
    show(true);
    refresher = setInterval(() => show(), (o.stream ?? process.stderr).isTTY ? 1000 : Math.min(o.printEveryMs ?? 30_000, 30_000));
    run.onChange = () => show();
  }
  try {
    const interrupted = await run.done;
    if (interrupted) {
      save();
      return { sweep, interrupted: true, table: [], best: '' };
    }
    return finish();
  } finally {
    clearInterval(refresher);
    await pool.close('sweep over');
  }
}

/** The event loop of one sweep session: free workers, jobs, answers, losses. */
class Dispatch {
  /** resolves true when interrupted, false when the scheduler is done; rejects on a fatal error */
  readonly done: Promise<boolean>;
  onChange: () => void = () => {};
  private readonly idle: string[] = [];
  private readonly busy = new Map<string, string>();
  private settle!: { resolve: (interrupted: boolean) => void; reject: (e: Error) => void };
  private ended = false;
  private stopping = false;
  private orphanTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sweep: SweepFile,
    private readonly o: RunSweepOptions,
    private readonly scheduler: RungScheduler,
    private readonly pool: Pool,
    private readonly byId: Map<string, TrialRecord>,
    private readonly save: () => void,
    private readonly say: (line: string) => void,
  ) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    const c = pool.coordinator;
    c.on('join', (w) => {
      this.say(`worker ${describeWorker(w, w.id)} joined`);
      this.idle.push(w.id);
      this.pump();
    });
    c.on('lost', (w, reason) => {
      this.say(`worker ${describeWorker(w, w.id)} lost: ${reason}`);
      this.dropIdle(w.id);
      this.watchWorkers();
    });
    for (const w of c.workers()) this.idle.push(w.id);
    pool.group?.exited.then(() => {
      if (!this.ended && !this.o.pool.listen) this.fail(new SweepError(`every local worker process exited (see ${sweepPaths(o.dir).workersLog}); the sweep's state is saved: continue it with --resume ${o.dir}`));
    });
    if (o.signal) {
      if (o.signal.aborted) this.interrupt();
      else o.signal.addEventListener('abort', () => this.interrupt(), { once: true });
    }
    this.pump();
  }

  /** The newest epoch of each running trial, read from its metrics.csv (for the live table). */
  peek(): Map<string, EpochMetrics> {
    const out = new Map<string, EpochMetrics>();
    for (const t of this.busy.values()) {
      try {
        const rows = validationRows(resolvePath(this.o.dir, this.byId.get(t)!.dir));
        if (rows.length) out.set(t, rows[rows.length - 1]);
      } catch {
        // being rewritten: next time
      }
    }
    return out;
  }

  private dropIdle(id: string): void {
    const i = this.idle.indexOf(id);
    if (i >= 0) this.idle.splice(i, 1);
  }

  private end(interrupted: boolean): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.orphanTimer);
    this.settle.resolve(interrupted);
  }

  private fail(e: Error): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.orphanTimer);
    this.save();
    this.settle.reject(e);
  }

  private interrupt(): void {
    if (this.ended || this.stopping) return;
    this.stopping = true;
    this.say('interrupted: stopping the workers; the sweep continues with --resume');
    void this.pool.coordinator.shutdown('the sweep was interrupted').then(() => this.end(true));
  }

  /** With no worker connected and work left, waits startTimeoutMs for one, then gives up (the state is saved). */
  private watchWorkers(): void {
    if (this.ended || this.stopping) return;
    const live = this.pool.coordinator.workers().length;
    if (live > 0) {
      clearTimeout(this.orphanTimer);
      this.orphanTimer = undefined;
      return;
    }
    if (this.orphanTimer) return;
    const ms = this.o.startTimeoutMs ?? 300_000;
    this.orphanTimer = setTimeout(() => {
      this.fail(new SweepError(`no worker connected for ${ms} ms with trials left to run; the sweep's state is saved: continue it with --resume ${this.o.dir}`));
    }, ms);
  }

  private pump(): void {
    if (this.ended || this.stopping) return;
    while (this.idle.length > 0) {
      const job = this.scheduler.next();
      if (!job) break;
      this.launch(this.idle.shift()!, job.trial, job.epochs);
    }
    this.save();
    this.onChange();
    if (this.busy.size === 0 && this.scheduler.done()) this.end(false);
    else this.watchWorkers();
  }

  private launch(workerId: string, trialId: string, epochs: number): void {
    const t = this.byId.get(trialId)!;
    const c = this.pool.coordinator;
    const handle = c.workers().find((w) => w.id === workerId);
    t.state = 'running';
    t.target = epochs;
    t.attempts += 1;
    t.worker = describeWorker(handle, workerId);
    t.startedAt ??= new Date().toISOString();
    delete t.error;
    this.busy.set(workerId, trialId);
    const call: TrialEpochsCall = {
      trialDir: resolvePath(this.o.dir, t.dir),
      // JSON round trip: plain data only (no undefined fields) on the wire
      config: JSON.parse(JSON.stringify(t.config)),
      epochs,
      metric: this.sweep.metric,
      knownEpochs: t.metrics.length,
    };
    c.call(workerId, SWEEP_METHODS.trialEpochs, [call])
      .then(
        (r) => this.onAnswer(t, r.value as TrialEpochsResult),
        (e) => this.onError(t, workerId, e as Error),
      )
      .catch((e) => this.fail(e as Error))
      .finally(() => {
        this.busy.delete(workerId);
        if (c.workers().some((w) => w.id === workerId) && !this.idle.includes(workerId)) this.idle.push(workerId);
        this.pump();
      });
  }

  private onAnswer(t: TrialRecord, r: TrialEpochsResult): void {
    const metric = this.sweep.metric;
    for (const m of r.epochs ?? []) {
      if (m.epoch !== t.metrics.length + 1) continue; // known already (an earlier job's epochs)
      t.metrics.push(m);
      const value = metricOf(m, metric);
      const exploded = Number.isFinite(value) && Math.abs(value) > this.sweep.divergeAbove;
      const decision = this.scheduler.report(t.id, m.epoch, exploded ? NaN : value);
      if (decision === 'continue') continue;
      if (decision === 'stop') {
        t.state = 'diverged';
        t.error = exploded ? `${metric} ${formatMetric(value)} at epoch ${m.epoch} is above ${formatMetric(this.sweep.divergeAbove)}: the loss exploded` : `${metric} is ${value} at epoch ${m.epoch}`;
      } else t.state = decision === 'pause' ? 'paused' : 'completed';
      break;
    }
    if (this.scheduler.running().includes(t.id)) {
      // the answer ended before the job's milestone
      if (r.diverged !== undefined) {
        this.scheduler.report(t.id, Math.min(t.metrics.length + 1, t.target!), NaN);
        t.state = 'diverged';
        t.error = r.diverged;
      } else if (r.exhausted) {
        this.scheduler.retire(t.id, 'exhausted');
        t.state = t.metrics.length > 0 ? 'completed' : 'failed';
        if (t.metrics.length === 0) t.error = '--max-steps ended the run before its first epoch, so it has no validation metric';
      } else {
        this.scheduler.retire(t.id, 'failed');
        t.state = 'failed';
        t.error = `the worker answered with ${t.metrics.length} epochs for a job to epoch ${t.target}`;
      }
    }
    if (FINAL_STATES.includes(t.state)) {
      t.endedAt = new Date().toISOString();
      if (t.state === 'diverged' || t.state === 'failed') this.say(`trial ${t.id} ${t.state}: ${t.error}`);
    }
  }

  private onError(t: TrialRecord, workerId: string, e: Error): void {
    if (this.stopping) {
      this.scheduler.requeue(t.id);
      t.state = 'queued';
      return;
    }
    if (e instanceof WorkerLostError) {
      t.losses = (t.losses ?? 0) + 1;
      if (t.losses < MAX_LOSSES) {
        this.scheduler.requeue(t.id);
        t.state = 'queued';
        this.say(`trial ${t.id} goes back in the queue: ${e.message}`);
        return;
      }
      e = new Error(`its job was lost with its worker ${t.losses} times (last: ${e.message}); a trial that kills its workers (out of memory?) is not retried further`);
    }
    if (e instanceof RemoteError && e.code === 'unknown-method') {
      this.scheduler.requeue(t.id);
      t.state = 'queued';
      this.fail(new SweepError(`worker ${workerId} does not serve the sweep's '${SWEEP_METHODS.trialEpochs}' method: start the workers with a command that serves @nbm/sweep's sweepWorker() methods (${e.remoteMessage})`));
      return;
    }
    if (e instanceof RemoteError && e.code === 'trial-locked') {
      this.scheduler.requeue(t.id);
      t.state = 'queued';
      this.say(`trial ${t.id}: ${e.remoteMessage}; it goes back in the queue`);
      return;
    }
    this.scheduler.retire(t.id, 'failed');
    t.state = 'failed';
    t.error = e instanceof RemoteError ? `${e.code}: ${e.remoteMessage}` : e.message;
    t.endedAt = new Date().toISOString();
    this.say(`trial ${t.id} failed: ${t.error}`);
  }
}
