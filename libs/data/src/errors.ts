/**
 * The one error type of @nbm/data: a data file (or a data request) that cannot be used.
 * The message always names the file and the problem, e.g.
 * `data/x.npy: truncated: the header promises 3136 bytes of data, the file holds 3000`.
 */
export class DataFileError extends Error {
  /** The file concerned (as given by the caller), or a dataset name for requests that involve no single file. */
  readonly file: string;
  /** The problem alone, without the file name. */
  readonly problem: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.name = 'DataFileError';
    this.file = file;
    this.problem = problem;
  }
}

/** Errno code of a Node system error, if any. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/** Rewraps a file-system error (ENOENT, EACCES, …) as a DataFileError that names the file. */
export function fileSystemError(file: string, action: string, e: unknown): DataFileError {
  const code = errnoCode(e);
  if (code === 'ENOENT') return new DataFileError(file, `cannot ${action}: no such file`, { cause: e });
  const reason = e instanceof Error ? e.message : String(e);
  return new DataFileError(file, `cannot ${action}: ${code ?? reason}`, { cause: e });
}
