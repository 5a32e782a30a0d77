/**
 * Trial schedulers, as pure objects (no I/O, no clock): ASHA, and `none`.
 *
 * ASHA (Li et al., "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020, Algorithm 2):
 * rungs k = 0, 1, … at milestones r·η^k epochs (r the grace period, η the reduction factor) below the maximum
 * R, and a last rung at R. A trial enters rung k when it reports its metric at that rung's milestone. Whenever a
 * worker asks for work ({@link RungScheduler.next}), the scheduler looks for a promotion from the highest rung
 * down: a trial of rung k that is among the best ⌊|rung k| / η⌋ of that rung and has not been promoted yet goes
 * on to rung k + 1. Only when no trial can be promoted does a new trial start, at rung 0. Promotions are
 * asynchronous: nobody waits for a rung to fill, so a trial promoted early stays promoted.
 *
 * `none` is the same machine with a single rung at R: every trial starts with a job to R and runs to the end.
 *
 * The metric is minimised. A non-finite metric means the trial diverged: it is recorded as +∞ in the rung it was
 * heading for (it counts in the rung's size, as any trial the rung received, and is never among the best) and
 * the trial is retired.
 */

/** A unit of work: train `trial` until it has completed `epochs` epochs (it may already have some). */
export interface Job {
  readonly trial: string;
  readonly epochs: number;
}

/**
 * What {@link RungScheduler.report} decides for a trial that reported a metric at an epoch:
 * - `continue`: the epoch is before its job's milestone, keep training;
 * - `pause`: the job reached its rung; the trial waits there until it is promoted (a later `next()`), or forever;
 * - `complete`: the trial reached the maximum epochs;
 * - `stop`: the metric is not finite: the trial diverged and is retired.
 */
export type Decision = 'continue' | 'pause' | 'complete' | 'stop';

/** Why a trial left the scheduler for good. */
export type Retirement = 'completed' | 'diverged' | 'failed' | 'exhausted';

/** Everything a scheduler knows, as plain JSON (sweep.json keeps it, so that a resumed sweep goes on the same). */
export interface SchedulerState {
  /** the trials not started yet, in start order */
  readonly unstarted: string[];
  /** trial → the epochs of its current (or last) job: its rung's milestone */
  readonly target: Record<string, number>;
  /** trial → milestone (as a string key) → the metric it reported there */
  readonly results: Record<string, Record<string, number>>;
  /** the trials whose job is out on a worker */
  readonly running: string[];
  /** jobs taken back from lost workers, handed out again before anything else */
  readonly requeued: string[];
  /** trial → why it is done */
  readonly retired: Record<string, Retirement>;
}

/** ASHA's options; all in epochs except η. */
export interface AshaOptions {
  /** η ≥ 2: each rung keeps the best 1/η of its trials */
  readonly reductionFactor: number;
  /** r ≥ 1: epochs of the first rung */
  readonly gracePeriod: number;
  /** R ≥ r: the last rung, the most epochs any trial trains */
  readonly maxEpochs: number;
}

/** A scheduler option out of range. */
export class SchedulerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchedulerError';
  }
}

/** ASHA's milestones: r·η^k below R, then R. */
export function ashaMilestones(o: AshaOptions): number[] {
  const { reductionFactor: eta, gracePeriod: r, maxEpochs: R } = o;
  if (!Number.isInteger(eta) || eta < 2) throw new SchedulerError(`--reduction-factor must be an integer of at least 2, got ${eta}`);
  if (!Number.isInteger(R) || R < 1) throw new SchedulerError(`--epochs must be a positive integer for a sweep, got ${R}`);
  if (!Number.isInteger(r) || r < 1 || r > R) throw new SchedulerError(`--grace-period must be an integer from 1 to --epochs (${R}), got ${r}`);
  const out: number[] = [];
  for (let m = r; m < R; m *= eta) out.push(m);
  out.push(R);
  return out;
}

