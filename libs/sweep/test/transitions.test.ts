import { expect } from 'chai';
import { MAX_LOSSES } from '../src/state.ts';
import { afterEarlyAnswer, afterEpoch, afterFailure, type JobFailure, type Transition } from '../src/transitions.ts';

describe('sweep: the trial state machine (pure transitions, one row per case)', () => {
  it('afterEpoch: the scheduler decision on a new epoch, as the trial state', () => {
    const epoch = { epoch: 3, metric: 'val_nll', value: 1.5, exploded: false, divergeAbove: 1e10 };
    const rows: Array<[Parameters<typeof afterEpoch>[0], typeof epoch, ReturnType<typeof afterEpoch>]> = [
      ['continue', epoch, undefined],
      ['pause', epoch, { state: 'paused' }],
      ['complete', epoch, { state: 'completed' }],
      ['stop', { ...epoch, value: NaN }, { state: 'diverged', error: 'val_nll is NaN at epoch 3' }],
      ['stop', { ...epoch, value: 3e12, exploded: true }, { state: 'diverged', error: 'val_nll 3.000e+12 at epoch 3 is above 1.000e+10: the loss exploded' }],
    ];
    for (const [decision, e, want] of rows) expect(afterEpoch(decision, e), `${decision} ${e.value}`).to.deep.equal(want);
  });

  it('afterEarlyAnswer: an answer that ended before the milestone', () => {
    const rows: Array<[Parameters<typeof afterEarlyAnswer>[0], Transition]> = [
      [{ diverged: 'training diverged at step 8', epochs: 1, target: 4 }, { state: 'diverged', error: 'training diverged at step 8', scheduler: { kind: 'report-nan', epoch: 2 } }],
      // diverged before the job's first new epoch, at its milestone: reported at the milestone, not past it
      [{ diverged: 'boom', epochs: 4, target: 4 }, { state: 'diverged', error: 'boom', scheduler: { kind: 'report-nan', epoch: 4 } }],
      [{ exhausted: true, epochs: 2, target: 5 }, { state: 'completed', scheduler: { kind: 'retire', why: 'exhausted' } }],
      [{ exhausted: true, epochs: 0, target: 5 }, { state: 'failed', error: '--max-steps ended the run before its first epoch, so it has no validation metric', scheduler: { kind: 'retire', why: 'exhausted' } }],
      [{ epochs: 1, target: 3 }, { state: 'failed', error: 'the worker answered with 1 epochs for a job to epoch 3', scheduler: { kind: 'retire', why: 'failed' } }],
    ];
    for (const [answer, want] of rows) expect(afterEarlyAnswer(answer), JSON.stringify(answer)).to.deep.equal(want);
  });

  it('afterFailure: a job that ended without an answer', () => {
    const requeue = { state: 'queued', scheduler: { kind: 'requeue' } } as const;
    const rows: Array<[JobFailure, number, Partial<Transition>]> = [
      [{ kind: 'stopping' }, 0, requeue],
      [{ kind: 'lost', message: 'w2 lost' }, 0, { ...requeue, losses: 1, say: 'trial t007 goes back in the queue: w2 lost' }],
      [{ kind: 'lost', message: 'w2 lost' }, MAX_LOSSES - 2, { ...requeue, losses: MAX_LOSSES - 1 }],
      [
        { kind: 'lost', message: 'w3 lost' },
        MAX_LOSSES - 1,
        {
          state: 'failed',
          scheduler: { kind: 'retire', why: 'failed' },
          losses: MAX_LOSSES,
          error: `its job was lost with its worker ${MAX_LOSSES} times (last: w3 lost); a trial that kills its workers (out of memory?) is not retried further`,
        },
      ],
      [{ kind: 'locked', message: 'DIR is held by pid 9' }, 0, { ...requeue, say: 'trial t007: DIR is held by pid 9; it goes back in the queue' }],
      [
        { kind: 'unknown-method', worker: 'w1', method: 'sweepTrialEpochs', message: 'no such method' },
        0,
        { ...requeue, fatal: "worker w1 does not serve the sweep's 'sweepTrialEpochs' method: start the workers with a command that serves @nbm/sweep's sweepWorker() methods (no such method)" },
      ],
      [{ kind: 'error', message: 'config: bad' }, 1, { state: 'failed', scheduler: { kind: 'retire', why: 'failed' }, error: 'config: bad', say: 'trial t007 failed: config: bad' }],
    ];
    for (const [failure, losses, want] of rows) {
      const got = afterFailure('t007', failure, losses);
      expect(got, `${failure.kind} after ${losses} losses`).to.deep.include(want);
      // a transition that leaves the trial queued never retires it, and a failed one always does
      if (got.state === 'queued') expect(got.scheduler.kind).to.equal('requeue');
      if (got.state === 'failed') expect(got.scheduler).to.deep.equal({ kind: 'retire', why: 'failed' });
    }
  });
});
