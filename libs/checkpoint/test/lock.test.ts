import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { acquireLock, LockedError } from '../src/index.ts';

describe('directory lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nbm-lock-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const holder = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

  it('is taken, refused to a live holder on this host until it goes, and released', async () => {
    const file = join(dir, 't000.lock');
    const sleeper = spawn('sleep', ['30']);
    try {
      writeFileSync(file, JSON.stringify({ host: hostname(), pid: sleeper.pid }));
      let error: unknown;
      try {
        await acquireLock(file, { waitMs: 300, pollMs: 50 });
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(LockedError);
      expect((error as LockedError).code).to.equal('locked');
      expect((error as Error).message).to.match(new RegExp(`held by pid ${sleeper.pid} on `));
    } finally {
      sleeper.kill('SIGKILL');
    }
    await new Promise((r) => sleeper.once('exit', r));
    // its holder is gone: the lock is stale and taken over
    const lock = await acquireLock(file, { waitMs: 300, pollMs: 50 });
    expect(holder(file).pid).to.equal(process.pid);
    lock.release();
    expect(existsSync(file)).to.equal(false);
  });

  it('takes over a dead process\'s lock, and another host\'s only once it is stale', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const a = join(dir, 't001.lock');
    writeFileSync(a, JSON.stringify({ host: hostname(), pid: dead }));
    (await acquireLock(a, { waitMs: 100 })).release();

    const b = join(dir, 't002.lock');
    writeFileSync(b, JSON.stringify({ host: 'elsewhere', pid: 1 }));
    let error: unknown;
    await acquireLock(b, { waitMs: 200, pollMs: 50, staleMs: 60_000 }).catch((e) => (error = e));
    expect(error).to.be.instanceOf(LockedError);
    const old = new Date(Date.now() - 120_000);
    utimesSync(b, old, old);
    const lock = await acquireLock(b, { waitMs: 200, pollMs: 50, staleMs: 60_000 });
    expect(holder(b).host).to.not.equal('elsewhere');
    lock.release();
  });

  it('does not remove a lock that is no longer its own', async () => {
    const file = join(dir, 't003.lock');
    const lock = await acquireLock(file);
    writeFileSync(file, JSON.stringify({ host: 'elsewhere', pid: 1 }));
    lock.release();
    expect(existsSync(file)).to.equal(true);
  });
});
