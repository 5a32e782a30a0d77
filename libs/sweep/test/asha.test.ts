/**
 * ASHA against synthetic metric curves, with a fake trainable in this process: workers are simulated as
 * events in time (a job of n epochs takes n time units), so every promotion and stop can be predicted by hand
 * from the algorithm (Li et al. 2020, Algorithm 2).
 */
import { expect } from 'chai';
import { SchedulerError } from '../src/index.ts';
import { asha, ashaMilestones, noScheduler, RungScheduler, type Decision } from '../src/asha.ts';

type Curve = (trial: string, epoch: number) => number;

interface Event {
  time: number;
  worker: number;
  trial: string;
  epochs: number;
}

/**
 * Runs a scheduler with `workers` simulated workers. A job from epoch e0 to e1 finishes e1 − e0 time units
 * after it starts; simultaneous finishes are handled in worker order, and a worker that finishes asks for work
 * before the idle ones do. Returns every job handed out, and each trial's final decision.
 */
function simulate(s: RungScheduler, workers: number, curve: Curve): { jobs: Event[]; final: Map<string, Decision> } {
  const jobs: Event[] = [];
  const done = new Map<string, number>();
  const final = new Map<string, Decision>();
  const running: Array<(Event & { end: number }) | undefined> = new Array(workers).fill(undefined);
  let now = 0;
  const assign = (w: number) => {
    const job = s.next();
    if (!job) return;
    const e = { time: now, worker: w, trial: job.trial, epochs: job.epochs };
    jobs.push(e);
    running[w] = { ...e, end: now + job.epochs - (done.get(job.trial) ?? 0) };
  };
  for (let w = 0; w < workers; w++) assign(w);
  for (;;) {
    const active = running.map((r, w) => ({ r, w })).filter((x) => x.r !== undefined);
    if (active.length === 0) break;
    now = Math.min(...active.map((x) => x.r!.end));
    for (const { r, w } of active.filter((x) => x.r!.end === now)) {
      running[w] = undefined;
      for (let epoch = (done.get(r!.trial) ?? 0) + 1; epoch <= r!.epochs; epoch++) {
        const d = s.report(r!.trial, epoch, curve(r!.trial, epoch));
        done.set(r!.trial, epoch);
        final.set(r!.trial, d);
        if (d !== 'continue') break;
      }
      assign(w);
      for (let i = 0; i < workers; i++) if (!running[i]) assign(i);
    }
  }
  expect(s.done(), 'the scheduler is done when no work is left').to.equal(true);
  return { jobs, final };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);
/** A curve that ranks trials by a base value at every epoch. */
const constant = (base: number[]): Curve => (t) => base[Number(t.slice(1))];

