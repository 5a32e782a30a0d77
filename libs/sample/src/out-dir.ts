/**
 * A sampling job on disk:
 * ```
 * OUT/samples.npy         float32 (count, ny)   ─┐ written as .partial until every row is in
 * OUT/contexts.npy        float32 (count, nx)   ─┘
 * OUT/sample.json.partial the request, while the job is unfinished (what --resume reads)
 * OUT/grid.png            first samples of each class (paper Fig. 1/2), image data with class contexts only
 * OUT/components.png      sample, bias, 1/precision, mean weights per class (Fig. 3/4), likewise
 * OUT/sample.json         the request, counts, seconds, samples/s: written last, it marks the job complete
 * ```
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { DIR_LOCK } from '@nbm/checkpoint';
import type { SampleRequest } from './request.ts';
import { SampleError } from './errors.ts';

export const SAMPLE_FORMAT = 'nbm-sample/1';

export const outPaths = (dir: string) => ({
  samples: join(dir, 'samples.npy'),
  contexts: join(dir, 'contexts.npy'),
  grid: join(dir, 'grid.png'),
  components: join(dir, 'components.png'),
  manifest: join(dir, 'sample.json'),
  partialManifest: join(dir, 'sample.json.partial'),
});

/** sample.json.partial: the request of an unfinished job. */
export interface PartialManifest {
  readonly format: string;
  readonly status: 'running';
  readonly request: SampleRequest;
  readonly startedAt: string;
}

/** Refuses an --out that holds anything (a fresh job never mixes with other files). */
export function checkFreshOut(dir: string): void {
  if (!existsSync(dir)) return;
  const entries = readdirSync(dir).filter((f) => f !== DIR_LOCK);
  if (entries.length === 0) return;
  if (entries.includes('sample.json.partial')) {
    throw new SampleError(`--out ${dir} holds an interrupted sampling job: finish it with --resume, or choose another --out`);
  }
  if (entries.includes('sample.json')) throw new SampleError(`--out ${dir} already holds a finished sampling job: choose another --out`);
  throw new SampleError(`--out ${dir} exists and is not empty: choose another --out`);
}

/** Reads the request of the unfinished job in `dir`. */
export function readPartialManifest(dir: string): PartialManifest {
  const file = outPaths(dir).partialManifest;
  if (!existsSync(file)) throw new SampleError(`--resume: ${dir} holds no unfinished sampling job (no sample.json.partial)`);
  let m: PartialManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as PartialManifest;
  } catch (e) {
    throw new SampleError(`--resume: ${file} does not parse (${(e as Error).message})`);
  }
  if (m?.format !== SAMPLE_FORMAT || typeof m.request !== 'object' || m.request === null) {
    throw new SampleError(`--resume: ${file} is not an ${SAMPLE_FORMAT} job record`);
  }
  return m;
}

/**
 * Reads rows [first, first + count) of a finished 2-D float32 .npy that this job wrote, whose row count and width
 * are known: the data are the file's last `total · width · 4` bytes, so no header parsing is needed.
 * @returns (count, width)
 */
export function readWrittenRows(path: string, total: number, width: number, first: number, count: number): Float32Array {
  const fd = openSync(path, 'r');
  try {
    const dataOffset = fstatSync(fd).size - total * width * 4;
    const magic = Buffer.alloc(6);
    readSync(fd, magic, 0, 6, 0);
    if (dataOffset < 10 || magic.toString('latin1') !== '\x93NUMPY') throw new Error(`${path}: not the .npy of ${total} rows of ${width} float32 this job wrote`);
    const out = new Float32Array(count * width);
    const bytes = new Uint8Array(out.buffer);
    let done = 0;
    while (done < bytes.length) {
      const got = readSync(fd, bytes, done, bytes.length - done, dataOffset + first * width * 4 + done);
      if (got === 0) throw new Error(`${path}: ended while reading row ${first + Math.floor(done / (width * 4))}`);
      done += got;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}
