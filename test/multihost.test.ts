/**
 * Multi-host training: the coordinator on this host, workers in separate network namespaces ("hosts") joined by
 * veth pairs to a bridge, CURVE on. A worker with the wrong key is refused; a shaped link still trains correctly.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '@nbm/checkpoint';
import { NBM_BIN, runNbm, scratchDir } from './helpers.ts';
import { createNetwork, shapeLink, unavailable, type TestNetwork } from './netns.ts';

const BASE = [
  '--train-examples', '400', '--val-examples', '40', '--batch-size', '40', '--block-size', '8', '--hidden', '8',
  '--gibbs-steps', '3', '--log-every', '1', '--backend', 'cpu', '--kernel', 'tfjs', '--no-pictures', '--quiet', '--lr', '2e-3',
  '--max-steps', '20',
];
const LIVENESS = ['--heartbeat-ms', '250', '--timeout-ms', '5000'];

describe('multi-host training in network namespaces (CURVE on)', function () {
  this.timeout(600_000);
  const why = unavailable();
  const scratch = scratchDir('nbm-hosts-');
  let net: TestNetwork | undefined;
  const children: ChildProcess[] = [];

  before(function () {
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    net = createNetwork(3);
  });
  after(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    net?.remove();
    scratch.remove();
  });

  it('trains on 2 remote hosts over CURVE (one link shaped), refuses a stranger key, and matches one process', async () => {
    const keys = join(scratch.dir, 'keys');
    const stranger = join(scratch.dir, 'stranger');
    expect((await runNbm(['keygen', keys])).code).to.equal(0);
    expect((await runNbm(['keygen', stranger])).code).to.equal(0);
    const shaping = shapeLink(net!.hosts[1]);
    console.log(`      link of host 1: ${shaping}`);

    const reference = join(scratch.dir, 'reference');
    expect((await runNbm(['train', ...BASE, '--out', reference])).code).to.equal(0);

    // unencrypted listening off loopback is refused, with the way out in the message
    const open = await runNbm(['train', ...BASE, '--listen', `tcp://${net!.coordinatorIp}:5599`, '--expect', '2', '--out', join(scratch.dir, 'open')]);
    expect(open.code).to.equal(2);
    expect(open.stderr).to.match(/without CURVE keys.*nbm keygen/s);

    const dir = join(scratch.dir, 'multihost');
    const coord = spawn(process.execPath, [NBM_BIN, 'train', ...BASE, ...LIVENESS, '--listen', `tcp://${net!.coordinatorIp}:*`, '--expect', '2', '--keys', keys, '--out', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(coord);
    let log = '';
    coord.stderr!.on('data', (d) => (log += d));
    const exited = new Promise<number | null>((r) => coord.on('close', r));
    const endpoint = await new Promise<string>((resolve, reject) => {
      const t = setInterval(() => {
        const m = /listening on (tcp:\/\/[\d.]+:\d+)/.exec(log);
        if (m) { clearInterval(t); resolve(m[1]); }
      }, 100);
      setTimeout(() => { clearInterval(t); reject(new Error(`no endpoint in: ${log}`)); }, 60_000);
    });
    const worker = (host: number, keyDir: string) => {
      const [cmd, ...args] = net!.exec(host, [process.execPath, NBM_BIN, 'worker', '--connect', endpoint, '--keys', keyDir, ...LIVENESS]);
      const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      c.stderr!.on('data', (d) => (err += d));
      children.push(c);
      return { child: c, exit: new Promise<{ code: number | null; err: string }>((r) => c.on('close', (code) => r({ code, err }))) };
    };
    // the stranger first: it must be refused and never get a shard
    const intruder = worker(2, stranger);
    const refused = await intruder.exit;
    expect(refused.code).to.not.equal(0);
    worker(0, keys);
    worker(1, keys);
    const code = await exited;
    expect(code, log).to.equal(0);
    const status = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as { members: Array<{ host: string }> };
    expect(status.members).to.have.length(2);
    const latest = (d: string) => loadCheckpoint(join(d, 'checkpoints', JSON.parse(readFileSync(join(d, 'checkpoints', 'latest.json'), 'utf8')).file));
    const [a, b] = await Promise.all([latest(dir), latest(reference)]);
    expect(a.rng.globalStep).to.equal(20);
    a.params.forEach((p, i) => expect(Buffer.from(p.data.buffer).equals(Buffer.from(b.params[i].data.buffer)), p.name).to.equal(true));
    const rows = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').slice(1);
    expect(rows.filter((r) => r.startsWith('train')).every((r) => r.split(',')[11] === '2'), 'world size 2 throughout').to.equal(true);
  });
});
