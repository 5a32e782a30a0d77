/**
 * The coordinator's run-ahead (ClusterExecutor: `step(order, next)` queues `next` on the workers behind
 * `order`), against a scripted coordinator whose workers are sequential actors holding only their step
 * number: the test decides when each step's calls finish, so every interleaving below is exact.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { WorkerLostError, type Coordinator, type WorkerHandle } from '@nbm/runtime';
import { PAPER_DEFAULTS, type StepOrder, type TrainConfig } from '../src/index.ts';
import { ClusterExecutor } from '../src/cluster/cluster-executor.ts';
import { fingerprint } from '../src/cluster/fingerprint.ts';
import { encodeState } from '../src/cluster/state-codec.ts';
import { initialState, modelConfigOf } from '../src/state.ts';
import type { Prepared } from '../src/trainer.ts';

/** A step call waiting on a worker: it finishes when the test releases its step. */
interface StepJob {
  readonly worker: string;
  readonly step: number;
  resolve(): void;
  reject(e: Error): void;
}

class ScriptedCoordinator extends EventEmitter {
  readonly endpoint = 'tcp://127.0.0.1:1';
  /** what happened, in order: `step a 0` (sent), `done a 0`, `abort 1`, `rollback a 1 undone`, `getState a@1` */
  readonly events: string[] = [];
  /** each replica's global step */
  readonly at = new Map<string, number>();
  private readonly handles: WorkerHandle[];
  private readonly queues = new Map<string, StepJob[]>();
  /** released steps: `7` for every worker, `a:7` for one */
  private readonly released = new Set<number | string>();

  constructor(ids: string[], private readonly p: Prepared) {
    super();
    this.handles = ids.map((id, i) => ({ id, info: { host: 'h', pid: i + 1 }, joinedAt: 0, lastHeartbeat: 0, alive: true }) as WorkerHandle);
    for (const id of ids) this.queues.set(id, []);
  }

  workers(): WorkerHandle[] {
    return this.handles.filter((h) => h.alive);
  }

  private handle(id: string): WorkerHandle {
    const h = this.handles.find((w) => w.id === id && w.alive);
    if (!h) throw new WorkerLostError(id, 'gone');
    return h;
  }

  async call(id: string, method: string, args: unknown[] = []): Promise<{ value: unknown; tensors: Record<string, ArrayBufferView> }> {
    this.handle(id);
    const ok = (value: unknown, tensors: Record<string, ArrayBufferView> = {}) => ({ value, tensors });
    switch (method) {
      case 'configure':
        return ok({ fingerprint: fingerprint(this.p), backend: 'cpu', engine: 'native', compute: 'native' });
      case 'setState':
        this.at.set(id, (args[0] as { globalStep: number }).globalStep);
        return ok('hash');
      case 'openRing':
        return ok(`tcp://127.0.0.1:${id}`);
      case 'connectRing':
        return ok(true);
      case 'getState': {
        this.events.push(`getState ${id}@${this.at.get(id)}`);
        const { meta, tensors } = encodeState({ ...initialState(this.p.config, this.p.model), globalStep: this.at.get(id)! });
        return ok(meta, tensors);
      }
      case 'rollback': {
        const g = args[0] as number;
        if (this.at.get(id) === g + 1) {
          this.at.set(id, g);
          this.events.push(`rollback ${id} ${g} undone`);
        } else if (this.at.get(id) !== g) throw new Error(`cannot roll back to step ${g}`);
        return ok(g);
      }
      case 'step': {
        const order = (args[0] as { order: StepOrder }).order;
        this.events.push(`step ${id} ${order.globalStep}`);
        await new Promise<void>((resolve, reject) => {
          this.queues.get(id)!.push({ worker: id, step: order.globalStep, resolve, reject });
          this.pump(id);
        });
        // a sequential actor: a replica at another step refuses, as the real one does
        if (this.at.get(id) !== order.globalStep) throw new Error(`replica is at step ${this.at.get(id)} but was asked for step ${order.globalStep}`);
        this.at.set(id, order.globalStep + 1);
        this.events.push(`done ${id} ${order.globalStep}`);
        return ok({ metrics: { cdLoss: 0, mseBias: 0, mseVar: 0, finite: true }, skipped: false, computeMs: 1, reduceMs: 1 });
      }
      default:
        throw new Error(`unscripted method ${method}`);
    }
  }

  /** Lets the calls of `step` (on `only`, else on every worker) finish, each after those queued before it. */
  release(step: number, only?: string): void {
    this.released.add(only === undefined ? step : `${only}:${step}`);
    for (const id of this.queues.keys()) this.pump(id);
  }

  private pump(id: string): void {
    const q = this.queues.get(id)!;
    while (q.length > 0 && (this.released.has(q[0].step) || this.released.has(`${id}:${q[0].step}`))) q.shift()!.resolve();
  }

