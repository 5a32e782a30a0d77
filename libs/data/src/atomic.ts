/** Low-level file primitives of the streaming .npy writer (whole-file atomic writes: @nbm/checkpoint). */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';

/** Writes all of `bytes` to `fd` at `position`, looping over short writes. */
export function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, bytes.length - done, position + done);
  }
}

/** fsyncs a directory so that a rename inside it survives a crash (a no-op where directories cannot be opened). */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows and some file systems refuse to open or fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