describe('ASHA', () => {
  it('puts rungs at grace·η^k below the maximum, then the maximum', () => {
    expect(ashaMilestones({ gracePeriod: 1, reductionFactor: 3, maxEpochs: 10 })).to.deep.equal([1, 3, 9, 10]);
    expect(ashaMilestones({ gracePeriod: 2, reductionFactor: 2, maxEpochs: 16 })).to.deep.equal([2, 4, 8, 16]);
    expect(ashaMilestones({ gracePeriod: 5, reductionFactor: 3, maxEpochs: 5 })).to.deep.equal([5]);
    expect(() => ashaMilestones({ gracePeriod: 0, reductionFactor: 3, maxEpochs: 5 })).to.throw(SchedulerError, /--grace-period/);
    expect(() => ashaMilestones({ gracePeriod: 1, reductionFactor: 1, maxEpochs: 5 })).to.throw(SchedulerError, /--reduction-factor/);
    expect(() => ashaMilestones({ gracePeriod: 6, reductionFactor: 3, maxEpochs: 5 })).to.throw(SchedulerError, /--grace-period must be an integer from 1 to --epochs \(5\)/);
  });

  it('one worker, 9 trials, η = 3: promotes the top third of each rung as soon as the rung allows, top rung down', () => {
    // metric per trial, the same at every epoch: t3 < t5 < t1 < t7 < t0 < t8 < t6 < t2 < t4
    const s = asha(ids(9), { reductionFactor: 3, gracePeriod: 1, maxEpochs: 9 });
    const { jobs, final } = simulate(s, 1, constant([5, 3, 8, 1, 9, 2, 7, 4, 6]));
    expect(jobs.map((j) => `${j.trial}→${j.epochs}`)).to.deep.equal([
      't0→1', 't1→1', 't2→1',
      't1→3', // rung 0 has 3 trials: ⌊3/3⌋ = 1 is promoted, the best (t1)
      't3→1',
      't3→3', // rung 0 has 4: its best is now t3, not yet promoted
      't4→1', 't5→1',
      't5→3', // rung 0 has 6: the top 2 are t3 and t5
      't3→9', // rung 1 has 3: its best, t3, goes to the top rung (checked before rung 0)
      't6→1', 't7→1', 't8→1', // rung 0's top 3 (t3, t5, t1) are all promoted already
    ]);
    expect(final.get('t3')).to.equal('complete');
    expect([...final].filter(([, d]) => d === 'complete').map(([t]) => t)).to.deep.equal(['t3']);
    for (const t of ['t0', 't1', 't2', 't4', 't5', 't6', 't7', 't8']) expect(final.get(t), t).to.equal('pause');
    expect(s.rung(0).map((r) => r.trial)).to.deep.equal(['t3', 't5', 't1', 't7', 't0', 't8', 't6', 't2', 't4']);
    expect(s.rung(1).map((r) => r.trial)).to.deep.equal(['t3', 't5', 't1']);
    expect(s.rung(2).map((r) => r.trial)).to.deep.equal(['t3']);
  });

  it('two workers: promotions are asynchronous, nobody waits for a rung to fill', () => {
    const s = asha(ids(4), { reductionFactor: 2, gracePeriod: 1, maxEpochs: 2 });
    const { jobs, final } = simulate(s, 2, constant([4, 2, 3, 1]));
    expect(jobs).to.deep.equal([
      { time: 0, worker: 0, trial: 't0', epochs: 1 },
      { time: 0, worker: 1, trial: 't1', epochs: 1 },
      { time: 1, worker: 0, trial: 't2', epochs: 1 }, // rung 0 = {t0}: ⌊1/2⌋ = 0, so a new trial
      { time: 1, worker: 1, trial: 't1', epochs: 2 }, // rung 0 = {t0, t1}: t1 is the top half, promoted at once
      { time: 2, worker: 0, trial: 't3', epochs: 1 },
      // t=2: worker 1 completes t1 and finds nothing: rung 0's top 1 of 3 is t1, promoted already
      { time: 3, worker: 0, trial: 't3', epochs: 2 }, // rung 0 = 4 trials: top 2 are t3 and t1
    ]);
    expect(Object.fromEntries(final)).to.deep.equal({ t0: 'pause', t1: 'complete', t2: 'pause', t3: 'complete' });
  });

  it('continues within a job, pauses at a rung, completes at the maximum', () => {
    const s = asha(ids(2), { reductionFactor: 2, gracePeriod: 2, maxEpochs: 4 });
    expect(s.next()).to.deep.equal({ trial: 't0', epochs: 2 });
    expect(s.report('t0', 1, 5)).to.equal('continue');
    expect(s.report('t0', 2, 5)).to.equal('pause');
    expect(() => s.report('t0', 3, 5)).to.throw(SchedulerError, /no job running/);
    expect(s.next()).to.deep.equal({ trial: 't1', epochs: 2 });
    expect(() => s.report('t1', 3, 1)).to.throw(SchedulerError, /outside its job/);
    expect(s.report('t1', 2, 1)).to.equal('pause');
    expect(s.next()).to.deep.equal({ trial: 't1', epochs: 4 });
    expect(s.report('t1', 4, 1)).to.equal('complete');
    expect(s.next()).to.equal(undefined);
    expect(s.done()).to.equal(true);
  });

  it('a non-finite metric stops the trial; it counts in its rung and is never promoted', () => {
    const s = asha(ids(3), { reductionFactor: 2, gracePeriod: 1, maxEpochs: 2 });
    const { jobs, final } = simulate(s, 1, (t) => ({ t0: NaN, t1: 5, t2: 3 })[t]!);
    expect(final.get('t0')).to.equal('stop');
    expect(s.retirement('t0')).to.equal('diverged');
    // rung 0 = {t0: ∞, t1: 5}: ⌊2/2⌋ = 1 promotion, t1 (t0's +∞ counts in the size, never in the top)
    // then rung 0 = {t0: ∞, t1: 5, t2: 3}: still ⌊3/2⌋ = 1 in the top, now t2, not yet promoted
    expect(jobs.map((j) => `${j.trial}→${j.epochs}`)).to.deep.equal(['t0→1', 't1→1', 't1→2', 't2→1', 't2→2']);
    expect(s.rung(0).map((r) => [r.trial, r.metric])).to.deep.equal([['t2', 3], ['t1', 5], ['t0', Infinity]]);
    expect(final.get('t2')).to.equal('complete');
  });

  it('a requeued job (its worker was lost) is handed out again first, with the same milestone', () => {
    const s = asha(ids(3), { reductionFactor: 2, gracePeriod: 1, maxEpochs: 4 });
    expect(s.next()).to.deep.equal({ trial: 't0', epochs: 1 });
    expect(s.next()).to.deep.equal({ trial: 't1', epochs: 1 });
    s.requeue('t0');
    expect(s.running()).to.deep.equal(['t1']);
    expect(s.done()).to.equal(false);
    expect(s.next()).to.deep.equal({ trial: 't0', epochs: 1 });
    expect(s.next()).to.deep.equal({ trial: 't2', epochs: 1 });
  });

  it('continues from its saved state exactly as if never stopped (running jobs go out again)', () => {
    const base = [5, 3, 8, 1, 9, 2, 7, 4, 6];
    const opts = { reductionFactor: 3, gracePeriod: 1, maxEpochs: 9 };
    const straight = simulate(asha(ids(9), opts), 1, constant(base)).jobs.map((j) => `${j.trial}→${j.epochs}`);
    for (let cut = 1; cut < straight.length; cut++) {
      // run `cut` jobs, take the next one out, then "crash" with it running
      const s = asha(ids(9), opts);
      const seen: string[] = [];
      const done = new Map<string, number>();
      for (let i = 0; i < cut; i++) {
        const job = s.next()!;
        seen.push(`${job.trial}→${job.epochs}`);
        for (let e = (done.get(job.trial) ?? 0) + 1; e <= job.epochs; e++) {
          done.set(job.trial, e);
          if (s.report(job.trial, e, base[Number(job.trial.slice(1))]) !== 'continue') break;
        }
      }
      expect(s.next(), 'a job is out when the coordinator dies').to.not.equal(undefined);
      const saved = JSON.parse(JSON.stringify(s.toJSON()));
      const resumed = asha(ids(9), opts, saved);
      resumed.requeueAll();
      const rest = simulate(resumed, 1, constant(base)).jobs.map((j) => `${j.trial}→${j.epochs}`);
      expect([...seen, ...rest], `crash after ${cut} jobs`).to.deep.equal(straight);
    }
  });

  it('refuses a saved state that does not belong to the sweep', () => {
    const s = asha(ids(2), { reductionFactor: 2, gracePeriod: 1, maxEpochs: 2 });
    s.next();
    expect(() => asha(['a', 'b'], { reductionFactor: 2, gracePeriod: 1, maxEpochs: 2 }, s.toJSON())).to.throw(SchedulerError, /names trial t\d, which the sweep does not have/);
    expect(() => asha(ids(2), { reductionFactor: 2, gracePeriod: 2, maxEpochs: 4 }, s.toJSON())).to.throw(SchedulerError, /not a milestone/);
  });
});

describe('scheduler none', () => {
  it('runs every trial to the end, in order, and stops only diverged ones', () => {
    const s = noScheduler(ids(3), 3);
    const { jobs, final } = simulate(s, 2, (t, e) => (t === 't1' && e === 2 ? Infinity : 1));
    expect(jobs.map((j) => `${j.trial}→${j.epochs}`)).to.deep.equal(['t0→3', 't1→3', 't2→3']);
    expect(Object.fromEntries(final)).to.deep.equal({ t0: 'complete', t1: 'stop', t2: 'complete' });
  });
});
