import { expect } from 'chai';
import fc from 'fast-check';
import { judgeSilence } from '../src/liveness.ts';
import { stat } from 'node:fs';
import { Mailbox, abortCovers, type MailboxJob } from '../src/mailbox.ts';
import { z85Decode, z85Encode, curveKeyProblem } from '../src/z85.ts';
import { repeatFilter } from '../src/log.ts';

describe('runtime units', () => {
  it('judges silence: alive within the timeout, unsure after a blocked tick, silent otherwise', () => {
    const base = { now: 10_000, timeoutMs: 1000, intervalMs: 100 };
    expect(judgeSilence({ ...base, lastHeard: 9000, tickLateMs: 0 })).to.equal('alive');
    expect(judgeSilence({ ...base, lastHeard: 8999, tickLateMs: 0 })).to.equal('silent');
    expect(judgeSilence({ ...base, lastHeard: 8999, tickLateMs: 100 })).to.equal('silent');
    expect(judgeSilence({ ...base, lastHeard: 8999, tickLateMs: 101 })).to.equal('unsure');
    expect(judgeSilence({ ...base, lastHeard: 9500, tickLateMs: 5000 })).to.equal('alive');
  });

  it('encodes Z85 as RFC 32 says, and round-trips any 4-byte multiple', () => {
    expect(z85Encode(Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]))).to.equal('HelloWorld');
    expect([...z85Decode('HelloWorld')]).to.deep.equal([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 16 }).chain((n) => fc.uint8Array({ minLength: 4 * n, maxLength: 4 * n })), (bytes) => {
        expect([...z85Decode(z85Encode(bytes))]).to.deep.equal([...bytes]);
      }),
    );
    expect(() => z85Decode('Hello Worl')).to.throw(RangeError, /" " at position 5 is not a Z85 character/);
    expect(() => z85Decode('%%%%%')).to.throw(RangeError, /out of range/);
    expect(curveKeyProblem('abc')).to.match(/40-character Z85 key, got 3 characters/);
    expect(curveKeyProblem(undefined)).to.match(/got undefined/);
  });

  it('lets a repeated line through once per window, then says how often it was suppressed', async () => {
    const filter = repeatFilter(50);
    expect(filter('a')).to.equal('a');
    expect(filter('a')).to.equal(undefined);
    expect(filter('b')).to.equal('b');
    expect(filter('a')).to.equal(undefined);
    await new Promise((r) => setTimeout(r, 60));
    expect(filter('a')).to.equal('a (repeated 2 more times)');
    expect(filter('a')).to.equal(undefined);
  });

  describe('mailbox', () => {
    /** A job that records its start and end, and waits `ms` or until aborted. */
    function job(log: string[], label: string, ms: number, step?: number, abortable = true): MailboxJob {
      return {
        label,
        step,
        abortable,
        cancel: (reason) => log.push(`cancel ${label}: ${reason.message}`),
        run: (signal) =>
          new Promise<void>((resolve) => {
            log.push(`start ${label}`);
            const timer = setTimeout(() => {
              log.push(`end ${label}`);
              resolve();
            }, ms);
            signal.addEventListener('abort', () => {
              clearTimeout(timer);
              log.push(`aborted ${label}: ${(signal.reason as Error).message}`);
              resolve();
            });
          }),
      };
    }
    const idle = (box: Mailbox): Promise<void> =>
      new Promise((resolve) => {
        const poll = setInterval(() => {
          if (!box.busy && box.waiting === 0) {
            clearInterval(poll);
            resolve();
          }
        }, 5);
      });

    it('runs jobs one at a time in arrival order, whatever their durations', async () => {
      const log: string[] = [];
      const box = new Mailbox(() => undefined);
      for (const [i, ms] of [30, 0, 20, 5].entries()) box.push(job(log, `j${i}`, ms));
      await idle(box);
      expect(log).to.deep.equal(['start j0', 'end j0', 'start j1', 'end j1', 'start j2', 'end j2', 'start j3', 'end j3']);
    });

    it('abort(step) aborts the covered job in flight and cancels covered queued jobs, not later steps or placements', async () => {
      const log: string[] = [];
      const box = new Mailbox(() => undefined);
      box.push(job(log, 'a5', 1000, 5));
      box.push(job(log, 'b5', 10, 5));
      box.push(job(log, 'w', 0, undefined, false));
      box.push(job(log, 'c', 0));
      box.push(job(log, 'd6', 0, 6));
      await new Promise((r) => setTimeout(r, 10));
      const hit = box.abort(5, new Error('stop'));
      expect(hit).to.deep.equal({ running: true, cancelled: 2 });
      await idle(box);
      expect(log).to.deep.equal(['start a5', 'aborted a5: stop', 'cancel b5: stop', 'cancel c: stop', 'start w', 'end w', 'start d6', 'end d6']);
    });

    it('a timer that fell due during a long synchronous job runs before the next queued job starts', async () => {
      const log: string[] = [];
      const box = new Mailbox(() => undefined);
      // the jobs arrive in an I/O callback, as messages do: then an immediate queued after the job would run in
      // this same turn of the loop, before its timers
      await new Promise<void>((resolve) => stat(import.meta.filename, () => resolve()));
      box.push({
        label: 'busy',
        abortable: true,
        cancel: () => undefined,
        run: async () => {
          log.push('start busy');
          setTimeout(() => log.push('heartbeat'), 0);
          const until = performance.now() + 20;
          while (performance.now() < until); // a synchronous stretch, as a native kernel call is
          log.push('end busy');
        },
      });
      box.push(job(log, 'next', 0));
      await idle(box);
      expect(log).to.deep.equal(['start busy', 'end busy', 'heartbeat', 'start next', 'end next']);
    });

    it('decides which jobs an abort covers', () => {
      expect(abortCovers(3, 5)).to.equal(true);
      expect(abortCovers(5, 5)).to.equal(true);
      expect(abortCovers(6, 5)).to.equal(false);
      expect(abortCovers(undefined, 5)).to.equal(true);
      expect(abortCovers(9, undefined)).to.equal(true);
    });
  });
});
