/**
 * One trainer per trial directory. A worker that lost its coordinator (the sweep was killed, then resumed)
 * may still be training a trial when a new worker is handed the same trial; both writing one run directory
 * would corrupt it. So a trial is trained only under `trials/tNNN.lock` (beside the run directory, which must
 * stay empty until its run is created), made with O_EXCL and holding {host, pid}.
 *
 * A lock is stale, and taken over, when its holder is on this host and its process is gone, or when it is on
 * another host and has not been refreshed (its mtime) for `staleMs`. A holder refreshes it at every step.
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

/** The trial is being trained elsewhere and did not come free in time. */
export class TrialLockedError extends Error {
  readonly code = 'trial-locked';
  constructor(readonly file: string, readonly holder: string, waitedMs: number) {
    super(`${file} is held by ${holder} (waited ${Math.round(waitedMs)} ms): another worker is still training this trial`);
    this.name = 'TrialLockedError';
  }
}

export interface TrialLock {
  /** Marks the lock as alive (for holders on other hosts). */
  refresh(): void;
  /** Removes the lock (only if it is still this process's). */
  release(): void;
}

export interface LockOptions {
  /** give up after this long, ms (default 120 000) */
  readonly waitMs?: number;
  /** a lock from another host unrefreshed this long is stale, ms (default 120 000) */
  readonly staleMs?: number;
  /** polling interval, ms (default 200) */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

interface Holder {
  host: string;
  pid: number;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Holder;
    return typeof h?.host === 'string' && Number.isInteger(h.pid) ? h : undefined;
  } catch {
    return undefined;
  }
}

/** True when the lock in `file` may be taken over. */
function isStale(file: string, staleMs: number): boolean {
  const h = readHolder(file);
  let ageMs: number;
  try {
    ageMs = Date.now() - statSync(file).mtimeMs;
  } catch {
    return false; // gone already: the next attempt creates it
  }
  if (!h) return ageMs > 5_000; // unreadable: a holder that died while writing it
  if (h.host === hostname()) return h.pid === process.pid || !processAlive(h.pid);
  return ageMs > staleMs;
}

function tryCreate(file: string): boolean {
  try {
    const fd = openSync(file, 'wx');
    try {
      writeSync(fd, JSON.stringify({ host: hostname(), pid: process.pid, at: new Date().toISOString() }));
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Takes the lock `file`, waiting while a live holder has it.
 * @throws TrialLockedError after `waitMs`; the signal's reason when it aborts
 */
export async function acquireTrialLock(file: string, o: LockOptions = {}): Promise<TrialLock> {
  const waitMs = o.waitMs ?? 120_000;
  const staleMs = o.staleMs ?? 120_000;
  const started = performance.now();
  for (;;) {
    o.signal?.throwIfAborted();
    if (tryCreate(file)) break;
    if (isStale(file, staleMs)) {
      try {
        unlinkSync(file);
      } catch {
        // someone else removed it first
      }
      continue;
    }
    const waited = performance.now() - started;
    if (waited >= waitMs) {
      const h = readHolder(file);
      throw new TrialLockedError(file, h ? `pid ${h.pid} on ${h.host}` : 'an unknown process', waited);
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 200));
  }
  const mine = () => {
    const h = readHolder(file);
    return h?.host === hostname() && h.pid === process.pid;
  };
  return {
    refresh() {
      const now = new Date();
      try {
        utimesSync(file, now, now);
      } catch {
        // removed under us: release() will find nothing to remove
      }
    },
    release() {
      if (mine()) {
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      }
    },
  };
}
