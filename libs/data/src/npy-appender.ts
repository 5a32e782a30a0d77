import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataFileError, fileSystemError } from './errors.ts';
import {
  DESCR_OF,
  GROWTH_DIGITS,
  encodeNpyHeader,
  encodeNpyHeaderOfLength,
  parseDescr,
  parseNpyHeader,
  shapeRepr,
} from './npy-format.ts';
import { fsyncDirectory, writeFully } from './atomic.ts';

/** Options of `NpyAppender.open`. */
export interface NpyAppenderOptions {
  /** values per row: the file's shape is (rows, width) */
  readonly width: number;
  /** element type, 'float32' by default */
  readonly dtype?: 'float32' | 'uint8';
  /**
   * Continue `<path>.partial` if it exists (its last incomplete row, if any, is cut off); start afresh if it
   * does not. Refused if `<path>` is already complete. Default false: a leftover `.partial` is an error.
   */
  readonly resume?: boolean;
  /** Replace an existing complete `<path>` when it is closed (default false: an existing `<path>` is an error). */
  readonly overwrite?: boolean;
}

/**
 * Streams rows into a 2-D `.npy` file too large to hold in memory (bulk samples), safely:
 *
 * - Rows go to `<path>.partial`; only `close()` renames it to `<path>`, so an interrupted run never leaves a file
 *   that looks complete.
 * - The header reserves room for a 21-digit row count (as numpy's own growable headers do), so the real count is
 *   rewritten in place by `sync()` and `close()` without moving the data.
 * - `sync()` makes the `.partial` a valid `.npy` of the rows so far and fsyncs it.
 * - Reopening with `resume: true` continues a `.partial`: it counts the whole rows present from the file's size
 *   (not from its possibly stale header) and truncates any trailing partial row.
 *
 * One process appends to a file at a time (creating the `.partial` is exclusive).
 */
export class NpyAppender {
  /** the final path */
  readonly path: string;
  /** where rows are written until `close()` */
  readonly partialPath: string;
  readonly width: number;
  readonly dtype: 'float32' | 'uint8';
  private fd: number | undefined;
  private readonly headerLength: number;
  private readonly headerMajor: number;
  private readonly rowBytes: number;
  private readonly overwrite: boolean;
  private count: number;

  private constructor(path: string, o: { fd: number; width: number; dtype: 'float32' | 'uint8'; headerLength: number; headerMajor: number; rows: number; overwrite: boolean }) {
    this.path = path;
    this.partialPath = `${path}.partial`;
    this.fd = o.fd;
    this.width = o.width;
    this.dtype = o.dtype;
    this.headerLength = o.headerLength;
    this.headerMajor = o.headerMajor;
    this.rowBytes = o.width * (o.dtype === 'float32' ? 4 : 1);
    this.count = o.rows;
    this.overwrite = o.overwrite;
  }

  /**
   * Opens `<path>.partial` for appending rows of `width` values.
   * @throws DataFileError if `<path>` exists (unless `overwrite`; with `resume` it means the job is done), if a
   *   `.partial` is left over and `resume` is not set, or if a resumed `.partial` has another dtype or width.
   */
  static open(path: string, options: NpyAppenderOptions): NpyAppender {
    const { width, dtype = 'float32', resume = false, overwrite = false } = options;
    if (!Number.isSafeInteger(width) || width < 1) throw new DataFileError(path, `row width must be a positive integer, got ${width}`);
    if (dtype !== 'float32' && dtype !== 'uint8') throw new DataFileError(path, `dtype must be 'float32' or 'uint8', got '${String(dtype)}'`);
    const partial = `${path}.partial`;
    const hasPartial = existsSync(partial);
    if (existsSync(path) && !overwrite) {
      throw new DataFileError(path, resume ? 'is already complete: nothing to resume' : 'already exists (pass overwrite: true to replace it)');
    }
    if (hasPartial && resume) return NpyAppender.reopen(path, width, dtype, overwrite);
    if (hasPartial) {
      throw new DataFileError(partial, 'is left over from an interrupted run: resume it (resume: true) or delete it');
    }
    const header = encodeNpyHeader(DESCR_OF[dtype], [0, width], GROWTH_DIGITS);
    let fd: number;
    try {
      fd = openSync(partial, 'wx');
    } catch (e) {
      throw fileSystemError(partial, 'create', e);
    }
    writeFully(fd, header, 0);
    return new NpyAppender(path, { fd, width, dtype, headerLength: header.length, headerMajor: header[6], rows: 0, overwrite });
  }

