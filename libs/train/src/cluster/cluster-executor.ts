/**
 * The coordinator's side of distributed training: it forms the ring, names each step's shards, and handles
 * failures by the policy in policy.ts. It never computes gradients.
 *
 * Two ways to get workers: `ClusterExecutor.factory` owns the pool (binds a coordinator, spawns local workers,
 * admits workers that join over the network at any step), as `nbm train --workers/--listen` does;
 * `ClusterExecutor.onWorkers` borrows a fixed group of an existing coordinator's workers and gives them back
 * on close, as a sweep's data-parallel trial does (the pool is shared, so its joins are not this run's).
 */
import { randomBytes } from 'node:crypto';
import { parameterSpecs } from '@nbm/model';
import { WorkerLostError, startWorkerPool, type CallResult, type Coordinator, type WorkerHandle } from '@nbm/runtime';
import type { Position, StepExecutor, StepOrder, StepReport } from '../executor.ts';
import type { BatchMetrics } from '../metrics.ts';
import { shardBlocks } from '../plan.ts';
import type { TrainState } from '../state.ts';
import type { ExecutorFactory, Prepared } from '../trainer.ts';
import { fingerprint } from './fingerprint.ts';
import { decideFailure, type CallOutcome } from './policy.ts';
import { decodeState, encodeState, type StateMeta } from './state-codec.ts';
import { writePoolStatus, type MemberStatus } from '@nbm/run';
import type { StepCall, StepResult } from './worker-actor.ts';

export interface ClusterOptions {
  /** spawn this many local worker processes (`nbm worker`) */
  readonly spawn?: number;
  /** the command that starts a local worker: node file and leading args (the nbm CLI's `worker`) */
  readonly workerCommand?: { file: string; args: string[]; env?: NodeJS.ProcessEnv };
  /** coordinator endpoint (default tcp://127.0.0.1:*) */
  readonly listen?: string;
  /** workers to wait for before the first step (default: spawn) */
  readonly expect: number;
  /** CURVE keys (from `nbm keygen`); required for a non-loopback --listen */
  readonly curve?: { publicKey: string; secretKey: string; allowedClients: string[] };
  /** check that all replicas are bitwise equal every this many steps */
  readonly hashEvery: number;
  readonly heartbeatMs: number;
  readonly timeoutMs: number;
  /** how long to wait for the expected workers */
  readonly startTimeoutMs: number;
  /** the fewest workers the run may continue with */
  readonly minWorkers: number;
  /** GPUs to hand out to spawned workers, one each (CUDA_VISIBLE_DEVICES) */
  readonly gpus?: readonly string[];
}

/** The step-level settings of a run on borrowed workers ({@link ClusterExecutor.onWorkers}). */
export type GroupOptions = Pick<ClusterOptions, 'hashEvery' | 'timeoutMs' | 'minWorkers'>;

/** A group of an existing coordinator's workers, lent to one run. */
export interface BorrowedWorkers {
  readonly coordinator: Coordinator;
  /** the workers' ids; every one must be live and idle, and serve @nbm/train's trainingWorker methods */
  readonly workers: readonly string[];
}

/** Raised when replicas that must be identical are not: a bug, never a condition to continue from. */
export class ReplicaDivergenceError extends Error {
  constructor(step: number, hashes: Map<string, string>) {
    super(`replicas diverged at step ${step}: parameter hashes ${[...hashes.entries()].map(([id, h]) => `${id}=${h.slice(0, 12)}`).join(', ')}`);
    this.name = 'ReplicaDivergenceError';
  }
}

interface Member {
  readonly handle: WorkerHandle;
  /** tfjs backend and gradient engine the worker reported when configured */
  readonly backend: string;
  ringAddress?: string;
}

/** A step's calls on the members it was sent to. */
interface Launch {
  readonly order: StepOrder;
  readonly members: readonly Member[];
  readonly wantHash: boolean;
  readonly settled: Promise<PromiseSettledResult<CallResult>[]>;
  /** set when the coordinator stops it (dropAhead) */
  stopped: boolean;
}

const MAX_ATTEMPTS = 5;
/** status.json (what `nbm status` shows, last heartbeats included) is refreshed every this many steps */
const STATUS_EVERY = 10;

