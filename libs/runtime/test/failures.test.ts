import { expect } from 'chai';
import { WorkerLostError, type WorkerHandle } from '../src/index.ts';
import { COORDINATOR_FIXTURE, killAll, startFixture, startWorker } from './helpers/processes.ts';
import { FAST, fixtureOf, harness, settle, type Harness } from './helpers/setup.ts';

/** Slack for process scheduling on a loaded 2-core machine, ms. */
const MARGIN = 1500;

describe('runtime: failures', function () {
  this.timeout(30_000);
  let h: Harness | undefined;

  afterEach(async () => {
    killAll(); // first, so no stopped process holds up the shutdown
    await h?.coordinator.shutdown('test over');
    h = undefined;
  });

  it('a worker killed (SIGKILL) mid-call: the call rejects with WorkerLostError, `lost` is emitted, the others serve on', async () => {
    h = await harness();
    const lost: Array<[WorkerHandle, string]> = [];
    h.coordinator.on('lost', (w, reason) => lost.push([w, reason]));
    const [w1, w2, w3] = await h.start(3);
    const victim = fixtureOf(h, w2);
    const pending = settle(h.coordinator.call(w2.id, 'sleep', [20_000]));
    await victim.waitFor((e) => e.event === 'sleeping', 5000, 'the call to start');
    const t0 = performance.now();
    victim.child.kill('SIGKILL');
    const r = await pending;
    const ms = performance.now() - t0;
    expect(r.error).to.be.instanceOf(WorkerLostError);
    expect(r.error).to.deep.include({ workerId: 'w2', call: { id: 1, method: 'sleep' } });
    expect(ms).to.be.below(FAST.timeoutMs + MARGIN);
    expect(lost.map(([w]) => w.id)).to.deep.equal(['w2']);
    expect(lost[0][1]).to.equal((r.error as WorkerLostError).reason);
    expect(w2.alive).to.equal(false);
    expect(h.coordinator.workers().map((w) => w.id)).to.deep.equal(['w1', 'w3']);
    for (const w of [w1, w3]) expect((await h.coordinator.call(w.id, 'pid')).value).to.equal(w.info.pid);
  });

  it('a hung worker (SIGSTOP, connection open) is lost by its silence, after the timeout and not before', async () => {
    h = await harness();
    const [w1, w2] = await h.start(2);
    const pending = settle(h.coordinator.call(w1.id, 'sleep', [20_000]));
    await fixtureOf(h, w1).waitFor((e) => e.event === 'sleeping', 5000, 'the call to start');
    fixtureOf(h, w1).child.kill('SIGSTOP');
    const t0 = performance.now();
    const r = await pending;
    const ms = performance.now() - t0;
    expect(r.error).to.be.instanceOf(WorkerLostError);
    expect((r.error as WorkerLostError).reason).to.match(/^no message for \d+ ms \(timeout 1000 ms\)$/);
    expect(ms).to.be.within(FAST.timeoutMs - 2 * FAST.heartbeatMs, FAST.timeoutMs + MARGIN);
    expect(h.coordinator.workers().map((w) => w.id)).to.deep.equal([w2.id]);
  });

  it('a lost worker that comes back is told it is not registered, and exits', async () => {
    h = await harness();
    const [w] = await h.start(1);
    const fixture = fixtureOf(h, w);
    fixture.child.kill('SIGSTOP');
    await new Promise<void>((resolve) => h!.coordinator.once('lost', () => resolve()));
    fixture.child.kill('SIGCONT');
    expect(await fixture.waitExit(5000)).to.equal(3);
    expect(fixture.events.find((e) => e.event === 'exit')!.message).to.match(/no longer knows this worker/);
  });

  it('a worker blocked by a synchronous method for longer than its own timeout does not mistake unread heartbeats for silence', async () => {
    // the coordinator tolerates the block; the worker's timeout (1 s) is shorter than the block
    h = await harness({ heartbeatMs: 100, timeoutMs: 4000 });
    const [w] = await h.start(1, { heartbeatMs: 100, timeoutMs: 1000 });
    // when the block ends, the coordinator's heartbeats sent meanwhile are still unread: the worker
    // must not judge the coordinator before reading them (the spin is queued, so it starts from the
    // mailbox's yield rather than from the receive loop)
    const first = h.coordinator.call(w.id, 'sleep', [50]);
    const spin = h.coordinator.call(w.id, 'spin', [1400]);
    expect((await first).value).to.equal('slept');
    expect((await spin).value).to.equal(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(fixtureOf(h, w).events.filter((e) => e.event === 'exit')).to.deep.equal([]);
    expect((await h.coordinator.call(w.id, 'pid')).value).to.equal(w.info.pid);
  });

  it('a worker whose coordinator is killed exits by itself within its timeout', async () => {
    const coordinator = startFixture(COORDINATOR_FIXTURE, { run: 'run-c', ...FAST });
    const endpoint = (await coordinator.waitFor((e) => e.event === 'bound', 10_000, 'the coordinator to bind')).endpoint as string;
    const worker = startWorker({ connect: endpoint, ...FAST });
    await coordinator.waitFor((e) => e.event === 'join', 10_000, 'the worker to join');
    await worker.waitFor((e) => e.event === 'log' && /^registered as w1/.test(String(e.line)), 5000, 'the worker to learn it joined');
    coordinator.child.kill('SIGKILL');
    const t0 = performance.now();
    expect(await worker.waitExit(FAST.timeoutMs + MARGIN)).to.equal(3);
    expect(performance.now() - t0).to.be.above(FAST.timeoutMs - 2 * FAST.heartbeatMs);
    const exit = worker.events.find((e) => e.event === 'exit')!;
    expect(exit).to.include({ how: 'rejected', name: 'CoordinatorLostError' });
    expect(exit.message, exit.message as string).to.match(/^lost the coordinator at tcp:\/\/127\.0\.0\.1:\d+: silent for \d+ ms \(timeout 1000 ms\)/);
  });

  it('a worker with no coordinator to talk to gives up after its timeout, saying so', async () => {
    const worker = startWorker({ connect: 'tcp://127.0.0.1:9', ...FAST });
    expect(await worker.waitExit(FAST.timeoutMs + 2 * MARGIN)).to.equal(3);
    expect(worker.events.find((e) => e.event === 'exit')!.message).to.match(/no answer to register within \d+ ms \(timeout 1000 ms\); last transport problem: cannot connect/);
  });
});
