import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Atomic file replacement (docs/architecture.md, invariant 4: nothing lost): the content goes to a temporary file in the target's directory,
 * which is fsynced, renamed over the target, and then the directory is fsynced. A reader sees either the old file
 * or the complete new one, never a half-written file; on any failure the temporary file is removed and the target
 * is left as it was.
 *
 * Temporary files are named `.<target name>.<pid>.<random>.tmp`, so a crash between open and rename leaves at
 * most such a hidden file beside the target (see {@link isAtomicTempName}).
 */

/** Whether `fileName` (a base name) is a temporary file this module creates. */
export function isAtomicTempName(fileName: string): boolean {
  return /^\..+\.\d+\.[0-9a-f]{12}\.tmp$/.test(fileName);
}

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

function describe(path: string, err: unknown): Error {
  const reason = err instanceof Error ? err.message : String(err);
  return new Error(`cannot write ${path}: ${reason}`, { cause: err });
}

/** Errors that mean "this platform or file system cannot fsync a directory", which we tolerate. */
function isDirSyncUnsupported(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EISDIR' || code === 'EINVAL' || code === 'EPERM' || code === 'ENOTSUP' || code === 'EBADF';
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!isDirSyncUnsupported(err)) throw err;
  } finally {
    await handle?.close();
  }
}

/**
 * Replaces `path` atomically with whatever `write` writes to the handle it is given (a new, empty temporary file).
 * If `write` throws, the target is untouched and the error is rethrown as `cannot write <path>: <reason>`.
 */
export async function atomicWriteWith(path: string, write: (file: FileHandle) => Promise<void>): Promise<void> {
  const temp = tempPathFor(path);
  let handle: FileHandle | undefined;
  let renamed = false;
  try {
    handle = await open(temp, 'wx');
    await write(handle);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
    renamed = true;
    await syncDirectory(dirname(path));
  } catch (err) {
    if (handle) await handle.close().catch(() => undefined);
    if (!renamed) await unlink(temp).catch(() => undefined);
    throw describe(path, err);
  }
}

/** Replaces `path` atomically with `data` (a string is written as UTF-8). */
export async function atomicWriteFile(path: string, data: Uint8Array | string): Promise<void> {
  await atomicWriteWith(path, async (file) => {
    await file.writeFile(data);
  });
}

/** The synchronous form of {@link atomicWriteFile}, for command-line code that has no event loop to keep free. */
export function atomicWriteFileSync(path: string, data: Uint8Array | string): void {
  const temp = tempPathFor(path);
  let fd: number | undefined;
  let renamed = false;
  try {
    fd = fs.openSync(temp, 'wx');
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temp, path);
    renamed = true;
    let dirFd: number | undefined;
    try {
      dirFd = fs.openSync(dirname(path), 'r');
      fs.fsyncSync(dirFd);
    } catch (err) {
      if (!isDirSyncUnsupported(err)) throw err;
    } finally {
      if (dirFd !== undefined) fs.closeSync(dirFd);
    }
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    if (!renamed) {
      try {
        fs.unlinkSync(temp);
      } catch {
        // the temporary file may never have been created
      }
    }
    throw describe(path, err);
  }
}