/**
 * Successive halving over rungs at the given milestones (see the module's comment). Construct it with
 * {@link asha} or {@link noScheduler}; `state` continues a scheduler from its {@link toJSON}.
 */
export class RungScheduler {
  readonly milestones: readonly number[];
  readonly reductionFactor: number;
  private readonly order: readonly string[];
  private readonly s: SchedulerState;

  constructor(trials: readonly string[], milestones: readonly number[], reductionFactor: number, state?: SchedulerState) {
    if (milestones.length === 0 || milestones.some((m, i) => !Number.isInteger(m) || m < 1 || (i > 0 && m <= milestones[i - 1]))) {
      throw new SchedulerError(`milestones must be increasing positive integers, got ${milestones.join(', ')}`);
    }
    if (new Set(trials).size !== trials.length) throw new SchedulerError('trial ids must be distinct');
    this.milestones = milestones;
    this.reductionFactor = reductionFactor;
    this.order = trials;
    const copy = state ? (JSON.parse(JSON.stringify(state)) as SchedulerState) : undefined;
    this.s = copy ?? { unstarted: [...trials], target: {}, results: {}, running: [], requeued: [], retired: {} };
    if (copy) this.checkState(copy);
  }

  private checkState(s: SchedulerState): void {
    const known = new Set(this.order);
    const all = [...s.unstarted, ...s.running, ...s.requeued, ...Object.keys(s.target), ...Object.keys(s.results), ...Object.keys(s.retired)];
    const stranger = all.find((t) => !known.has(t));
    if (stranger) throw new SchedulerError(`the scheduler's saved state names trial ${stranger}, which the sweep does not have`);
    for (const [t, m] of Object.entries(s.target)) {
      if (!this.milestones.includes(m)) throw new SchedulerError(`the scheduler's saved state gives trial ${t} a job to epoch ${m}, which is not a milestone (${this.milestones.join(', ')})`);
    }
  }

  /** The highest epochs any trial trains. */
  get maxEpochs(): number {
    return this.milestones[this.milestones.length - 1];
  }

  /** The trials of rung k with their metrics, best first (ties: trial order). */
  rung(k: number): Array<{ trial: string; metric: number }> {
    const m = String(this.milestones[k]);
    const rank = new Map(this.order.map((t, i) => [t, i]));
    return Object.entries(this.s.results)
      .filter(([, r]) => r[m] !== undefined)
      .map(([trial, r]) => ({ trial, metric: r[m] }))
      .sort((a, b) => a.metric - b.metric || rank.get(a.trial)! - rank.get(b.trial)!);
  }

  private busy(trial: string): boolean {
    return this.s.running.includes(trial) || this.s.requeued.includes(trial) || this.s.retired[trial] !== undefined;
  }

  /** A trial that may be promoted now, from the highest rung down, with the rung it goes to; undefined if none. */
  private promotable(): { trial: string; to: number } | undefined {
    for (let k = this.milestones.length - 2; k >= 0; k--) {
      const members = this.rung(k);
      const best = members.slice(0, Math.floor(members.length / this.reductionFactor));
      const pick = best.find((c) => Number.isFinite(c.metric) && this.s.target[c.trial] === this.milestones[k] && !this.busy(c.trial));
      if (pick) return { trial: pick.trial, to: k + 1 };
    }
    return undefined;
  }

  /** The next job for a free worker: a requeued one, else a promotion, else a new trial; undefined when none is ready now. */
  next(): Job | undefined {
    const again = this.s.requeued.shift();
    if (again !== undefined) {
      this.s.running.push(again);
      return { trial: again, epochs: this.s.target[again] };
    }
    const promotion = this.promotable();
    if (promotion) {
      this.s.target[promotion.trial] = this.milestones[promotion.to];
      this.s.running.push(promotion.trial);
      return { trial: promotion.trial, epochs: this.milestones[promotion.to] };
    }
    const fresh = this.s.unstarted.shift();
    if (fresh !== undefined) {
      this.s.target[fresh] = this.milestones[0];
      this.s.running.push(fresh);
      return { trial: fresh, epochs: this.milestones[0] };
    }
    return undefined;
  }

