import { expect } from 'chai';
import { decideFailure, type CallOutcome, type FailureAction } from '../src/cluster/policy.ts';

const ok: CallOutcome = { kind: 'ok' };
const lost: CallOutcome = { kind: 'lost' };
const timeout: CallOutcome = { kind: 'timeout' };
const err = (code: string, message = code): CallOutcome => ({ kind: 'error', code, message });

describe('failure policy (a pure function, as a table)', () => {
  const table: Array<[string, CallOutcome[], { attempt?: number; minWorkers?: number }, FailureAction['kind'], string[] | RegExp | null]> = [
    ['all ok → continue', [ok, ok, ok], {}, 'continue', null],
    ['one lost → retry without it', [ok, lost, ok], {}, 'retry', ['w1']],
    ['a lost worker and its neighbours timing out in the ring → drop only the lost one', [err('CollectiveTimeoutError'), lost, err('CollectiveTimeoutError')], {}, 'retry', ['w1']],
    ['a lost worker whose neighbours the coordinator aborted (in the ring, or before they started) → drop only the lost one', [err('CollectiveAbortedError'), lost, err('aborted')], {}, 'retry', ['w1']],
    ['a call that never answered → drop it', [ok, timeout, ok], {}, 'retry', ['w1']],
    ['a transient ring failure with nobody lost → retry with everyone', [err('CollectiveTransportError'), ok, ok], {}, 'retry', []],
    ['divergence on a worker → abort naming it', [ok, err('training-diverged', 'training diverged at step 7'), ok], {}, 'abort', /w1 failed: training diverged at step 7/],
    ['an unexpected error → abort', [err('TypeError', 'x is undefined'), ok, ok], {}, 'abort', /w0 failed: x is undefined/],
    ['fewer survivors than --min-workers → abort', [lost, lost, ok], { minWorkers: 2 }, 'abort', /only 1 worker\(s\) left, fewer than the 2 required/],
    ['everyone lost → abort', [lost, lost], {}, 'abort', /only 0 worker/],
    ['too many attempts → abort', [ok, lost, ok], { attempt: 5 }, 'abort', /failed 5 times in a row/],
  ];
  for (const [name, outcomes, o, kind, detail] of table) {
    it(name, () => {
      const a = decideFailure({
        outcomes: new Map(outcomes.map((r, i) => [`w${i}`, r])),
        attempt: o.attempt ?? 1,
        maxAttempts: 5,
        minWorkers: o.minWorkers ?? 1,
      });
      expect(a.kind).to.equal(kind);
      if (a.kind === 'retry') expect([...a.drop]).to.deep.equal(detail);
      if (a.kind === 'abort') expect(a.reason).to.match(detail as RegExp);
    });
  }
});