export class ClusterExecutor implements StepExecutor {
  readonly kind = 'cluster';
  private members: Member[] = [];
  private readonly joiners: WorkerHandle[] = [];
  private attempt = 0;
  /** the step launched before the loop asked for it (`step`'s `next`) */
  private ahead?: Launch;
  private ringDirty = true;
  /** the engine every replica must compute with (the first admitted worker's) */
  private compute?: string;
  private readonly expectedFingerprint: string;
  /** the coordinator events this executor listens to, removed on close (a shared coordinator outlives it) */
  private readonly listeners: Array<[event: 'join' | 'lost' | 'refused', fn: (...args: never[]) => void]> = [];

  private constructor(
    private readonly p: Prepared,
    private readonly coordinator: Coordinator,
    private readonly opts: GroupOptions,
    /** ends the run's hold on the workers: shuts an owned pool down, or only lets a borrowed group go */
    private readonly release: () => Promise<void>,
    private readonly log: (line: string) => void,
    private readonly run: string,
    /** true: workers that join the coordinator join this run (an owned pool) */
    admitsJoins: boolean,
  ) {
    this.expectedFingerprint = fingerprint(p);
    if (admitsJoins) {
      this.listen('join', (h: WorkerHandle) => {
        this.joiners.push(h);
        this.log(`worker ${describe(h)} joined; it takes a shard from the next step`);
      });
      this.listen('refused', (reason: string) => this.log(`refused a worker: ${reason}`));
    }
    this.listen('lost', (h: WorkerHandle, reason: string) => {
      if (admitsJoins || this.members.some((m) => m.handle.id === h.id)) this.log(`worker ${describe(h)} lost: ${reason}`);
    });
  }

  private listen<E extends 'join' | 'lost' | 'refused'>(event: E, fn: (...args: never[]) => void): void {
    this.coordinator.on(event, fn as never);
    this.listeners.push([event, fn]);
  }

  static factory(opts: ClusterOptions): ExecutorFactory {
    return remote(async (p, state, log) => {
      const run = `${p.config.out}#${randomBytes(4).toString('hex')}`;
      const gpus = opts.gpus;
      const cmd = opts.workerCommand;
      const pool = await startWorkerPool({
        job: run,
        listen: opts.listen,
        curve: opts.curve,
        heartbeatMs: opts.heartbeatMs,
        timeoutMs: opts.timeoutMs,
        spawn: opts.spawn ?? 0,
        // worker i gets the i-th GPU of --gpus (CUDA_VISIBLE_DEVICES through nbm worker --device)
        command: cmd && { file: cmd.file, args: gpus ? (i: number) => [...cmd.args, '--device', gpus[i]] : cmd.args, env: cmd.env },
        log,
      });
      const { coordinator } = pool;
      log(pool.announcement(opts.expect));
      const release = () => pool.close('training finished');
      const ex = new ClusterExecutor(p, coordinator, opts, release, log, run, true);
      try {
        await pool.waitForWorkers(opts.expect, opts.startTimeoutMs);
        await ex.admitJoiners(state);
      } catch (e) {
        await ex.close();
        throw e;
      }
      return ex;
    });
  }

  /**
   * Runs on a group of an existing coordinator's workers: configures them, gives them the state and forms
   * their ring. Workers that join the coordinator later are not taken in; a member lost mid-run is dropped
   * and the step redone on the rest (down to `minWorkers`), as in an owned pool. Closing the executor lets
   * the group go and leaves the coordinator running.
   */
  static onWorkers(borrowed: BorrowedWorkers, opts: GroupOptions): ExecutorFactory {
    return remote(async (p, state, log) => {
      const { coordinator, workers } = borrowed;
      if (workers.length === 0) throw new Error('a run on borrowed workers needs at least one worker');
      const run = `${p.config.out}#${randomBytes(4).toString('hex')}`;
      const ex = new ClusterExecutor(p, coordinator, opts, async () => {}, log, run, false);
      try {
        const live = new Map(coordinator.workers().map((h) => [h.id, h]));
        for (const id of workers) {
          const h = live.get(id);
          if (!h) throw new WorkerLostError(id, 'it is not connected to the coordinator');
          ex.joiners.push(h);
        }
        await ex.admitJoiners(state);
        if (ex.members.length < opts.minWorkers) throw new Error(`only ${ex.members.length} of the ${workers.length} lent worker(s) could be configured, fewer than the ${opts.minWorkers} required`);
      } catch (e) {
        await ex.close();
        throw e;
      }
      return ex;
    });
  }

