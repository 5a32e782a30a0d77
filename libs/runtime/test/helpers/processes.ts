/**
 * Child processes of the tests: fixtures run as separate OS processes that report JSON lines on
 * stdout. Every wait has a timeout, and {@link killAll} (for afterEach) ends every child still alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerFixtureConfig } from '../fixtures/worker.ts';

export const WORKER_FIXTURE = fileURLToPath(new URL('../fixtures/worker.ts', import.meta.url));
export const COORDINATOR_FIXTURE = fileURLToPath(new URL('../fixtures/coordinator.ts', import.meta.url));

/** One JSON line a fixture printed. */
export type FixtureEvent = { event: string; [key: string]: unknown };

/** A running fixture and what it printed so far. */
export interface Fixture {
  readonly child: ChildProcess;
  readonly events: FixtureEvent[];
  stderr: string;
  /** Resolves with the exit code, or the signal name. */
  readonly exited: Promise<number | string>;
  /** Resolves with the first event matching `pred` (already printed or later); rejects after `timeoutMs` or at exit. */
  waitFor(pred: (e: FixtureEvent) => boolean, timeoutMs: number, what?: string): Promise<FixtureEvent>;
  /** Resolves with the exit code or signal; rejects if the process is still running after `timeoutMs`. */
  waitExit(timeoutMs: number): Promise<number | string>;
}

const live = new Set<ChildProcess>();

/** Starts a fixture script with `config` as its JSON argument. */
export function startFixture(file: string, config: unknown): Fixture {
  const child = spawn(process.execPath, ['--import', 'tsx', file, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const events: FixtureEvent[] = [];
  const listeners = new Set<() => void>();
  let exitValue: number | string | undefined;
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      live.delete(child);
      exitValue = code ?? signal ?? 'unknown';
      resolve(exitValue);
      for (const l of [...listeners]) l();
    }),
  );
  const fixture: Fixture = {
    child,
    events,
    stderr: '',
    exited,
    waitFor(pred, timeoutMs, what = 'the expected event') {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = events.find(pred);
          if (hit) {
            done();
            resolve(hit);
          } else if (exitValue !== undefined) {
            done();
            reject(new Error(`fixture exited (${exitValue}) before ${what}; events ${JSON.stringify(events)}; stderr: ${fixture.stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${what} within ${timeoutMs} ms; events ${JSON.stringify(events)}; stderr: ${fixture.stderr}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async waitExit(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`fixture still running after ${timeoutMs} ms; events ${JSON.stringify(events)}; stderr: ${fixture.stderr}`)), timeoutMs);
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
  child.stderr!.on('data', (d: Buffer) => (fixture.stderr += d.toString()));
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        events.push(JSON.parse(line) as FixtureEvent);
      } catch {
        events.push({ event: 'stdout', line });
      }
    }
    for (const l of [...listeners]) l();
  });
  return fixture;
}

/** Starts a worker fixture. */
export function startWorker(config: WorkerFixtureConfig): Fixture {
  return startFixture(WORKER_FIXTURE, config);
}

/** Kills every fixture still alive (SIGKILL; for afterEach). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** True while a process with this pid exists. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
