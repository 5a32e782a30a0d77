/**
 * One writer per directory: a lock file made with O_EXCL and holding {host, pid}. Two trainers writing one run
 * directory (a second `nbm train --resume`, or a sweep worker that lost its coordinator while a new one is handed
 * the same trial) would corrupt it.
 *
 * A lock is stale, and taken over, when its holder is on this host and its process is gone (kill −9 included),
 * or when it is on another host and has not been refreshed (its mtime) for `staleMs`. A holder refreshes it as it
 * works.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The directory is in use by another live process, and did not come free in time. */
export class LockedError extends Error {
  override readonly name = 'LockedError';
  /** survives the trip from a worker: a RemoteError carries it as its `code` */
  readonly code = 'locked';
  constructor(readonly file: string, readonly holder: string, waitedMs: number, what: string) {
    super(`${file} is held by ${holder}${waitedMs > 0 ? ` (waited ${Math.round(waitedMs)} ms)` : ''}: ${what}`);
  }
}

export interface Lock {
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
  /** refuse at once, without waiting, when the holder is a live process on this host (default false) */
  readonly failFastLocal?: boolean;
  /** what the refusal tells the user (default: another process is still writing there) */
  readonly what?: string;
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
 * @throws LockedError after `waitMs` (at once for a live holder on this host with `failFastLocal`); the signal's
 *   reason when it aborts
 */
export async function acquireLock(file: string, o: LockOptions = {}): Promise<Lock> {
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
    const h = readHolder(file);
    const refuseNow = o.failFastLocal === true && h?.host === hostname();
    if (refuseNow || waited >= waitMs) {
      throw new LockedError(file, h ? `pid ${h.pid} on ${h.host}` : 'an unknown process', refuseNow ? 0 : waited, o.what ?? 'another process is still writing there');
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

/** The lock file inside a run, sample or sweep directory held by the process writing it. */
export const DIR_LOCK = 'nbm.lock';

/**
 * One writer per directory: takes DIR/nbm.lock (making DIR if need be). A live holder on this host is refused at
 * once, naming it; a holder that was killed (even by kill −9) is taken over; a holder on another host is waited
 * for until its lock goes stale (a live one refreshes it as it works). A directory it made and nothing else
 * wrote into is removed again on release.
 * @param what what the refusal tells the user, e.g. `another nbm process is training runs/x: …`
 * @throws LockedError naming the holder (pid, host)
 */
export async function lockDirectory(dir: string, what: string): Promise<Lock> {
  const created = !existsSync(dir);
  mkdirSync(dir, { recursive: true });
  const lock = await acquireLock(join(dir, DIR_LOCK), { failFastLocal: true, waitMs: 130_000, staleMs: 120_000, what });
  // the lock goes stale after 120 s unrefreshed: touching it every few seconds is plenty, and keeps a syscall off
  // every training step
  let refreshedAt = performance.now();
  return {
    refresh() {
      if (performance.now() - refreshedAt < 5_000) return;
      refreshedAt = performance.now();
      lock.refresh();
    },
    release() {
      lock.release();
      // a job refused before it wrote anything leaves no directory behind
      if (created && readdirSync(dir).length === 0) rmdirSync(dir);
    },
  };
}
