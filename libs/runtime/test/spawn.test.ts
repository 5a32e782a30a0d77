import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { type LocalWorkerGroup, type WorkerHandle } from '../src/index.ts';
import { spawnLocalWorkers } from '../src/spawn.ts';
import { WORKER_FIXTURE, isRunning, killAll, startFixture } from './helpers/processes.ts';
import { FAST, harness, type Harness } from './helpers/setup.ts';

const SPAWNER = fileURLToPath(new URL('./fixtures/spawner.ts', import.meta.url));

describe('runtime: local worker processes', function () {
  this.timeout(30_000);
  let h: Harness | undefined;
  let group: LocalWorkerGroup | undefined;
  afterEach(async () => {
    group?.killAll();
    group = undefined;
    await h?.coordinator.shutdown('test over');
    h = undefined;
    killAll();
  });

  it('spawns N workers that join, each with its index and arguments; kill(i) loses one; exits are recorded', async () => {
    h = await harness();
    const args = (i: number) => [JSON.stringify({ connect: h!.coordinator.endpoint, ...FAST, host: `local-${i}` }), `arg-${i}`];
    group = spawnLocalWorkers(3, { file: WORKER_FIXTURE, args, stdio: 'pipe' });
    const started = group.children.map(
      (child) =>
        new Promise<Record<string, unknown>>((resolve) => {
          let out = '';
          child.stdout!.on('data', (d: Buffer) => {
            out += d.toString();
            const line = out.split('\n').find((l) => l.includes('"started"'));
            if (line) resolve(JSON.parse(line));
          });
        }),
    );
    const handles = await h.coordinator.waitForWorkers(3, 15_000);
    expect(handles.map((w) => w.info.host).sort()).to.deep.equal(['local-0', 'local-1', 'local-2']);
    expect(handles.map((w) => w.info.pid).sort()).to.deep.equal(group.children.map((c) => c.pid).sort());
    expect((await Promise.all(started)).map((s) => [s.index, s.argv])).to.deep.equal([0, 1, 2].map((i) => [String(i), [`arg-${i}`]]));

    const lost = new Promise<WorkerHandle>((resolve) => h!.coordinator.once('lost', (w) => resolve(w)));
    group.kill(1, 'SIGKILL');
    expect((await lost).info.pid).to.equal(group.children[1].pid);
    expect(() => group!.kill(3)).to.throw(RangeError, /no worker 3 \(there are 3\)/);

    await h.coordinator.shutdown('done');
    await group.exited;
    expect(group.exits).to.deep.equal([{ code: 0, signal: null }, { code: null, signal: 'SIGKILL' }, { code: 0, signal: null }]);
  });

  it('kills the children when the parent exits', async () => {
    // the children share the parent's stdout pipe, which the test holds open: nothing but the exit hook ends them
    const parent = startFixture(SPAWNER, {});
    const { pids } = (await parent.waitFor((e) => e.event === 'children', 10_000, 'the children')) as unknown as { pids: number[] };
    expect(pids).to.have.length(2);
    for (const pid of pids) await parent.waitFor((e) => e.event === 'started' && e.pid === pid, 10_000, `child ${pid} to start`);
    expect(pids.filter(isRunning)).to.deep.equal(pids);
    parent.child.kill('SIGTERM');
    expect(await parent.waitExit(5000)).to.equal(0);
    const deadline = performance.now() + 3000;
    while (pids.some(isRunning) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const survivors = pids.filter(isRunning);
    for (const pid of survivors) process.kill(pid, 'SIGKILL'); // do not leave them behind when the test fails
    expect(survivors).to.deep.equal([]);
  });
});
