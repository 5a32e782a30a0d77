/** Shared setup of the multi-process tests: a coordinator on loopback with fast heartbeats, and its log. */
import { Coordinator, type CoordinatorOptions, type WorkerHandle } from '../../src/index.ts';
import { startWorker, type Fixture } from './processes.ts';
import type { WorkerFixtureConfig } from '../fixtures/worker.ts';

/** Fast liveness for tests: a lost peer is noticed within about a second. */
export const FAST = { heartbeatMs: 100, timeoutMs: 1000 } as const;

export interface Harness {
  coordinator: Coordinator;
  logs: string[];
  workers: Fixture[];
  /** Starts `n` worker fixtures and waits until all have joined; returns their handles in join order. */
  start(n: number, config?: Partial<WorkerFixtureConfig>): Promise<WorkerHandle[]>;
}

export async function harness(opts: Partial<CoordinatorOptions> = {}): Promise<Harness> {
  const logs: string[] = [];
  const coordinator = await Coordinator.bind({ bind: 'tcp://127.0.0.1:*', run: 'run-test', ...FAST, ...opts, log: (l) => logs.push(l) });
  const h: Harness = {
    coordinator,
    logs,
    workers: [],
    async start(n, config = {}) {
      const already = coordinator.workers().length;
      for (let i = 0; i < n; i++) h.workers.push(startWorker({ connect: coordinator.endpoint, ...FAST, ...config }));
      return (await coordinator.waitForWorkers(already + n, 15_000)).slice(already);
    },
  };
  return h;
}

/** The fixture whose process is the worker `handle` (matched by pid). */
export function fixtureOf(h: Harness, handle: WorkerHandle): Fixture {
  const f = h.workers.find((w) => w.child.pid === handle.info.pid);
  if (!f) throw new Error(`no fixture with pid ${handle.info.pid}`);
  return f;
}

/** Resolves with how the promise settled and how long it took, ms. */
export async function settle<T>(p: Promise<T>): Promise<{ ok: boolean; value?: T; error?: Error; ms: number }> {
  const t0 = performance.now();
  try {
    const value = await p;
    return { ok: true, value, ms: performance.now() - t0 };
  } catch (error) {
    return { ok: false, error: error as Error, ms: performance.now() - t0 };
  }
}