  get world(): number {
    return this.members.length;
  }

  /** Configures the workers that joined, checks they agree with the run, gives them the state. */
  private async admitJoiners(state?: TrainState): Promise<void> {
    if (this.joiners.length === 0) return;
    const arriving = this.joiners.splice(0).filter((h) => h.alive);
    const configured: Member[] = [];
    await Promise.all(
      arriving.map(async (h) => {
        try {
          const r = (await this.coordinator.call(h.id, 'configure', [this.p.config], undefined, { timeoutMs: 300_000 })).value as { fingerprint: string; backend: string; engine: string; compute: string };
          if (r.fingerprint !== this.expectedFingerprint) {
            this.coordinator.drop(h.id, `its model or data differ from the run's (fingerprint ${r.fingerprint} ≠ ${this.expectedFingerprint})`);
            this.log(`refused worker ${describe(h)}: its model or data differ from the run's`);
            return;
          }
          // gradients from different engines differ in their last bits: one run, one engine
          this.compute ??= r.compute;
          if (r.compute !== this.compute) {
            this.coordinator.drop(h.id, `it computes with ${r.compute} but the run uses ${this.compute}`);
            this.log(`refused worker ${describe(h)}: it computes with ${r.compute}, the run with ${this.compute} (pass the same --kernel/--backend everywhere)`);
            return;
          }
          configured.push({ handle: h, backend: `${r.backend}/${r.engine}` });
        } catch (e) {
          this.log(`worker ${describe(h)} failed to configure: ${(e as Error).message}`);
          this.coordinator.drop(h.id, 'configure failed');
        }
      }),
    );
    if (configured.length === 0) return;
    // the state every replica starts from: the coordinator's (initial or restored) or a current replica's
    let source: { meta: StateMeta; tensors: Record<string, ArrayBufferView> };
    if (this.members.length > 0) {
      const got = await this.coordinator.call(this.members[0].handle.id, 'getState', [], undefined, { timeoutMs: 60_000 });
      source = { meta: got.value as StateMeta, tensors: got.tensors };
    } else {
      if (!state) throw new Error('no state to start the workers from');
      source = encodeState(state);
    }
    await Promise.all(configured.map((m) => this.coordinator.call(m.handle.id, 'setState', [source.meta], source.tensors, { timeoutMs: 60_000 })));
    this.members.push(...configured);
    this.ringDirty = true;
    this.writeStatus();
  }

  /** Forms a fresh ring over the current members (after any change of membership or a failed step). */
  private async formRing(): Promise<void> {
    const addresses = await Promise.all(this.members.map((m) => this.coordinator.call(m.handle.id, 'openRing', [], undefined, { timeoutMs: 30_000 })));
    this.members.forEach((m, i) => (m.ringAddress = addresses[i].value as string));
    const world = this.members.length;
    await Promise.all(
      this.members.map((m, rank) =>
        this.coordinator.call(m.handle.id, 'connectRing', [{ rank, world, right: this.members[(rank + 1) % world].ringAddress! }], undefined, { timeoutMs: 30_000 }),
      ),
    );
    this.ringDirty = false;
    this.log(`ring formed with ${world} worker(s)`);
    this.writeStatus();
  }