  private static reopen(path: string, width: number, dtype: 'float32' | 'uint8', overwrite: boolean): NpyAppender {
    const partial = `${path}.partial`;
    let fd: number;
    try {
      fd = openSync(partial, 'r+');
    } catch (e) {
      throw fileSystemError(partial, 'open for resuming', e);
    }
    try {
      const size = fstatSync(fd).size;
      const head = new Uint8Array(Math.min(size, 4096));
      readSync(fd, head, 0, head.length, 0);
      const header = parseNpyHeader(partial, head);
      if ('needed' in header) throw new DataFileError(partial, `cannot resume: the header (${header.needed} bytes) is incomplete`);
      const stored = parseDescr(header.descr);
      const sameType =
        stored !== undefined &&
        (dtype === 'float32' ? stored.kind === 'f' && stored.size === 4 && stored.littleEndian : stored.kind === 'u' && stored.size === 1);
      if (!sameType) {
        throw new DataFileError(partial, `cannot resume: it holds '${header.descr}' values, this writer writes '${DESCR_OF[dtype]}'`);
      }
      if (header.fortranOrder) throw new DataFileError(partial, 'cannot resume: it is in Fortran order');
      if (header.shape.length !== 2 || header.shape[1] !== width) {
        throw new DataFileError(partial, `cannot resume: its shape ${shapeRepr(header.shape)} does not have rows of width ${width}`);
      }
      const rowBytes = width * (dtype === 'float32' ? 4 : 1);
      const rows = Math.floor((size - header.dataOffset) / rowBytes);
      ftruncateSync(fd, header.dataOffset + rows * rowBytes);
      const appender = new NpyAppender(path, { fd, width, dtype, headerLength: header.dataOffset, headerMajor: header.version[0], rows, overwrite });
      appender.writeHeader();
      return appender;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Whole rows written so far. */
  get rows(): number {
    return this.count;
  }

  /**
   * Appends whole rows.
   * @param rows (m, width) in C order, m ≥ 0; a Float32Array for a float32 file, a Uint8Array for a uint8 file
   */
  append(rows: Float32Array | Uint8Array): void {
    const fd = this.openFd('append to');
    const want = this.dtype === 'float32' ? Float32Array : Uint8Array;
    if (!(rows instanceof want)) throw new DataFileError(this.partialPath, `append takes a ${want.name} for a ${this.dtype} file`);
    if (rows.length % this.width !== 0) {
      throw new DataFileError(this.partialPath, `append got ${rows.length} values, not a whole number of rows of width ${this.width}`);
    }
    const bytes = new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength);
    writeFully(fd, bytes, this.headerLength + this.count * this.rowBytes);
    this.count += rows.length / this.width;
  }

  /** Rewrites the header with the current row count and fsyncs: the `.partial` is then a valid `.npy`. */
  sync(): void {
    const fd = this.openFd('sync');
    this.writeHeader();
    fsyncSync(fd);
  }

  /** Syncs, closes and renames `<path>.partial` to `<path>`. Afterwards nothing more can be appended. */
  close(): void {
    this.sync();
    const fd = this.openFd('close');
    this.fd = undefined;
    closeSync(fd);
    if (existsSync(this.path) && !this.overwrite) {
      throw new DataFileError(this.path, `appeared while writing; the rows are kept in ${this.partialPath}`);
    }
    renameSync(this.partialPath, this.path);
    fsyncDirectory(dirname(this.path));
  }

  private writeHeader(): void {
    let header: Uint8Array;
    try {
      header = encodeNpyHeaderOfLength(DESCR_OF[this.dtype], [this.count, this.width], this.headerLength, this.headerMajor);
    } catch (e) {
      throw new DataFileError(this.partialPath, `its header has no room for ${this.count} rows: ${(e as Error).message}`, { cause: e });
    }
    writeFully(this.openFd('write the header of'), header, 0);
  }

  private openFd(action: string): number {
    if (this.fd === undefined) throw new DataFileError(this.path, `cannot ${action} it: the appender is closed`);
    return this.fd;
  }
}