  private endJob(trial: string): void {
    const i = this.s.running.indexOf(trial);
    if (i < 0) throw new SchedulerError(`trial ${trial} has no job running`);
    this.s.running.splice(i, 1);
  }

  /**
   * Trial `trial`, whose job is running, completed `epoch` epochs with validation `metric` (minimised).
   * @throws SchedulerError when it has no job running or the epoch is past its job's milestone
   */
  report(trial: string, epoch: number, metric: number): Decision {
    if (!this.s.running.includes(trial)) throw new SchedulerError(`trial ${trial} reported epoch ${epoch} but has no job running`);
    const target = this.s.target[trial];
    if (!Number.isInteger(epoch) || epoch < 1 || epoch > target) throw new SchedulerError(`trial ${trial} reported epoch ${epoch}, outside its job (to epoch ${target})`);
    if (!Number.isFinite(metric)) {
      this.record(trial, target, Infinity);
      this.endJob(trial);
      this.s.retired[trial] = 'diverged';
      return 'stop';
    }
    if (epoch < target) return 'continue';
    this.record(trial, target, metric);
    this.endJob(trial);
    if (target === this.maxEpochs) {
      this.s.retired[trial] = 'completed';
      return 'complete';
    }
    return 'pause';
  }

  private record(trial: string, milestone: number, metric: number): void {
    (this.s.results[trial] ??= {})[String(milestone)] = metric;
  }

  /** The running job of `trial` was lost with its worker: it is handed out again, before anything else. */
  requeue(trial: string): void {
    this.endJob(trial);
    this.s.requeued.push(trial);
  }

  /**
   * Ends `trial` for good without a milestone result: it failed, or it cannot train further (`exhausted`:
   * --max-steps ended it before its milestone). Its running job, if any, ends.
   */
  retire(trial: string, why: Exclude<Retirement, 'completed'>): void {
    if (this.s.running.includes(trial)) this.endJob(trial);
    for (const list of [this.s.requeued, this.s.unstarted]) {
      const i = list.indexOf(trial);
      if (i >= 0) list.splice(i, 1);
    }
    this.s.retired[trial] = why;
  }

  /** True when no job is running or waiting and none can start: the sweep is over. */
  done(): boolean {
    return this.s.running.length === 0 && this.s.requeued.length === 0 && this.s.unstarted.length === 0 && this.promotable() === undefined;
  }

  /** The trials whose jobs are out on workers. */
  running(): readonly string[] {
    return [...this.s.running];
  }

  /** Why `trial` left the scheduler, if it did. */
  retirement(trial: string): Retirement | undefined {
    return this.s.retired[trial];
  }

  /** The epochs of `trial`'s current or last job (undefined before it started). */
  target(trial: string): number | undefined {
    return this.s.target[trial];
  }

  /** Takes every running job back (a resumed sweep: the workers that had them are gone), keeping their order. */
  requeueAll(): void {
    for (const t of [...this.s.running]) this.requeue(t);
  }

  /** The state as plain JSON (a copy). */
  toJSON(): SchedulerState {
    return JSON.parse(JSON.stringify(this.s)) as SchedulerState;
  }
}

/** ASHA over `trials` (started in that order). */
export function asha(trials: readonly string[], o: AshaOptions, state?: SchedulerState): RungScheduler {
  return new RungScheduler(trials, ashaMilestones(o), o.reductionFactor, state);
}

/** No early stopping: every trial trains to `maxEpochs` (ASHA with one rung). */
export function noScheduler(trials: readonly string[], maxEpochs: number, state?: SchedulerState): RungScheduler {
  if (!Number.isInteger(maxEpochs) || maxEpochs < 1) throw new SchedulerError(`--epochs must be a positive integer for a sweep, got ${maxEpochs}`);
  return new RungScheduler(trials, [maxEpochs], 2, state);
}
