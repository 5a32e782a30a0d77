/**
 * What went wrong with a checkpoint file:
 * - `corrupt`: the bytes on disk are not a valid (or not an intact) file;
 * - `mismatch`: the file is intact but does not fit what the caller expected (shapes, names, format);
 * - `invalid`: the caller asked to write something that cannot be written.
 */
export type CheckpointErrorKind = 'corrupt' | 'mismatch' | 'invalid';

/** An error about one checkpoint file; `path` names the file, `kind` the class of problem. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly path: string,
    readonly kind: CheckpointErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** `checkpoint <path> is corrupt: <problem>` */
export function corrupt(path: string, problem: string): CheckpointError {
  return new CheckpointError(path, 'corrupt', `checkpoint ${path} is corrupt: ${problem}`);
}

/** `checkpoint <path>: <problem>` */
export function mismatch(path: string, problem: string): CheckpointError {
  return new CheckpointError(path, 'mismatch', `checkpoint ${path}: ${problem}`);
}

/** `cannot write checkpoint <path>: <problem>` */
export function invalid(path: string, problem: string): CheckpointError {
  return new CheckpointError(path, 'invalid', `cannot write checkpoint ${path}: ${problem}`);
}

/** A shape as the error messages print it: `[32,10]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
