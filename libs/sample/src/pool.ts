/**
 * Sampling on a pool of worker processes: the coordinator side. It spawns local workers (the nbm CLI's
 * `worker` command) and/or binds `listen` and waits for `expect` workers to join (remote `nbm worker --connect`),
 * loads the model into each, and hands out chunks; a worker that dies, disconnects or stops
 * heartbeating is dropped and its chunk goes to another (schedule.ts).
 */
import { randomBytes } from 'node:crypto';
import type { SampleBackendRequest } from './backend.ts';
import {
  CallTimeoutError,
  type Coordinator,
  type CoordinatorCurve,
  WorkerLostError,
  startWorkerPool,
  type WorkerCommand,
  type WorkerHandle,
} from '@nbm/runtime';
import type { Chunk } from './plan.ts';
import { WorkerGoneError, type ChunkWorker } from './schedule.ts';
import type { Sampler, SamplerModel } from './local.ts';
import { parameterTensorsOf, type SampleChunkCall, type SampleLoad, type SampleLoaded } from './worker-actor.ts';

export interface PoolOptions {
  /** local worker processes to spawn (0 or absent with `listen`: remote workers only) */
  readonly workers?: number;
  /** the coordinator's address for remote workers, e.g. tcp://0.0.0.0:5555 (default tcp://127.0.0.1:*); off loopback it needs `curve` */
  readonly listen?: string;
  /** workers to wait for before sampling, spawned ones included (default `workers`) */
  readonly expect?: number;
  /** CURVE keys of the coordinator (from `nbm keygen`); required for a non-loopback `listen` */
  readonly curve?: CoordinatorCurve;
  /** what each runs: the nbm CLI's `worker` command (its `--connect` and timing flags are added here) */
  readonly command?: WorkerCommand;
  /** heartbeat interval both ways, ms (default 1000) */
  readonly heartbeatMs?: number;
  /** a worker silent this long is lost, ms (default 10 000) */
  readonly timeoutMs?: number;
  /** how long to wait for the workers to start and register, ms (default 120 000) */
  readonly startTimeoutMs?: number;
  /** a chunk call that takes longer than this is abandoned and its worker dropped, ms (default 30 min) */
  readonly chunkTimeoutMs?: number;
  readonly log?: (line: string) => void;
  /** where the "listening on …" line goes, even when `log` is quiet (default `log`) */
  readonly announce?: (line: string) => void;
}

const describeWorker = (h: WorkerHandle) => `${h.id} (${h.info.host} pid ${h.info.pid})`;

/** One pool member as a ChunkWorker. */
class RemoteWorker implements ChunkWorker {
  readonly name: string;
  constructor(
    private readonly coordinator: Coordinator,
    readonly handle: WorkerHandle,
    private readonly job: string,
    private readonly ny: number,
    private readonly timeoutMs: number,
  ) {
    this.name = describeWorker(handle);
  }

  async run(chunk: Chunk, x: Float32Array): Promise<Float32Array> {
    const call: SampleChunkCall = { job: this.job, first: chunk.first, count: chunk.count };
    try {
      const r = await this.coordinator.call(this.handle.id, 'sampleChunk', [call], { x }, { timeoutMs: this.timeoutMs });
      const y = r.tensors.y;
      if (!(y instanceof Float32Array) || y.length !== chunk.count * this.ny) {
        throw new Error(`worker ${this.name} answered chunk ${chunk.index} without a float32 tensor y of (${chunk.count}, ${this.ny})`);
      }
      return y;
    } catch (e) {
      if (e instanceof CallTimeoutError) {
        this.coordinator.drop(this.handle.id, `no answer to chunk ${chunk.index} within ${this.timeoutMs} ms`);
        throw new WorkerGoneError(e.message);
      }
      if (e instanceof WorkerLostError) throw new WorkerGoneError(e.message);
      throw e;
    }
  }
}

/**
 * Starts `o.workers` local workers and/or waits for `o.expect` workers to join on `o.listen`, and loads the model
 * into each. The first worker resolves the backend
 * request (`auto` → a concrete one); the others are loaded with its answer, since the backend decides the bits.
 * @throws when the workers do not start in time or a load fails (everything started is shut down first)
 */
export async function startPool(o: PoolOptions, m: SamplerModel, backend: SampleBackendRequest): Promise<Sampler> {
  const log = o.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const job = `sample#${randomBytes(4).toString('hex')}`;
  const spawn = o.workers ?? 0;
  const expect = o.expect ?? spawn;
  if (!Number.isInteger(expect) || expect < 1) throw new Error(`a sampling pool needs at least one worker: spawn some or expect remote ones (got ${expect})`);
  const pool = await startWorkerPool({ job, listen: o.listen, curve: o.curve, heartbeatMs: o.heartbeatMs ?? 1000, timeoutMs: o.timeoutMs ?? 10_000, spawn, command: o.command, log });
  // the workers hold nothing worth a grace period once sampling is over
  const close = () => pool.close('sampling finished', 0);
  try {
    if (o.listen !== undefined) (o.announce ?? log)(pool.announcement(expect));
    const handles = await pool.waitForWorkers(expect, o.startTimeoutMs ?? (o.listen !== undefined ? 300_000 : 120_000));
    const { coordinator } = pool;
    const tensors = parameterTensorsOf(m.params);
    const load = (h: WorkerHandle, request: SampleBackendRequest) =>
      coordinator.call(h.id, 'sampleLoad', [{ job, model: m.model, hash: m.hash, settings: m.settings, backend: request } satisfies SampleLoad], tensors, { timeoutMs: 300_000 });
    const first = (await load(handles[0], backend)).value as SampleLoaded;
    const rest = (await Promise.all(handles.slice(1).map((h) => load(h, first.backend as SampleBackendRequest)))).map((r) => r.value as SampleLoaded);
    const odd = rest.find((r) => r.backend !== first.backend || r.device !== first.device);
    if (odd) throw new Error(`workers disagree on the backend (${first.backend}${first.device ? ` on ${first.device}` : ''} and ${odd.backend}${odd.device ? ` on ${odd.device}` : ''}): their samples would differ`);
    log(`sampling on ${handles.length} worker(s): ${handles.map(describeWorker).join(', ')}; backend ${first.backend} (${first.reason})`);
    const chunkTimeoutMs = o.chunkTimeoutMs ?? 30 * 60_000;
    return {
      workers: handles.map((h) => new RemoteWorker(coordinator, h, job, m.model.ny, chunkTimeoutMs)),
      backend: { name: first.backend, reason: first.reason },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
