/**
 * Local worker processes: `nbm train --workers N` on one machine spawns N of them.
 *
 * The children are spawned without an IPC channel and in the parent's process group, so nothing
 * but their own work keeps them alive: when the parent exits normally they are killed (an `exit`
 * hook), on Ctrl-C the terminal signals the whole group, and if the parent is killed outright they
 * notice the coordinator's silence and exit within its timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** What to run in each child. */
export interface WorkerCommand {
  /** The worker's entry script (`.ts` files run under tsx). */
  file: string;
  /** Its arguments; a function gives each child its own (e.g. `--device i`). */
  args: string[] | ((index: number) => string[]);
  /** Added to the parent's environment; each child also gets `NBM_LOCAL_WORKER_INDEX`. */
  env?: NodeJS.ProcessEnv;
  /** Node options before the script; default: `--import tsx` for a `.ts` file, none otherwise. */
  execArgv?: string[];
  /** The children's stdout/stderr: inherited (default) or piped (read them from `children[i]`). */
  stdio?: 'inherit' | 'pipe';
}

/** A group of local worker processes. */
export interface LocalWorkerGroup {
  readonly children: ChildProcess[];
  /** Sends `signal` (default SIGTERM) to child `i`, if it is still running. */
  kill(i: number, signal?: NodeJS.Signals): void;
  /** Sends `signal` (default SIGKILL) to every child still running. */
  killAll(signal?: NodeJS.Signals): void;
  /** Resolves when every child has exited. */
  readonly exited: Promise<void>;
  /** Waits up to `graceMs` for the children to exit by themselves (after a shutdown), then kills the rest and waits for them. */
  stop(graceMs?: number): Promise<void>;
  /** Each child's exit, once known: its code, or the signal that ended it. */
  readonly exits: Array<{ code: number | null; signal: NodeJS.Signals | null } | undefined>;
}

/** Resolved once: the tsx loader's URL, so the children find it whatever their working directory. */
let tsxLoader: string | undefined;
function defaultExecArgv(file: string): string[] {
  if (!/\.[cm]?ts$/.test(file)) return [];
  // createRequire rather than import.meta.resolve, which is missing when this module is itself transpiled to CommonJS
  tsxLoader ??= pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return ['--import', tsxLoader];
}

/** Spawns `n` worker processes running `command`. */
export function spawnLocalWorkers(n: number, command: WorkerCommand): LocalWorkerGroup {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`spawnLocalWorkers: n must be a positive integer, got ${n}`);
  if (typeof command?.file !== 'string' || command.file === '') throw new TypeError('spawnLocalWorkers: command.file must be the worker script');
  const execArgv = command.execArgv ?? defaultExecArgv(command.file);
  const exits: LocalWorkerGroup['exits'] = new Array(n).fill(undefined);
  const children: ChildProcess[] = [];
  const endings: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const args = typeof command.args === 'function' ? command.args(i) : command.args;
    const child = spawn(process.execPath, [...execArgv, command.file, ...args], {
      env: { ...process.env, ...command.env, NBM_LOCAL_WORKER_INDEX: String(i) },
      stdio: command.stdio === 'pipe' ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    });
    children.push(child);
    endings.push(
      new Promise<void>((resolve) => {
        child.once('exit', (code, signal) => {
          exits[i] = { code, signal };
          resolve();
        });
        // a spawn failure emits 'error' and maybe no 'exit'
        child.once('error', () => {
          exits[i] ??= { code: null, signal: null };
          resolve();
        });
      }),
    );
  }
  const running = (i: number): boolean => exits[i] === undefined && children[i].exitCode === null && children[i].signalCode === null;
  const kill = (i: number, signal: NodeJS.Signals = 'SIGTERM'): void => {
    if (i < 0 || i >= n) throw new RangeError(`kill: no worker ${i} (there are ${n})`);
    if (running(i)) children[i].kill(signal);
  };
  const killAll = (signal: NodeJS.Signals = 'SIGKILL'): void => {
    for (let i = 0; i < n; i++) if (running(i)) children[i].kill(signal);
  };
  const onParentExit = (): void => killAll('SIGKILL');
  process.on('exit', onParentExit);
  const exited = Promise.all(endings).then(() => {
    process.off('exit', onParentExit);
  });
  const stop = async (graceMs = 5_000): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    killAll('SIGKILL');
    await exited;
  };
  return { children, kill, killAll, exited, stop, exits };
}
