/**
 * infra/slurm/nbm.sbatch on a real one-node SLURM cluster (.ci/slurm-setup.sh: slurmctld, slurmd and munged on this
 * machine, its CPUs standing in for GPUs as gres/gpu). Jobs are submitted with sbatch, as a user would:
 * the run finishes with the expected world size and the same final checkpoint as `nbm train --workers 2`;
 * a job cancelled mid-run and resubmitted resumes from its last checkpoint; a job told its time limit is near
 * (the USR1 of `--signal=B:USR1@120`) requeues itself, restarts and resumes.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { NBM_BIN, runNbm, scratchDir, type RunResult } from './helpers.ts';
import { TINY, expectBitwiseEqual, latestCheckpoint, latestCheckpointStep, loggedStep, metricRows, waitFor } from './cluster-helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const SETUP = join(ROOT, '.ci', 'slurm-setup.sh');
const SBATCH = join(ROOT, 'infra', 'slurm', 'nbm.sbatch');
const WORKERS = 2;
const STEPS = 40;
/** Checkpoints every 4 steps; interruptions come after step 13, so at least 12 steps are behind them. */
const TRAIN = [...TINY, '--lr', '2e-3', '--max-steps', String(STEPS), '--checkpoint-every', '4', '--heartbeat-ms', '500'];
const INTERRUPT_AFTER = 13;

