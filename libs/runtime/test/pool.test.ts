import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeys, loadKeys, startWorkerPool, WaitTimeoutError, type WorkerPool } from '../src/index.ts';
import { localEndpoint } from '../src/pool.ts';
import { WORKER_FIXTURE, isRunning } from './helpers/processes.ts';
import { FAST } from './helpers/setup.ts';


describe('runtime: the worker pool (a coordinator, its spawned and remote workers)', function () {
  this.timeout(30_000);
  let pool: WorkerPool | undefined;
  afterEach(async () => {
    await pool?.close('test over', 0);
    pool = undefined;
  });

  it('a wildcard listen address is reached over loopback by local workers; a concrete one is kept', () => {
    expect(localEndpoint('tcp://0.0.0.0:5555')).to.equal('tcp://127.0.0.1:5555');
    expect(localEndpoint('tcp://[::]:5555')).to.equal('tcp://[::1]:5555');
    expect(localEndpoint('tcp://*:5555')).to.equal('tcp://127.0.0.1:5555');
    expect(localEndpoint('tcp://10.1.2.3:5555')).to.equal('tcp://10.1.2.3:5555');
    expect(localEndpoint('tcp://127.0.0.1:7')).to.equal('tcp://127.0.0.1:7');
  });

  it('spawns workers with --connect and the pool timing appended; they join; close stops every process', async () => {
    pool = await startWorkerPool({
      job: 'pool-test',
      ...FAST,
      spawn: 2,
      command: { file: WORKER_FIXTURE, args: (i) => [JSON.stringify({ connect: 'tcp://127.0.0.1:1', host: `h${i}` })], stdio: 'pipe' },
    });
    const handles = await pool.waitForWorkers(2, 15_000);
    expect(handles.map((h) => h.info.host).sort()).to.deep.equal(['h0', 'h1']);
    const r = await pool.coordinator.call(handles[0].id, 'echo', ['hi']);
    expect((r.value as { args: unknown[] }).args).to.deep.equal(['hi']);
    const pids = pool.group!.children.map((c) => c.pid!);
    await pool.close('done');
    pool = undefined;
    expect(pids.filter(isRunning)).to.deep.equal([]);
  });

  it('a wildcard bind (CURVE): spawned workers still join, over loopback', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nbm-pool-'));
    try {
      generateKeys(dir);
      const curve = loadKeys(dir, 'worker');
      pool = await startWorkerPool({
        job: 'pool-wild',
        ...FAST,
        listen: 'tcp://0.0.0.0:*',
        curve: loadKeys(dir, 'coordinator'),
        spawn: 1,
        command: { file: WORKER_FIXTURE, args: [JSON.stringify({ connect: 'x', curve })], stdio: 'pipe' },
      });
      expect(pool.endpoint).to.match(/^tcp:\/\/0\.0\.0\.0:\d+$/);
      expect(pool.announcement(1)).to.match(/ \(CURVE\); waiting for 1 worker\(s\): nbm worker --connect tcp:\/\/0\.0\.0\.0:\d+ --keys DIR$/);
      expect(await pool.waitForWorkers(1, 15_000)).to.have.length(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('workers that do not come: a listening pool says how to start them; the announcement names the address', async () => {
    pool = await startWorkerPool({ job: 'pool-empty', ...FAST, listen: 'tcp://127.0.0.1:*' });
    expect(pool.announcement(3)).to.equal(`coordinator listening on ${pool.endpoint}; waiting for 3 worker(s): nbm worker --connect ${pool.endpoint}`);
    expect(pool.announcement()).to.equal(`coordinator listening on ${pool.endpoint}; workers join with: nbm worker --connect ${pool.endpoint}`);
    const e = await pool.waitForWorkers(1, 200).catch((err: unknown) => err);
    expect(e).to.be.instanceOf(WaitTimeoutError);
    expect((e as Error).message).to.equal(`waited 200 ms for 1 worker, 0 arrived: start them with 'nbm worker --connect ${pool.endpoint}' (or wait longer: --start-timeout-ms)`);
  });

  it('refuses to spawn without a command, and a bad count, before binding anything', async () => {
    for (const [o, message] of [
      [{ spawn: 1 }, /needs the command/],
      [{ spawn: -1 }, /non-negative integer/],
    ] as const) {
      const e = await startWorkerPool({ job: 'bad', ...o }).catch((err: unknown) => err);
      expect((e as Error).message).to.match(message);
    }
  });
});
