/**
 * `nbm sample` as a library call: resolve the request (resolve.ts), start the sampler (this process or a pool of
 * workers), stream the rows to disk in order (draw.ts), draw the pictures, and mark the job complete. See
 * out-dir.ts for the files.
 *
 * Nothing is written before every input has been checked and the sampler has started; from then on an interrupted
 * job leaves only `.partial` files, which `resume` finishes.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { selectBackend } from '@nbm/backend';
import { atomicWriteFileSync, lockDirectory } from '@nbm/checkpoint';
import type { CoordinatorCurve, WorkerCommand } from '@nbm/runtime';
import { describeContexts } from './contexts.ts';
import { drawRows } from './draw.ts';
import { SampleError } from './errors.ts';
import { writeFigures } from './figures.ts';
import { startLocal, type Sampler } from './local.ts';
import { SAMPLE_FORMAT, checkFreshOut, outPaths, type PartialManifest } from './out-dir.ts';
import { SampleOutput } from './output.ts';
import { checkSizes, planChunks } from './plan.ts';
import { startPool } from './pool.ts';
import { SampleProgress } from './progress.ts';
import { DEFAULT_CHUNK, type SampleRequest, type SampleSpec } from './request.ts';
import { resolveFresh, resolveResume, type ResolvedJob } from './resolve.ts';

/** How a job runs: none of this changes the bits of its output. */
export interface SampleJobOptions {
  /** the job's directory */
  readonly out: string;
  /** finish the unfinished job in `out` (the spec's flags are then optional and must agree with it) */
  readonly resume?: boolean;
  /** rows per unit of work and of writing (a multiple of the block size; default 1000) */
  readonly chunk?: number;
  /** sample on this many spawned local workers running `workerCommand` (default: in this process) */
  readonly workers?: number;
  /** the command that starts a worker: the nbm CLI's `worker` (required with `workers`) */
  readonly workerCommand?: WorkerCommand;
  /** bind this address for remote workers (`nbm worker --connect`); off loopback it needs `curve` */
  readonly listen?: string;
  /** workers to wait for, spawned ones included (default `workers`; required with `listen` alone) */
  readonly expect?: number;
  /** the coordinator's CURVE keys (from `nbm keygen`) */
  readonly curve?: CoordinatorCurve;
  /** how long to wait for the expected workers, ms */
  readonly startTimeoutMs?: number;
  readonly heartbeatMs?: number;
  readonly timeoutMs?: number;
  /** chunks in flight or waiting to be written at once (default 2 per worker, at least 2) */
  readonly window?: number;
  /** write grid.png and components.png when the data are images with class contexts (default true) */
  readonly pictures?: boolean;
  readonly quiet?: boolean;
  /** where progress and log lines go (default stderr) */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** sample.json: the request and what running it took. */
export interface SampleManifest {
  readonly format: string;
  readonly status: 'complete';
  readonly request: SampleRequest;
  readonly files: { samples: string; contexts: string; grid?: string; components?: string };
  readonly shapes: { samples: [number, number]; contexts: [number, number] };
  readonly dtype: 'float32';
  /** rows drawn by the session that finished the job (all of them unless it was a resume) */
  readonly drawnThisSession: number;
  /** wall time of that session's sampling, from the first chunk to the last row written */
  readonly seconds: number;
  readonly samplesPerSecond: number;
  /** workers the session started with (1: this process) */
  readonly workers: number;
  /** of those, how many were lost on the way (their chunks were drawn by the others) */
  readonly workersLost: number;
  readonly chunk: number;
  readonly backendReason: string;
  readonly resumed: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
}

export type SampleJobResult = { readonly status: 'complete'; readonly manifest: SampleManifest } | { readonly status: 'already-complete'; readonly dir: string };

/** Rows of one worker reply must fit a message (64 MiB of tensor data by default). */
const MAX_REPLY_BYTES = 48 * 1024 * 1024;

/** Checks the options that decide how the job runs; throws SampleError naming the flag. */
function checkExecution(r: ResolvedJob, o: SampleJobOptions, chunk: number): void {
  checkSizes(r.contexts.count, chunk, r.settings.blockSize);
  if (!onPool(o)) return;
  if (o.workers !== undefined && (!Number.isSafeInteger(o.workers) || o.workers < (o.listen !== undefined ? 0 : 1))) {
    throw new SampleError(`--workers must be a positive integer, got ${o.workers}`);
  }
  const expect = o.expect ?? o.workers;
  if (expect === undefined || !Number.isSafeInteger(expect) || expect < 1) throw new SampleError('--listen needs --expect N: how many workers to wait for');
  if ((o.workers ?? 0) > 0 && !o.workerCommand) throw new SampleError('sampling on workers needs the command that starts one');
  const ny = r.loaded.model.ny;
  if (chunk * ny * 4 > MAX_REPLY_BYTES) {
    throw new SampleError(`--chunk ${chunk}: a worker's reply of ${chunk} × ${ny} float32 exceeds ${MAX_REPLY_BYTES >> 20} MiB; use a smaller --chunk`);
  }
}

/** Whether the job runs on a worker pool (spawned and/or remote workers) rather than in this process. */
const onPool = (o: SampleJobOptions) => o.workers !== undefined || o.listen !== undefined;

/** Starts the workers: a pool of processes with `workers` and/or `listen`, else this process. */
function startSampler(r: ResolvedJob, o: SampleJobOptions, log: (line: string) => void): Promise<Sampler> {
  const m = { model: r.loaded.model, params: r.loaded.params, hash: r.loaded.hash, settings: r.settings };
  if (!onPool(o)) return startLocal(m, r.backend);
  return startPool(
    {
      workers: o.workers,
      listen: o.listen,
      expect: o.expect,
      curve: o.curve,
      command: o.workerCommand,
      heartbeatMs: o.heartbeatMs,
      timeoutMs: o.timeoutMs,
      startTimeoutMs: o.startTimeoutMs,
      log,
      announce: (line) => (o.stream ?? process.stderr).write(line + '\n'),
    },
    m,
    r.backend,
  );
}

/** grid.png and components.png, for image data with class contexts; returns their names for sample.json. */
async function pictures(r: ResolvedJob, o: SampleJobOptions, paths: ReturnType<typeof outPaths>): Promise<{ grid?: string; components?: string }> {
  const { loaded, contexts, settings } = r;
  if (o.pictures === false || !loaded.imageShape || contexts.spec.kind !== 'classes') return {};
  if (onPool(o)) await selectBackend('cpu'); // μ, P, W for components.png: any backend will do
  const title = `k = ${settings.gibbsSteps}, seed ${settings.seed}${settings.denoise ? ', denoised' : ''}`;
  const { classes, perClass } = contexts.spec;
  writeFigures({ model: loaded.model, params: loaded.params, imageShape: loaded.imageShape, classes, perClass, samplesFile: paths.samples, title }, paths);
  return { grid: 'grid.png', components: 'components.png' };
}

/**
 * Runs (or, with `resume`, finishes) a sampling job. Output bits depend only on the request (checkpoint, contexts,
 * k, seed, denoise, block size, backend), never on `chunk`, `workers` or interruptions.
 * @throws SampleError / DataFileError / CheckpointError for bad input (nothing is written then); other errors
 *   after the start leave the job resumable
 */
export async function runSampleJob(spec: SampleSpec, o: SampleJobOptions): Promise<SampleJobResult> {
  const paths = outPaths(o.out);
  if (o.resume && existsSync(paths.manifest)) {
    rmSync(paths.partialManifest, { force: true }); // a job killed between its last two steps
    return { status: 'already-complete', dir: o.out };
  }
  if (!o.resume) checkFreshOut(o.out);
  // everything is checked before the lock is taken: a refused request leaves the directory as it was
  const r = o.resume ? await resolveResume(spec, o.out) : await resolveFresh(spec);
  checkExecution(r, o, o.chunk ?? DEFAULT_CHUNK);
  const lock = await lockDirectory(o.out, `another nbm process is sampling into ${o.out}: let it finish or stop it, or choose another --out`);
  try {
    return await runLocked(r, o);
  } finally {
    lock.release();
  }
}

/** The job itself, as the one writer of `o.out`. */
async function runLocked(r: ResolvedJob, o: SampleJobOptions): Promise<SampleJobResult> {
  const paths = outPaths(o.out);
  const { loaded, contexts, settings } = r;
  const total = contexts.count;
  const chunk = o.chunk ?? DEFAULT_CHUNK;
  const stream = o.stream ?? process.stderr;
  let say = (line: string) => {
    if (!o.quiet) stream.write(line + '\n');
  };
  const sampler = await startSampler(r, o, (line) => say(line));
  try {
    const request: SampleRequest = {
      checkpoint: loaded.file,
      modelHash: loaded.hash,
      model: loaded.model,
      contexts: contexts.spec,
      count: total,
      ...settings,
      backend: sampler.backend.name,
    };
    if (r.recorded && r.recorded.request.backend !== request.backend) {
      throw new SampleError(`--resume: the job was drawn on backend ${r.recorded.request.backend} but ${request.backend} is active: its rows would differ`);
    }
    const startedAt = r.recorded?.startedAt ?? new Date().toISOString();
    if (!r.recorded) {
      mkdirSync(o.out, { recursive: true });
      const partial: PartialManifest = { format: SAMPLE_FORMAT, status: 'running', request, startedAt };
      atomicWriteFileSync(paths.partialManifest, JSON.stringify(partial, null, 2) + '\n');
    }
    const output = SampleOutput.open(paths, { nx: loaded.model.nx, ny: loaded.model.ny, total, resume: Boolean(o.resume) });
    const from = output.rowsDone;
    const progress = new SampleProgress(total, from, stream, o.quiet);
    say = (line) => progress.log(line);
    say(
      `sampling ${describeContexts(contexts.spec)} = ${total} rows from ${loaded.file} (k = ${settings.gibbsSteps}, seed ${settings.seed}` +
        `${settings.denoise ? ', denoised' : ''}) on ${sampler.backend.name}${from > 0 ? `; resuming at row ${from}` : ''}`,
    );
    const { seconds, lost } = await drawRows(planChunks(from, total, chunk, settings.blockSize), sampler, contexts, output, progress, o.window);
    output.close();
    const files = { samples: 'samples.npy', contexts: 'contexts.npy', ...(await pictures(r, o, paths)) };
    const drawn = total - from;
    const manifest: SampleManifest = {
      format: SAMPLE_FORMAT,
      status: 'complete',
      request,
      files,
      shapes: { samples: [total, loaded.model.ny], contexts: [total, loaded.model.nx] },
      dtype: 'float32',
      drawnThisSession: drawn,
      seconds,
      samplesPerSecond: drawn / Math.max(seconds, 1e-9),
      workers: sampler.workers.length,
      workersLost: lost,
      chunk,
      backendReason: sampler.backend.reason,
      resumed: Boolean(o.resume),
      startedAt,
      finishedAt: new Date().toISOString(),
    };
    atomicWriteFileSync(paths.manifest, JSON.stringify(manifest, null, 2) + '\n');
    rmSync(paths.partialManifest, { force: true });
    return { status: 'complete', manifest };
  } finally {
    await sampler.close();
  }
}
