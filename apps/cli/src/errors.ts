import { BackendUnavailableError } from '@nbm/backend';
import { CheckpointError, LockedError } from '@nbm/checkpoint';
import { DataFileError } from '@nbm/data';
import { EvalError } from '@nbm/evaluate';
import { InfraOptionError } from '@nbm/launch';
import { RunDirError } from '@nbm/run';
import { InsecureEndpointError, KeyFileError, RegistrationRefusedError, WaitTimeoutError } from '@nbm/runtime';
import { SampleError } from '@nbm/sample';
import { SchedulerError, SpaceError, SweepDirError, SweepError } from '@nbm/sweep';
import { ConfigError, TrainingDivergedError } from '@nbm/train';
import { GpuDeviceLostError, GpuLimitError, GpuUnavailableError } from '@nbm/webgpu';

/** A user error: printed as one line without a stack trace, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Errors a user causes (flags, files, directories, keys, addresses, checkpoints) or meets (no GPU, a GPU too small
 * or lost): one line, never a stack.
 */
const USER_ERRORS = [
  UsageError, ConfigError, RunDirError, DataFileError, CheckpointError, EvalError, SampleError, SpaceError, SchedulerError, SweepError,
  SweepDirError, LockedError, InfraOptionError, KeyFileError, InsecureEndpointError, RegistrationRefusedError, WaitTimeoutError,
  TrainingDivergedError, GpuUnavailableError, GpuLimitError, GpuDeviceLostError, BackendUnavailableError,
];

/** A file-system error on a path the user named (ENOENT, EACCES, …): also the user's to fix. */
function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

export function isUserError(e: unknown): boolean {
  return USER_ERRORS.some((c) => e instanceof c) || isSystemError(e);
}

/**
 * The one line a failed command prints: `nbm <command>: <what is wrong, and what to do>`. An internal error
 * (a bug) says so; its stack is printed only with NBM_DEBUG=1.
 */
export function errorLine(command: string, e: unknown, debug: boolean): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const message = err.message.replace(/^nbm \w+: /, '').replace(/\s*\n\s*/g, ' ');
  if (debug) return `nbm ${command}: ${err.stack ?? message}`;
  if (isUserError(e)) return `nbm ${command}: ${message}`;
  return `nbm ${command}: internal error: ${message} (run again with NBM_DEBUG=1 for the stack trace, and report it)`;
}

/** 2 for bad usage (flags, arguments), 1 for everything else. */
export function exitCodeOf(e: unknown): number {
  return e instanceof UsageError ? 2 : 1;
}