  async abort(step: number, _reason: string, workers?: readonly string[]): Promise<void> {
    this.events.push(`abort ${step}`);
    for (const id of workers ?? [...this.queues.keys()]) {
      const q = this.queues.get(id)!;
      for (const job of q.filter((j) => j.step <= step)) {
        q.splice(q.indexOf(job), 1);
        job.reject(Object.assign(new Error('aborted by the coordinator'), { code: 'aborted' }));
      }
    }
  }

  /** The worker dies: its calls fail as lost. */
  lose(id: string): void {
    this.handle(id).alive = false;
    for (const job of this.queues.get(id)!.splice(0)) job.reject(new WorkerLostError(id, 'killed'));
  }

  drop(id: string): void {
    if (this.handles.some((h) => h.id === id && h.alive)) this.lose(id);
  }
}

/** Resolves once every promise callback queued so far (and the ones they queue) has run. */
const settle = () => new Promise((r) => setTimeout(r, 5));

/** `events` holds `expected` in this order, other events in between. */
function inOrder(events: readonly string[], expected: readonly string[]): boolean {
  let i = 0;
  for (const e of events) if (e === expected[i]) i++;
  return i === expected.length;
}

describe('run-ahead: the next step queued on the workers behind the current one', () => {
  let out: string;
  let p: Prepared;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), 'nbm-run-ahead-'));
    const config: TrainConfig = { ...PAPER_DEFAULTS, out, hidden: 2, width: 2 };
    const model = modelConfigOf(config, 2, 3);
    p = { config, model, train: { count: 64, nx: 2, ny: 3, description: 'scripted' } } as unknown as Prepared;
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  const order = (g: number): StepOrder => ({ epoch: 0, stepInEpoch: g, globalStep: g, examples: 32, totalBlocks: 2 });
  const start = async (c: ScriptedCoordinator, ids: string[]) =>
    ClusterExecutor.onWorkers({ coordinator: c as unknown as Coordinator, workers: ids }, { hashEvery: 0, timeoutMs: 10_000, minWorkers: 1 })(p, initialState(p.config, p.model), () => {});

  it('sends step s+1 before step s ends, adopts it when the loop asks for it, and sends s+2 ahead', async () => {
    const c = new ScriptedCoordinator(['a', 'b'], p);
    const ex = await start(c, ['a', 'b']);
    const first = ex.step(order(0), order(1));
    await settle();
    expect(c.events).to.deep.equal(['step a 0', 'step b 0', 'step a 1', 'step b 1']);
    c.release(0);
    expect((await first).worldSize).to.equal(2);
    const second = ex.step(order(1), order(2));
    await settle();
    c.release(1);
    await second;
    // step 1 was sent once per worker (the run-ahead's calls were adopted), step 2 is queued already
    expect(c.events.filter((e) => e.startsWith('step '))).to.deep.equal(['step a 0', 'step b 0', 'step a 1', 'step b 1', 'step a 2', 'step b 2']);
    c.release(2);
    await settle();
    expect([c.at.get('a'), c.at.get('b')]).to.deep.equal([3, 3]);
    // the loop then asks for a state at step 2 (a stop): the step run ahead is undone on every replica first
    const snap = await ex.snapshot({ epoch: 0, stepInEpoch: 2, globalStep: 2 });
    expect(snap.globalStep).to.equal(2);
    expect(c.events.slice(-4)).to.deep.equal(['abort 2', 'rollback a 2 undone', 'rollback b 2 undone', 'getState a@2']);
    await ex.close();
  });

  it('a step run ahead that had not started is aborted, and nothing is undone', async () => {
    const c = new ScriptedCoordinator(['a', 'b'], p);
    const ex = await start(c, ['a', 'b']);
    const first = ex.step(order(0), order(1));
    c.release(0);
    await first;
    await ex.validate(0).catch(() => undefined); // validate is unscripted: what matters is what came before it
    expect(c.events.filter((e) => !e.startsWith('step '))).to.deep.equal(['done a 0', 'done b 0', 'abort 1']);
    expect([c.at.get('a'), c.at.get('b')]).to.deep.equal([1, 1]);
    await ex.close();
  });

  it('a worker lost during step s: the step run ahead is stopped, the survivor rolls s back and redoes it alone', async () => {
    const c = new ScriptedCoordinator(['a', 'b'], p);
    const ex = await start(c, ['a', 'b']);
    const first = ex.step(order(0), order(1));
    await settle();
    // a finishes step 0 (b's never does) and starts the step run ahead; then b dies
    c.release(0, 'a');
    await settle();
    c.lose('b');
    await settle();
    c.release(0);
    const report = await first;
    expect(report.worldSize).to.equal(1);
    expect(inOrder(c.events, ['done a 0', 'abort 1', 'rollback a 0 undone', 'step a 0', 'done a 0']), c.events.join(', ')).to.equal(true);
    expect(c.events.filter((e) => e === 'done a 1')).to.deep.equal([]);
    expect(c.at.get('a')).to.equal(1);
    await ex.close();
  });
});
