/**
 * Runs a sweep directory to the end on a worker pool: the coordinator side of `nbm sweep`.
 *
 * Each free worker gets the scheduler's next job (a trial and the epochs to train it to) as one
 * `trialEpochs` call; the answer's epochs are reported to the scheduler one by one, which decides whether the
 * trial continues, waits in a rung, completes, or diverged. sweep.json is rewritten atomically after every
 * event, so a sweep killed at any point resumes from it (`resumeSweep` is the same call): trials that finished
 * stay finished, jobs that were out go out again and continue from their trial's last checkpoint.
 * A lost worker costs only its trial's progress since that checkpoint: the job is handed to another worker.
 *
 * With `workersPerTrial` k > 1 each job goes to a data-parallel group of k free workers instead: this process
 * drives the trial's training (`train` with a ClusterExecutor on the borrowed group, as `nbm train --workers k`
 * would) and the group's workers compute its steps. By world-size independence the trial's numbers are the same
 * as on one worker, bit for bit; only the time differs. A group that loses a member goes on with the rest; a
 * pool that has shrunk below k forms smaller groups.
 */
import { resolve as resolvePath } from 'node:path';
import { appendFileSync, createWriteStream, type WriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { RemoteError, WorkerLostError, type WorkerHandle, type WorkerPool } from '@nbm/runtime';
import { writeSweepReport } from '@nbm/report';
import { ClusterExecutor, type GroupOptions } from '@nbm/train';
import { asha, noScheduler, type RungScheduler } from './asha.ts';
import { metricOf, type EpochMetrics } from './metric.ts';
import { bestLine, writeOutputs } from './outputs.ts';
import { startPool, type PoolOptions } from './pool.ts';
import { FINAL_STATES, loadSweep, saveSweep, sweepPaths, type SweepFile, type TrialRecord } from './state.ts';
import { formatTable, LiveTable } from './table.ts';
import { LockedError, lockDirectory } from '@nbm/checkpoint';
import { runTrialEpochs, validationRows, type TrialEpochsCall, type TrialEpochsResult } from './trial-run.ts';
import { SWEEP_METHODS } from './worker-actor.ts';
import { afterEarlyAnswer, afterEpoch, afterFailure, type JobFailure, type Transition } from './transitions.ts';

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
  /** workers per trial (default 1: a worker trains its trial alone); k > 1: data-parallel groups of k */
  readonly workersPerTrial?: number;
  /** a data-parallel trial's step settings (default: a replica hash every 50 steps, 10 s step timeout) */
  readonly group?: Partial<GroupOptions>;
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

/** A stream that writes each line to `target` behind `prefix` (the driven trials share workers.log). */
function linesPrefixed(target: NodeJS.WritableStream, prefix: string): NodeJS.WritableStream {
  let partial = '';
  return new Writable({
    write(chunk, _encoding, done) {
      const lines = (partial + String(chunk)).split('\n');
      partial = lines.pop()!;
      if (lines.length > 0) target.write(lines.map((l) => `${prefix}${l}\n`).join(''));
      done();
    },
  });
}

const describeWorker = (w: WorkerHandle | undefined, id: string) => (w ? `${w.id} ${w.info.host} pid ${w.info.pid}` : id);

/** Runs (or resumes) the sweep in `o.dir` to its end. */
export async function runSweep(o: RunSweepOptions): Promise<SweepOutcome> {
  const lock = await lockDirectory(o.dir, `another nbm sweep is running in ${o.dir}: let it finish or stop it`);
  try {
    return await runLocked(o);
  } finally {
    lock.release();
  }
}

async function runLocked(o: RunSweepOptions): Promise<SweepOutcome> {
  const k = o.workersPerTrial ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`workersPerTrial must be a positive integer, got ${k}`);
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
    writeSweepReport(o.dir); // report.html follows every change of sweep.json
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
  const pool = await startPool(o.pool, workersLog, logToFile);
  if (o.pool.listen !== undefined) {
    // remote workers need the address (a port of `*` is chosen now): said even with no table (--quiet)
    const line = pool.announcement();
    if (table) say(line);
    else process.stderr.write(`${line}\n`);
  }
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
  /** worker id → the trial it works on (a data-parallel trial has several) */
  private readonly busy = new Map<string, string>();
  private settle!: { resolve: (interrupted: boolean) => void; reject: (e: Error) => void };
  private ended = false;
  private stopping = false;
  private orphanTimer: NodeJS.Timeout | undefined;
  private readonly perTrial: number;
  /** false until the pool first had `perTrial` workers connected (or waited startTimeoutMs for them) */
  private poolFormed: boolean;
  private formTimer: NodeJS.Timeout | undefined;
  /** data-parallel trials driven here: their stop switches and their ends */
  private readonly groupJobs = new Map<Promise<void>, AbortController>();
  private groupLog: WriteStream | undefined;

  constructor(
    private readonly sweep: SweepFile,
    private readonly o: RunSweepOptions,
    private readonly scheduler: RungScheduler,
    private readonly pool: WorkerPool,
    private readonly byId: Map<string, TrialRecord>,
    private readonly save: () => void,
    private readonly say: (line: string) => void,
  ) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.perTrial = o.workersPerTrial ?? 1;
    this.poolFormed = this.perTrial === 1;
    if (!this.poolFormed) {
      // groups smaller than asked for only when the workers do not come: wait for them as long as for any
      const ms = o.startTimeoutMs ?? 300_000;
      this.formTimer = setTimeout(() => {
        this.poolFormed = true;
        const live = this.pool.coordinator.workers().length;
        if (live > 0) this.say(`only ${live} of ${this.perTrial} workers per trial connected within ${ms} ms: trials train on groups of ${live}`);
        this.pump();
      }, ms);
    }
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
    for (const t of new Set(this.busy.values())) {
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
    this.clearTimers();
    this.settle.resolve(interrupted);
  }

  private fail(e: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.clearTimers();
    // the trials driven here stop too; their state is in their checkpoints
    for (const stop of this.groupJobs.values()) stop.abort(e);
    void Promise.allSettled(this.groupJobs.keys()).then(() => {
      this.save();
      this.groupLog?.end();
      this.settle.reject(e);
    });
  }

  private clearTimers(): void {
    clearTimeout(this.orphanTimer);
    clearTimeout(this.formTimer);
  }

  private interrupt(): void {
    if (this.ended || this.stopping) return;
    this.stopping = true;
    this.say('interrupted: stopping the workers; the sweep continues with --resume');
    for (const stop of this.groupJobs.values()) stop.abort(new Error('the sweep was interrupted'));
    void this.pool.coordinator
      .shutdown('the sweep was interrupted')
      .then(() => Promise.allSettled(this.groupJobs.keys()))
      .then(() => {
        this.groupLog?.end();
        this.end(true);
      });
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

  /** How many workers the next job takes: `perTrial`, or all that are left when the pool has shrunk below it. */
  private groupSize(): number {
    const live = this.pool.coordinator.workers().length;
    if (!this.poolFormed && live >= this.perTrial) {
      this.poolFormed = true;
      clearTimeout(this.formTimer);
    }
    return this.poolFormed ? Math.max(1, Math.min(this.perTrial, live)) : this.perTrial;
  }

  private pump(): void {
    if (this.ended || this.stopping) return;
    for (let size = this.groupSize(); this.idle.length >= size; size = this.groupSize()) {
      const job = this.scheduler.next();
      if (!job) break;
      const workers = this.idle.splice(0, size);
      if (this.perTrial === 1) this.launch(workers[0], job.trial, job.epochs);
      else this.launchGroup(workers, job.trial, job.epochs);
    }
    this.save();
    this.onChange();
    if (this.busy.size === 0 && this.scheduler.done()) this.end(false);
    else this.watchWorkers();
  }

  /** Marks the trial running on `workers` and returns its job's call. */
  private startJob(t: TrialRecord, workers: string[], epochs: number): TrialEpochsCall {
    const live = this.pool.coordinator.workers();
    t.state = 'running';
    t.target = epochs;
    t.attempts += 1;
    t.worker = workers.map((id) => describeWorker(live.find((w) => w.id === id), id)).join(' + ');
    t.startedAt ??= new Date().toISOString();
    delete t.error;
    for (const id of workers) this.busy.set(id, t.id);
    return {
      trialDir: resolvePath(this.o.dir, t.dir),
      // JSON round trip: plain data only (no undefined fields) on the wire
      config: JSON.parse(JSON.stringify(t.config)),
      epochs,
      metric: this.sweep.metric,
      knownEpochs: t.metrics.length,
    };
  }

  /** The job is over: its workers that are still connected are free again. */
  private endJob(workers: string[]): void {
    const live = this.pool.coordinator.workers();
    for (const id of workers) {
      this.busy.delete(id);
      if (live.some((w) => w.id === id) && !this.idle.includes(id)) this.idle.push(id);
    }
    this.pump();
  }

  /** A job on one worker: the worker trains the trial in its own process (the `trialEpochs` method). */
  private launch(workerId: string, trialId: string, epochs: number): void {
    const t = this.byId.get(trialId)!;
    const call = this.startJob(t, [workerId], epochs);
    this.pool.coordinator
      .call(workerId, SWEEP_METHODS.trialEpochs, [call])
      .then(
        (r) => this.onAnswer(t, r.value as TrialEpochsResult),
        (e) => this.onError(t, workerId, e as Error),
      )
      .catch((e) => this.fail(e as Error))
      .finally(() => this.endJob([workerId]));
  }

  /** A job on a data-parallel group: this process drives the trial's training, the group computes its steps. */
  private launchGroup(workers: string[], trialId: string, epochs: number): void {
    const t = this.byId.get(trialId)!;
    const call = this.startJob(t, workers, epochs);
    const c = this.pool.coordinator;
    const stop = new AbortController();
    const group: GroupOptions = { hashEvery: 50, timeoutMs: 10_000, ...this.o.group, minWorkers: 1 };
    this.groupLog ??= createWriteStream(sweepPaths(this.o.dir).workersLog, { flags: 'a' });
    const job = runTrialEpochs(call, {
      signal: stop.signal,
      stream: linesPrefixed(this.groupLog, `trial ${t.id}: `),
      executor: ClusterExecutor.onWorkers({ coordinator: c, workers }, group),
    })
      .then(
        (r) => this.onAnswer(t, r),
        (e: Error) => {
          // the group lost workers (every one of them, or so many that the step could not be redone): a loss
          const gone = workers.filter((id) => !c.workers().some((w) => w.id === id));
          if (gone.length > 0 && !(e instanceof LockedError)) {
            e = new WorkerLostError(gone[0], `${gone.length} of the trial's ${workers.length} workers left (${e.message})`);
          }
          this.onError(t, workers[0], e);
        },
      )
      .catch((e) => this.fail(e as Error))
      .finally(() => {
        this.groupJobs.delete(job);
        this.endJob(workers);
      });
    this.groupJobs.set(job, stop);
  }

  private onAnswer(t: TrialRecord, r: TrialEpochsResult): void {
    const metric = this.sweep.metric;
    for (const m of r.epochs ?? []) {
      if (m.epoch !== t.metrics.length + 1) continue; // known already (an earlier job's epochs)
      t.metrics.push(m);
      const value = metricOf(m, metric);
      const exploded = Number.isFinite(value) && Math.abs(value) > this.sweep.divergeAbove;
      const decision = this.scheduler.report(t.id, m.epoch, exploded ? NaN : value);
      const next = afterEpoch(decision, { epoch: m.epoch, metric, value, exploded, divergeAbove: this.sweep.divergeAbove });
      if (next === undefined) continue;
      t.state = next.state;
      if (next.error !== undefined) t.error = next.error;
      break;
    }
    // still running: the answer ended before the job's milestone
    if (this.scheduler.running().includes(t.id)) this.apply(t, afterEarlyAnswer({ diverged: r.diverged, exhausted: r.exhausted, epochs: t.metrics.length, target: t.target! }));
    if (FINAL_STATES.includes(t.state)) {
      t.endedAt = new Date().toISOString();
      if (t.state === 'diverged' || t.state === 'failed') this.say(`trial ${t.id} ${t.state}: ${t.error}`);
    }
  }

  private onError(t: TrialRecord, workerId: string, e: Error): void {
    const failure: JobFailure =
      this.stopping || this.ended ? { kind: 'stopping' }
      : e instanceof WorkerLostError ? { kind: 'lost', message: e.message }
      : e instanceof RemoteError && e.code === 'unknown-method' ? { kind: 'unknown-method', worker: workerId, method: SWEEP_METHODS.trialEpochs, message: e.remoteMessage }
      : (e instanceof RemoteError && e.code === 'locked') || e instanceof LockedError ? { kind: 'locked', message: e instanceof RemoteError ? e.remoteMessage : e.message }
      : { kind: 'error', message: e instanceof RemoteError ? `${e.code}: ${e.remoteMessage}` : e.message };
    const next = afterFailure(t.id, failure, t.losses ?? 0);
    this.apply(t, next);
    if (next.state === 'failed') t.endedAt = new Date().toISOString();
    if (next.say) this.say(next.say);
    if (next.fatal) this.fail(new SweepError(next.fatal));
  }

  /** A transition's effect on the trial record and the scheduler. */
  private apply(t: TrialRecord, next: Transition): void {
    const a = next.scheduler;
    if (a.kind === 'requeue') this.scheduler.requeue(t.id);
    else if (a.kind === 'retire') this.scheduler.retire(t.id, a.why);
    else if (a.kind === 'report-nan') this.scheduler.report(t.id, a.epoch, NaN);
    t.state = next.state;
    if (next.error !== undefined) t.error = next.error;
    if (next.losses !== undefined) t.losses = next.losses;
  }
}