  async step(order: StepOrder, next?: StepOrder): Promise<StepReport> {
    let launch = await this.takeAhead(order);
    for (let attempt = 1; ; attempt++) {
      if (!launch) {
        await this.admitJoiners();
        const alive = this.members.filter((m) => m.handle.alive);
        if (alive.length !== this.members.length) {
          // lost between steps: the ring still has its place, so the step would wait for it in vain
          this.members = alive;
          this.ringDirty = true;
        }
        if (this.members.length < this.opts.minWorkers) throw new Error(`only ${this.members.length} worker(s) left, fewer than the ${this.opts.minWorkers} required`);
        if (this.ringDirty) await this.formRing();
        launch = this.launch(order);
      }
      // run the next step ahead: each worker queues it behind this one and starts it the moment this one ends,
      // so neither the coordinator's round trip nor its work between steps sits between a worker's steps
      if (next && attempt === 1 && this.joiners.length === 0) this.ahead = this.launch(next, launch.settled);
      const settled = await launch.settled;
      const { members } = launch;
      const outcomes = new Map<string, CallOutcome>();
      settled.forEach((s, i) => outcomes.set(members[i].handle.id, outcomeOf(s)));
      const action = decideFailure({ outcomes, attempt, maxAttempts: MAX_ATTEMPTS, minWorkers: this.opts.minWorkers });
      if (action.kind === 'continue') {
        if ((order.globalStep + 1) % STATUS_EVERY === 0) this.writeStatus();
        const results = settled.map((s) => (s as PromiseFulfilledResult<{ value: unknown }>).value.value as StepResult);
        if (launch.wantHash) this.checkHashes(order.globalStep + 1, results);
        return {
          metrics: results[0].metrics as BatchMetrics,
          skipped: results[0].skipped,
          computeMs: Math.max(...results.map((r) => r.computeMs)),
          reduceMs: Math.max(...results.map((r) => r.reduceMs)),
          worldSize: members.length,
        };
      }
      if (action.kind === 'abort') {
        // the abort covers the step run ahead too (an abort names a step and everything before it)
        const last = this.detachAhead()?.order.globalStep ?? order.globalStep;
        await this.coordinator.abort(last, action.reason, this.members.map((m) => m.handle.id)).catch(() => {});
        throw new Error(`step ${order.globalStep}: ${action.reason}`);
      }
      // dropping a worker settles its calls at once, so the step run ahead is not waited on there
      for (const id of action.drop) this.coordinator.drop(id, `lost during step ${order.globalStep}`);
      this.members = this.members.filter((m) => !action.drop.includes(m.handle.id) && m.handle.alive);
      // the step run ahead waits on this one: stop it and undo it wherever it ran, then undo this one
      await this.dropAhead(`step ${order.globalStep} failed`);
      this.log(`step ${order.globalStep} failed (attempt ${attempt}); redoing it on ${this.members.length} worker(s)`);
      await this.rollBack(this.members.map((m) => m.handle.id), order.globalStep);
      this.ringDirty = true;
      launch = undefined;
    }
  }

  /**
   * Calls `step` for `order` on every member, each with its shard. `after`: the launch this one is queued
   * behind; until it settles, a failure here does not alarm the others (an abort names a step and everything
   * before it, so it would also stop the step still in flight).
   */
  private launch(order: StepOrder, after?: Promise<unknown>): Launch {
    const members = [...this.members];
    const world = members.length;
    const tag = { run: this.run, step: ++this.attempt };
    const wantHash = this.opts.hashEvery > 0 && (order.globalStep + 1) % this.opts.hashEvery === 0;
    const timeoutMs = Math.max(this.opts.timeoutMs, 10_000);
    const ids = members.map((m) => m.handle.id);
    let alarmed = false;
    const calls = members.map((m, rank) => {
      const [first, last] = shardBlocks(order.totalBlocks, world, rank);
      const call: StepCall = { order, first, last, tag, timeoutMs, hash: wantHash };
      return this.coordinator.call(m.handle.id, 'step', [call], undefined, { timeoutMs: timeoutMs * 4, step: order.globalStep }).catch(async (e: Error) => {
        // the others would wait in the ring for this one until their collective timeout: stop them now
        if (!alarmed) {
          alarmed = true;
          const reason = `worker ${describe(m.handle)} failed the step: ${e.message}`;
          await after;
          // a launch the coordinator stopped itself needs no alarm
          if (!launch.stopped) void this.coordinator.abort(order.globalStep, reason, ids.filter((id) => id !== m.handle.id)).catch(() => {});
        }
        throw e;
      });
    });
    // (the handlers above run later, once `launch` exists)
    const launch: Launch = { order, members, wantHash, stopped: false, settled: Promise.allSettled(calls) };
    return launch;
  }

