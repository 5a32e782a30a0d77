import { existsSync } from 'node:fs';
import { NpyAppender } from '@nbm/data';

/**
 * One streamed `.npy` output of a job: rows go to `<path>.partial` (NpyAppender) and the file gets its final name
 * only when every row is in. A file already complete on disk (a resume that stopped after renaming it) takes no
 * more rows.
 */
class RowFile {
  private constructor(
    readonly path: string,
    private readonly appender: NpyAppender | undefined,
    private readonly total: number,
  ) {}

  /** Opens `path` for a job of `total` rows of `width` values; with `resume`, continues its `.partial`. */
  static open(path: string, width: number, total: number, resume: boolean): RowFile {
    if (resume && existsSync(path) && !existsSync(`${path}.partial`)) return new RowFile(path, undefined, total);
    return new RowFile(path, NpyAppender.open(path, { width, resume }), total);
  }

  /** whole rows on disk */
  get rows(): number {
    return this.appender ? this.appender.rows : this.total;
  }

  /**
   * Appends the rows of [first, first + m) this file does not have yet.
   * @param values (m, width)
   * @throws Error if the rows would leave a gap (first is past the rows on disk)
   */
  write(first: number, values: Float32Array, width: number): void {
    if (!this.appender) return;
    const have = this.appender.rows;
    const m = values.length / width;
    if (first > have) throw new Error(`${this.path}: rows from ${first} would leave a gap after row ${have}`);
    if (first + m <= have) return;
    this.appender.append(values.subarray((have - first) * width));
  }

  sync(): void {
    this.appender?.sync();
  }

  close(): void {
    if (this.appender && this.appender.rows !== this.total) {
      throw new Error(`${this.path}: ${this.appender.rows} rows written, the job has ${this.total}; left as ${this.path}.partial`);
    }
    this.appender?.close();
  }
}

/** Where a job's two arrays go. */
export interface OutputPaths {
  /** samples.npy: float32 (count, ny) */
  readonly samples: string;
  /** contexts.npy: float32 (count, nx), the x of each row of samples.npy */
  readonly contexts: string;
}

/**
 * The job's `samples.npy` and `contexts.npy`, written together in row order. The two may hold different numbers
 * of rows after a kill (one was appended, the other not yet); each takes only the rows it lacks, so a resume
 * starts from {@link rowsDone}, the smaller count.
 */
export class SampleOutput {
  private lastSync = performance.now();

  private constructor(
    private readonly samples: RowFile,
    private readonly contexts: RowFile,
    private readonly ny: number,
    private readonly nx: number,
    private readonly syncEveryMs: number,
  ) {}

  /**
   * Opens both files for a job of `total` rows.
   * @param syncEveryMs how often (at most) the `.partial` headers are rewritten and fsynced (default 2000)
   * @throws DataFileError if a final file exists (fresh run) or a `.partial` is in the way or does not fit (resume)
   */
  static open(paths: OutputPaths, o: { nx: number; ny: number; total: number; resume: boolean; syncEveryMs?: number }): SampleOutput {
    const samples = RowFile.open(paths.samples, o.ny, o.total, o.resume);
    const contexts = RowFile.open(paths.contexts, o.nx, o.total, o.resume);
    return new SampleOutput(samples, contexts, o.ny, o.nx, o.syncEveryMs ?? 2000);
  }

  /** rows present in both files: where the work resumes */
  get rowsDone(): number {
    return Math.min(this.samples.rows, this.contexts.rows);
  }

  /**
   * Writes rows [first, first + m) of both arrays (rows either file already has are skipped).
   * @param y (m, ny) samples; x (m, nx) their contexts
   */
  write(first: number, y: Float32Array, x: Float32Array): void {
    this.contexts.write(first, x, this.nx);
    this.samples.write(first, y, this.ny);
    if (performance.now() - this.lastSync >= this.syncEveryMs) {
      this.samples.sync();
      this.contexts.sync();
      this.lastSync = performance.now();
    }
  }

  /** Checks that every row is in, then gives both files their final names. */
  close(): void {
    this.samples.close();
    this.contexts.close();
  }
}