interface Cmd { code: number; stdout: string; stderr: string }
function sh(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Cmd> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

interface JobEnd { state: string; exitCode: string; restarts: number }

describe('SLURM: infra/slurm/nbm.sbatch on a one-node cluster (CPUs stand in for GPUs)', function () {
  this.timeout(300_000);
  let scratch: ReturnType<typeof scratchDir>;
  let keys: string;
  let refDir: string;
  const submitted: string[] = [];
  let reference: Promise<RunResult> | undefined;

  before(async function () {
    this.timeout(900_000); // a first apt-get install of slurm-wlm and munge
    scratch = scratchDir('nbm-slurm-');
    keys = join(scratch.dir, 'keys');
    refDir = join(scratch.dir, 'direct');
    const setup = await sh('bash', [SETUP], { timeoutMs: 840_000 });
    const last = (setup.stdout.trim().split('\n').at(-1) ?? '').trim();
    console.log(`      ${last}`);
    if (/^slurm-setup: unavailable/.test(last)) {
      console.log('      skipped: SLURM could not be installed on this machine (see the line above)');
      this.skip();
    }
    expect(setup.code, `.ci/slurm-setup.sh failed:\n${setup.stdout}\n${setup.stderr}`).to.equal(0);
    expect(last, setup.stdout).to.match(/^slurm-setup: ready/);
    const k = await runNbm(['keygen', keys]);
    expect(k.code, k.stderr).to.equal(0);
    // the reference, a direct local run with the same seed and settings, trains while the first job does
    reference = runNbm(['train', ...TRAIN, '--workers', String(WORKERS), '--out', refDir], { timeoutMs: 280_000 });
  });

  after(async () => {
    for (const id of submitted) {
      if ((await sh('squeue', ['-h', '-j', id, '-o', '%T'])).stdout.trim()) await sh('scancel', [id]);
    }
    await reference?.catch(() => undefined);
    scratch?.remove();
  });

  async function referenceCheckpoint() {
    const r = await reference!;
    expect(r.code, `the direct nbm train --workers ${WORKERS} run failed:\n${r.stderr}`).to.equal(0);
    return latestCheckpoint(refDir);
  }

  const output = (id: string) => {
    const f = join(scratch.dir, `slurm-${id}.out`);
    return existsSync(f) ? readFileSync(f, 'utf8') : '(no job output yet)';
  };

  /** sbatch, as a user types it: 1 node × WORKERS GPUs, the run's settings (or a sweep's) after the script. */
  async function submit(runDir: string, job: { command?: 'sweep'; args?: string[] } = {}): Promise<string> {
    expect(/\s/.test(process.execPath + NBM_BIN), 'paths without spaces (NBM_BIN is split on spaces)').to.equal(false);
    const env = {
      ...process.env,
      NBM_RUN: runDir,
      NBM_KEYS: keys,
      NBM_BIN: `${process.execPath} ${NBM_BIN}`,
      NBM_WORKER_ARGS: '--heartbeat-ms 500',
      ...(job.command ? { NBM_COMMAND: job.command } : {}),
    };
    const r = await sh('sbatch', ['--parsable', '--nodes=1', `--ntasks-per-node=${WORKERS}`, '--job-name=nbm-test', `--output=${join(scratch.dir, 'slurm-%j.out')}`, SBATCH, ...(job.args ?? TRAIN)], { cwd: scratch.dir, env });
    expect(r.code, `sbatch failed: ${r.stderr}`).to.equal(0);
    const id = r.stdout.trim().split(';')[0];
    expect(id).to.match(/^\d+$/);
    submitted.push(id);
    return id;
  }

  async function jobInfo(id: string): Promise<Record<string, string>> {
    const r = await sh('scontrol', ['show', 'job', '-o', id]);
    if (r.code !== 0) return {};
    return Object.fromEntries([...r.stdout.matchAll(/(\w+)=(\S*)/g)].map((m) => [m[1], m[2]]));
  }

  /**
   * Waits until the job has left the queue (ended and its processes gone, not merely requeued). A requeued job
   * is held back two minutes by SLURM (BeginTime); `hurry` lets it start at once.
   */
  async function waitEnd(id: string, hurry = false, timeoutMs = 200_000): Promise<JobEnd> {
    let hurried = 0;
    await waitForAsync(`job ${id} to end`, async () => {
      const state = (await sh('squeue', ['-h', '-j', id, '-o', '%T|%r'])).stdout.trim();
      if (hurry && /^PENDING\|BeginTime/.test(state)) {
        await sh('scontrol', ['update', `JobId=${id}`, 'StartTime=now']);
        hurried += 1;
      }
      return state === '';
    }, timeoutMs, () => output(id));
    const info = await jobInfo(id);
    if (hurry) expect(hurried, 'the requeued job was held by BeginTime and released').to.be.greaterThan(0);
    return { state: info.JobState ?? 'GONE', exitCode: info.ExitCode ?? '?', restarts: Number(info.Restarts ?? 0) };
  }

  async function waitForAsync(what: string, probe: () => Promise<boolean>, timeoutMs: number, context: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}\n${context()}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** Waits until the job's run has logged step INTERRUPT_AFTER, and checks it is not near its end yet. */
  async function waitMidRun(id: string, runDir: string): Promise<void> {
    await waitFor(`job ${id} to reach step ${INTERRUPT_AFTER}`, () => loggedStep(runDir) >= INTERRUPT_AFTER, 150_000, () => output(id), 100);
    expect(loggedStep(runDir), 'interrupted mid-run, not at the end').to.be.below(STEPS - 4);
  }

  const launches = (runDir: string) => readFileSync(join(runDir, 'slurm-jobs.log'), 'utf8').trim().split('\n');
  const resumedAt = (text: string) => [...text.matchAll(/resuming \S+ from \S+ \(step (\d+)\)/g)].map((m) => Number(m[1]));

  /** Steps 1..STEPS each logged exactly once, all at world size WORKERS. */
  function expectCompleteMetrics(runDir: string): void {
    const train = metricRows(runDir).filter((r) => r.kind === 'train');
    expect(train.map((r) => Number(r.step)), 'metrics.csv: every step once, in order').to.deep.equal(Array.from({ length: STEPS }, (_, i) => i + 1));
    expect([...new Set(train.map((r) => r.world_size))], 'metrics.csv world_size').to.deep.equal([String(WORKERS)]);
  }

  it('.ci/slurm-setup.sh again while the cluster runs: ready at once (its daemons do not hold the setup lock)', async () => {
    const again = await sh('bash', [SETUP], { timeoutMs: 60_000 });
    expect(again.code, `${again.stdout}\n${again.stderr}`).to.equal(0);
    expect(again.stdout.trim().split('\n').at(-1)).to.match(/^slurm-setup: ready/);
  });

  it(`sbatch --ntasks-per-node=${WORKERS}: trains on ${WORKERS} pinned workers and ends bitwise equal to nbm train --workers ${WORKERS}`, async () => {
    const run = join(scratch.dir, 'plain');
    const id = await submit(run);
    const end = await waitEnd(id);
    const log = output(id);
    expect(end, log).to.deep.include({ state: 'COMPLETED', exitCode: '0:0', restarts: 0 });
    expect(log).to.match(new RegExp(`coordinator at tcp://${hostname().split('.')[0]}:\\d+; starting ${WORKERS} worker`));
    expect(log).to.match(/done: 40 steps/);
    expectCompleteMetrics(run);
    const status = JSON.parse(readFileSync(join(run, 'status.json'), 'utf8')) as { world: number; members: Array<{ device: string; host: string }> };
    expect(status.world, 'status.json world').to.equal(WORKERS);
    // each worker pinned to the GPU SLURM gave its task (CUDA_VISIBLE_DEVICES → --device)
    expect(status.members.map((m) => m.device).sort(), 'devices').to.deep.equal(['cuda:0', 'cuda:1']);
    expect(launches(run)).to.have.length(1);
    expect(launches(run)[0]).to.match(new RegExp(`job=${id} restart=0 mode=fresh nodes=\\S+ world=${WORKERS} `));
    expectBitwiseEqual(await latestCheckpoint(run), await referenceCheckpoint(), 'SLURM job vs nbm train --workers 2');
  });

  it(`NBM_COMMAND=sweep: a 2-lr sweep with --workers-per-trial ${WORKERS} on the job's workers equals nbm sweep on one local worker; resubmitted, it resumes and changes nothing`, async () => {
    const dir = join(scratch.dir, 'sweep');
    const local = join(scratch.dir, 'sweep-local');
    const spec = [...TINY, '--lr', '1e-3,4e-3', '--epochs', '2', '--scheduler', 'none'];
    const args = [...spec, '--workers-per-trial', String(WORKERS)];
    const reference = runNbm(['sweep', ...spec, '--workers', '1', '--out', local], { timeoutMs: 200_000 });
    const id = await submit(dir, { command: 'sweep', args });
    const end = await waitEnd(id);
    expect(end, output(id)).to.deep.include({ state: 'COMPLETED', exitCode: '0:0' });
    expect(output(id)).to.match(new RegExp(`coordinator at tcp://${hostname().split('.')[0]}:\\d+; starting ${WORKERS} worker`));
    const sweepOf = (d: string) => JSON.parse(readFileSync(join(d, 'sweep.json'), 'utf8')) as { finished: boolean; trials: Array<{ id: string; dir: string; state: string; metrics: unknown[] }> };
    const done = sweepOf(dir);
    expect(done.finished).to.equal(true);
    const r = await reference;
    expect(r.code, r.stderr).to.equal(0);
    const ref = sweepOf(local);
    for (const [i, t] of done.trials.entries()) {
      expect(t.state, t.id).to.equal('completed');
      expect([...new Set(metricRows(join(dir, t.dir)).filter((row) => row.kind === 'train').map((row) => row.world_size))], `${t.id} world_size`).to.deep.equal([String(WORKERS)]);
      expect(t.metrics, `${t.id} metrics`).to.deep.equal(ref.trials[i].metrics);
      expectBitwiseEqual(await latestCheckpoint(join(dir, t.dir)), await latestCheckpoint(join(local, ref.trials[i].dir)), `${t.id}: SLURM sweep vs local sweep`);
    }
    // the same sbatch again: the script resumes the sweep (its space flags dropped), which has nothing left to do
    const again = await submit(dir, { command: 'sweep', args });
    expect(await waitEnd(again), output(again)).to.deep.include({ state: 'COMPLETED', exitCode: '0:0' });
    expect(launches(dir).map((l) => /mode=(\w+)/.exec(l)?.[1])).to.deep.equal(['fresh', 'resume']);
    expect(sweepOf(dir).trials).to.deep.equal(done.trials);
  });

  it('scancel mid-run, then the same sbatch again: the second job resumes from the last checkpoint and ends bitwise equal', async () => {
    const run = join(scratch.dir, 'cancelled');
    const first = await submit(run);
    await waitMidRun(first, run);
    const c = await sh('scancel', [first]);
    expect(c.code, c.stderr).to.equal(0);
    const end1 = await waitEnd(first);
    expect(end1.state, output(first)).to.equal('CANCELLED');
    const saved = await latestCheckpointStep(run);
    expect(saved, 'a mid-run checkpoint survived the cancel').to.be.within(INTERRUPT_AFTER - 1, STEPS - 1);

    const second = await submit(run);
    const end2 = await waitEnd(second);
    const log2 = output(second);
    expect(end2, log2).to.deep.include({ state: 'COMPLETED', exitCode: '0:0' });
    expect(resumedAt(log2), 'the second job resumed from the checkpoint the first left').to.deep.equal([saved]);
    expect(resumedAt(output(first)), 'the first job started fresh').to.deep.equal([]);
    const l = launches(run);
    expect(l).to.have.length(2);
    expect(l[0]).to.match(new RegExp(`job=${first} restart=0 mode=fresh .*world=${WORKERS} `));
    expect(l[1]).to.match(new RegExp(`job=${second} restart=0 mode=resume .*world=${WORKERS} `));
    expectCompleteMetrics(run);
    expectBitwiseEqual(await latestCheckpoint(run), await referenceCheckpoint(), 'cancelled + resubmitted vs nbm train --workers 2');
  });

  it('time limit near (USR1 to the batch shell, as --signal=B:USR1@120 sends): the job requeues itself, restarts and resumes', async () => {
    const run = join(scratch.dir, 'requeued');
    const id = await submit(run);
    await waitMidRun(id, run);
    const s = await sh('scancel', ['--batch', '--signal=USR1', id]);
    expect(s.code, s.stderr).to.equal(0);
    const end = await waitEnd(id, true);
    const log = output(id);
    expect(end, log).to.deep.include({ state: 'COMPLETED', exitCode: '0:0', restarts: 1 });
    expect(log).to.match(/time limit near: requeueing the job/);
    const resumed = resumedAt(log);
    expect(resumed, 'one resume, from a mid-run checkpoint').to.have.length(1);
    expect(resumed[0]).to.be.within(INTERRUPT_AFTER - 1, STEPS - 1);
    const l = launches(run);
    expect(l).to.have.length(2);
    expect(l[0]).to.match(new RegExp(`job=${id} restart=0 mode=fresh .*world=${WORKERS} `));
    expect(l[1]).to.match(new RegExp(`job=${id} restart=1 mode=resume .*world=${WORKERS} `));
    expectCompleteMetrics(run);
    expectBitwiseEqual(await latestCheckpoint(run), await referenceCheckpoint(), 'requeued vs nbm train --workers 2');
  });
});

/** Not SLURM, but the same placement question on one machine: `nbm train --workers N --gpus …`. */
describe('local multi-GPU: nbm train --workers 2 --gpus 3,1 records which worker had which device', function () {
  this.timeout(180_000);
  let scratch: ReturnType<typeof scratchDir>;
  before(() => (scratch = scratchDir('nbm-gpus-')));
  after(() => scratch?.remove());

  it('each spawned worker is started with --device from the list, and status.json / nbm status record it', async () => {
    const run = join(scratch.dir, 'gpus');
    const train = runNbm(['train', ...TINY, '--max-steps', '12', '--workers', '2', '--gpus', '3,1', '--out', run], { timeoutMs: 170_000 });
    type Status = { world: number; members: Array<{ pid: number; device: string; rank: number }> };
    const statusFile = join(run, 'status.json');
    // while the workers live: the device each one records is the one on its own command line
    const status = await waitFor('status.json with 2 workers', () => {
      if (!existsSync(statusFile)) return undefined;
      try {
        const s = JSON.parse(readFileSync(statusFile, 'utf8')) as Status;
        return s.members.length === 2 ? s : undefined;
      } catch {
        return undefined; // caught between writes
      }
    }, 150_000);
    let checked = 0;
    for (const m of status.members) {
      const cmdline = existsSync(`/proc/${m.pid}/cmdline`) ? readFileSync(`/proc/${m.pid}/cmdline`, 'utf8').split('\0') : [];
      if (cmdline.length > 1) {
        const flag = cmdline.indexOf('--device');
        expect(flag, `worker ${m.pid} was started with --device: ${cmdline.join(' ')}`).to.be.greaterThan(0);
        expect(m.device, `worker ${m.pid}`).to.equal(`cuda:${cmdline[flag + 1]}`);
        checked += 1;
      }
    }
    expect(checked, 'both workers were still running to be looked at').to.equal(2);
    expect(status.members.map((m) => m.device).sort()).to.deep.equal(['cuda:1', 'cuda:3']);
    const r = await train;
    expect(r.code, r.stderr).to.equal(0);
    const shown = await runNbm(['status', run]);
    expect(shown.code, shown.stderr).to.equal(0);
    const lines = shown.stdout.split('\n').filter((l) => /^\s+\d+\s/.test(l));
    expect(lines.map((l) => l.trim().split(/\s+/)[3]).sort(), shown.stdout).to.deep.equal(['cuda:1', 'cuda:3']);
    // a device per worker, no more and no fewer
    const bad = await runNbm(['train', ...TINY, '--max-steps', '1', '--workers', '2', '--gpus', '0', '--out', join(scratch.dir, 'bad')]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/--gpus must list one GPU index per worker/);
  });
});