  /** The step launched ahead if it is `order`'s, on the current members; any other is dropped. */
  private async takeAhead(order: StepOrder): Promise<Launch | undefined> {
    const a = this.ahead;
    if (a && a.order.globalStep === order.globalStep && a.members.length === this.members.length && a.members.every((m, i) => m === this.members[i])) {
      this.ahead = undefined;
      return a;
    }
    await this.dropAhead('the run asked for another step');
    return undefined;
  }

  /**
   * Stops the step launched ahead, waits for its calls and rolls back the replicas that applied it, so that
   * every replica is where the loop thinks it is. Nothing to do when no step runs ahead.
   */
  private async dropAhead(reason: string): Promise<void> {
    const a = this.detachAhead();
    if (!a) return;
    const live = a.members.filter((m) => m.handle.alive).map((m) => m.handle.id);
    await this.coordinator.abort(a.order.globalStep, `step ${a.order.globalStep} was started ahead and is not wanted: ${reason}`, live).catch(() => {});
    await a.settled;
    // a replica that had not reached it refuses (it is at an earlier step): nothing to undo there
    await this.rollBack(live, a.order.globalStep);
  }

  /** The step launched ahead, no longer this executor's (marked stopped, so its failures raise no alarm). */
  private detachAhead(): Launch | undefined {
    const a = this.ahead;
    this.ahead = undefined;
    if (a) a.stopped = true;
    return a;
  }

  /** Asks each of `ids` to undo step `globalStep` if it applied it; a refusal (already before it) is ignored. */
  private async rollBack(ids: readonly string[], globalStep: number): Promise<void> {
    await Promise.allSettled(ids.map((id) => this.coordinator.call(id, 'rollback', [globalStep], undefined, { timeoutMs: 30_000 })));
  }

  private checkHashes(step: number, results: StepResult[]): void {
    const hashes = new Map(results.map((r, i) => [this.members[i].handle.id, r.hash ?? '']));
    if (new Set(hashes.values()).size !== 1) throw new ReplicaDivergenceError(step, hashes);
  }

  async snapshot(position: Position): Promise<TrainState> {
    await this.dropAhead('the run keeps its state');
    const got = await this.coordinator.call(this.members[0].handle.id, 'getState', [], undefined, { timeoutMs: 60_000 });
    const s = decodeState(this.specs(), got.value as StateMeta, got.tensors);
    return { ...s, ...position };
  }

  private specs() {
    return parameterSpecs(this.p.model);
  }

  async validate(epoch: number): Promise<BatchMetrics> {
    await this.dropAhead('the run validates');
    return (await this.coordinator.call(this.members[0].handle.id, 'validate', [epoch], undefined, { timeoutMs: 600_000 })).value as BatchMetrics;
  }

  private writeStatus(): void {
    const members: MemberStatus[] = this.members.map((m, rank) => ({
      rank,
      id: m.handle.id,
      host: m.handle.info.host,
      pid: m.handle.info.pid,
      device: m.handle.info.device,
      backend: m.backend,
      lastHeartbeat: new Date(m.handle.lastHeartbeat).toISOString(),
    }));
    writePoolStatus(this.p.config.out, { endpoint: this.coordinator.endpoint, world: members.length, members });
  }

  async close(): Promise<void> {
    // borrowed workers go back to their pool idle, at the step the run ended on
    await this.dropAhead('the run ended').catch(() => {});
    for (const [event, fn] of this.listeners.splice(0)) this.coordinator.off(event, fn as never);
    await this.release();
  }
}


function describe(h: WorkerHandle): string {
  return `${h.info.host}:${h.info.pid}${h.info.device ? ` (${h.info.device})` : ''}`;
}

function outcomeOf(s: PromiseSettledResult<unknown>): CallOutcome {
  if (s.status === 'fulfilled') return { kind: 'ok' };
  const e = s.reason as Error & { code?: string };
  if (e.name === 'WorkerLostError') return { kind: 'lost' };
  if (e.name === 'CallTimeoutError') return { kind: 'timeout' };
  return { kind: 'error', code: e.code ?? e.name, message: e.message };
}

/** Marks a factory whose steps run on workers: the trainer then builds no engine in this process. */
function remote(factory: ExecutorFactory): ExecutorFactory {
  return Object.assign(factory, { remote: true });
}
