/**
 * How a run ends and who may write it: a run stopped by --max-steps inside an epoch is complete (a val row, its
 * pictures, a checkpoint); a resume names the checkpoints it skips and refuses a directory with none readable;
 * one process per run directory, a killed holder's lock taken over.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { NBM_BIN, csvRows, runNbm, scratchDir } from './helpers.ts';

/** A tiny MNIST run: 128 examples in batches of 32 (4 steps an epoch). */
const TINY = ['--train-examples', '128', '--val-examples', '64', '--batch-size', '32', '--hidden', '4', '--gibbs-steps', '2', '--log-every', '1', '--quiet'];

const rows = (dir: string) => csvRows(join(dir, 'metrics.csv'));

/** No line of a stack trace (`    at f (file:1:2)`). */
const STACK_FRAME = /^\s+at .*(\(|:\d+:\d+)/m;

/** Runs `job` over `items` two at a time (these are process starts; the machine may have 2 cores), in order. */
async function inPairs<T, R>(items: readonly T[], job: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += 2) out.push(...(await Promise.all(items.slice(i, i + 2).map(job))));
  return out;
}

describe('a run that stops inside an epoch is complete', function () {
  this.timeout(180_000);
  const scratch = scratchDir();
  after(() => scratch.remove());

  it('--max-steps: a val row at the last step, its pictures and its checkpoint', async () => {
    const out = join(scratch.dir, 'short');
    const r = await runNbm(['train', ...TINY, '--epochs', '2', '--max-steps', '6', '--out', out]);
    expect(r.code, r.stderr).to.equal(0);
    const val = rows(out).filter((x) => x.kind === 'val');
    expect(val.map((x) => [x.epoch, x.step]), 'epoch 1 at its end, then epoch 2 at step 6').to.deep.equal([['1', '4'], ['2', '6']]);
    for (const x of val) expect(Number.isFinite(Number(x.mse_bias)), 'a finite MSE_bias').to.equal(true);
    for (const folder of ['samples', 'components']) {
      expect(readdirSync(join(out, folder)).sort(), folder).to.deep.equal(['epoch-001.png', 'step-00000006.png']);
    }
    expect(existsSync(join(out, 'checkpoints', 'step-00000006.safetensors'))).to.equal(true);
    expect(JSON.parse(readFileSync(join(out, 'checkpoints', 'latest.json'), 'utf8')).file).to.equal('step-00000006.safetensors');
    expect(existsSync(join(out, 'nbm.lock')), 'the lock is released at the end').to.equal(false);
  });

  it('a resume from there drops that row and ends with the rows of a run that never stopped', async () => {
    const straight = join(scratch.dir, 'straight');
    expect((await runNbm(['train', ...TINY, '--epochs', '2', '--no-pictures', '--out', straight])).code).to.equal(0);
    const out = join(scratch.dir, 'short');
    const r = await runNbm(['train', '--resume', out, '--max-steps', '0', '--quiet']);
    expect(r.code, r.stderr).to.equal(0);
    const timing = new Set(['samples_per_s', 'compute_ms', 'reduce_ms', 'wall_s']);
    const strip = (xs: Array<Record<string, string>>) => xs.map((x) => Object.fromEntries(Object.entries(x).filter(([k]) => !timing.has(k))));
    expect(strip(rows(out))).to.deep.equal(strip(rows(straight)));
  });
});

describe('a sweep sized by a step budget', function () {
  this.timeout(180_000);
  const scratch = scratchDir();
  after(() => scratch.remove());

  it('--epochs 1 --max-steps: every trial has its last validation; the diverged one ranks below the finite ones', async () => {
    const out = join(scratch.dir, 'sweep');
    const r = await runNbm([
      'sweep', '--lr', '1e-3,1e-2,1e3', '--epochs', '1', '--max-steps', '20', '--metric', 'val_mse_bias', '--scheduler', 'none',
      '--train-examples', '1024', '--val-examples', '64', '--batch-size', '32', '--hidden', '4', '--gibbs-steps', '2', '--workers', '1', '--out', out, '--quiet',
    ]);
    expect(r.code, r.stderr).to.equal(0);
    const table = csvRows(join(out, 'sweep.csv'));
    expect(table.map((t) => [t.lr, t.state])).to.deep.equal([['0.01', 'completed'], ['0.001', 'completed'], ['1000', 'diverged']]);
    expect(Number(table[0].val_mse_bias)).to.be.below(Number(table[1].val_mse_bias));
    for (const t of table.slice(0, 2)) expect(Number.isFinite(Number(t.val_mse_bias)), `${t.trial} has a metric`).to.equal(true);
    // each finite trial's metric is the val row its 20-step budget ended with
    const trial = rows(join(out, 'trials', table[0].trial)).filter((x) => x.kind === 'val');
    expect(trial.map((x) => x.step)).to.deep.equal(['20']);
    expect(Number(trial[0].mse_bias)).to.equal(Number(table[0].val_mse_bias));
  });
});

describe('resume says what it does', function () {
  this.timeout(180_000);
  const scratch = scratchDir();
  after(() => scratch.remove());

  it('names the unreadable newest checkpoint it skips and resumes from the one before', async () => {
    const out = join(scratch.dir, 'skip');
    expect((await runNbm(['train', ...TINY, '--epochs', '2', '--max-steps', '6', '--no-pictures', '--out', out])).code).to.equal(0);
    // the run wrote epoch-001 (step 4) and step-00000006; damage the newest one
    writeFileSync(join(out, 'checkpoints', 'step-00000006.safetensors'), 'not a checkpoint');
    const r = await runNbm(['train', '--resume', out, '--max-steps', '5']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/resume: skipped .*step-00000006\.safetensors: /);
    expect(r.stderr).to.match(/from .*epoch-001\.safetensors \(step 4\)/);
  });

  it('refuses a run whose checkpoints are all unreadable, and says how to start over', async () => {
    const out = join(scratch.dir, 'skip');
    for (const f of readdirSync(join(out, 'checkpoints'))) writeFileSync(join(out, 'checkpoints', f), 'garbage');
    const before = readFileSync(join(out, 'metrics.csv'), 'utf8');
    const r = await runNbm(['train', '--resume', out, '--quiet']);
    expect(r.code).to.not.equal(0);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.match(/has checkpoints but none loads .*delete the run directory to start it over/);
    expect(readFileSync(join(out, 'metrics.csv'), 'utf8'), 'nothing rewritten').to.equal(before);
  });
});

describe('one writer per run directory', function () {
  this.timeout(180_000);
  const scratch = scratchDir();
  after(() => scratch.remove());

  it('refuses a second trainer naming the holder, and takes over the lock of a holder killed with -9', async () => {
    const out = join(scratch.dir, 'busy');
    const holder = spawn(process.execPath, [NBM_BIN, 'train', ...TINY, '--epochs', '500', '--no-pictures', '--out', out], { stdio: 'ignore' });
    const gone = new Promise((r) => holder.once('exit', r));
    try {
      const metrics = join(out, 'metrics.csv');
      for (let i = 0; i < 1200 && !(existsSync(metrics) && rows(out).length > 2); i++) await new Promise((r) => setTimeout(r, 50));
      expect(rows(out).length, 'the holder is training').to.be.greaterThan(2);
      const second = await runNbm(['train', '--resume', out, '--quiet']);
      expect(second.code).to.not.equal(0);
      expect(second.stderr.trim().split('\n')).to.have.length(1);
      expect(second.stderr).to.match(new RegExp(`held by pid ${holder.pid} on ${hostname()}: another nbm process is training`));
      expect(second.stderr).to.not.match(STACK_FRAME);
    } finally {
      holder.kill('SIGKILL');
      await gone;
    }
    expect(existsSync(join(out, 'nbm.lock')), 'kill -9 leaves the lock behind').to.equal(true);
    const r = await runNbm(['train', '--resume', out, '--max-steps', String(4 * 3), '--quiet']);
    expect(r.code, r.stderr).to.equal(0);
    expect(existsSync(join(out, 'nbm.lock'))).to.equal(false);
  });
});

describe('one line per user error, help on every command', function () {
  this.timeout(180_000);
  const scratch = scratchDir();
  after(() => scratch.remove());

  const commands = ['train', 'sample', 'sweep', 'eval', 'worker', 'keygen', 'status', 'infra', 'bench'];
  it('every command and benchmark prints its help and exits 0 on --help', async () => {
    const all = [...commands.map((x) => [x]), ...['step', 'allreduce', 'scaling', 'sample'].map((b) => ['bench', b])];
    const results = await inPairs(all, (c) => runNbm([...c, '--help']));
    all.forEach((c, i) => {
      expect(results[i].code, `${c.join(' ')} --help: ${results[i].stderr}`).to.equal(0);
      expect(results[i].stdout, c.join(' ')).to.match(new RegExp(`nbm ${c.join(' ')}`));
    });
  });

  it('bad input to each command: one line `nbm <command>: …`, a non-zero exit, no stack frame', async () => {
    const missing = join(scratch.dir, 'missing');
    const existing = join(scratch.dir, 'existing');
    expect((await runNbm(['train', ...TINY, '--epochs', '1', '--max-steps', '1', '--no-pictures', '--out', existing])).code).to.equal(0);
    const cases: string[][] = [
      ['train', '--bogus'],
      ['train', '--lr', 'fast'],
      ['train', '--out', existing],
      ['train', '--resume', missing],
      ['train', '--dataset', 'npy', '--x', join(missing, 'x.npy'), '--y', join(missing, 'y.npy')],
      ['train', '--listen', 'tcp://10.1.1.1:5555', '--expect', '2'],
      ['train', '--engine', 'native', '--kernel', 'tfjs'],
      ['train', '--engine', 'gpu'],
      ['train', '--backend', 'tensorflow', '--engine', 'tfjs'],
      ['sample', '--checkpoint', missing, '--out', join(scratch.dir, 's')],
      ['sample', '--checkpoint', existing],
      ['sample', '--checkpoint', existing, '--out', join(scratch.dir, 's2'), '--engine', 'gpu'],
      ['sample', '--checkpoint', existing, '--out', join(scratch.dir, 's3'), '--engine', 'tfjs', '--backend', 'native'],
      ['eval', '--checkpoint', missing],
      ['eval', '--checkpoint', existing, '--split', 'train'],
      ['sweep', '--lr', 'abc', '--out', join(scratch.dir, 'sw')],
      ['worker', '--connect', 'nonsense'],
      ['worker', '--connect', 'tcp://10.2.3.4:5555'],
      ['keygen'],
      ['status', missing],
      ['infra', 'k8s', '--workers', '2'],
      ['infra', 'k8s', '--workers', '2', '--image', 'img', '--keys', missing],
      ['bench', 'nonexistent'],
      ['bench', 'step', '--bogus'],
    ];
    const results = await inPairs(cases, (args) => runNbm(args));
    for (const [i, args] of cases.entries()) {
      const r = results[i];
      const what = args.join(' ');
      expect(r.code, what).to.not.equal(0);
      const lines = r.stderr.trim().split('\n');
      expect(lines, `${what}: ${r.stderr}`).to.have.length(1);
      expect(lines[0], what).to.match(new RegExp(`^nbm ${args[0]}: \\S`));
      expect(r.stderr, what).to.not.match(STACK_FRAME);
      expect(r.stderr, what).to.not.match(/internal error/);
    }
  });

  it('workers that never join a listening coordinator: the error says how to start them, no stack; the run waits at step 0 for --resume', async () => {
    const out = join(scratch.dir, 'nobody-came');
    const r = await runNbm(['train', ...TINY, '--listen', 'tcp://127.0.0.1:*', '--expect', '1', '--start-timeout-ms', '500', '--out', out]);
    expect(r.code).to.not.equal(0);
    const last = r.stderr.trim().split('\n').at(-1)!;
    expect(last, r.stderr).to.match(/^nbm train: waited 500 ms for 1 worker, 0 arrived: start them with 'nbm worker --connect tcp:\/\/127\.0\.0\.1:\d+' \(or wait longer: --start-timeout-ms\)$/);
    expect(r.stderr).to.match(/coordinator listening on tcp:\/\/127\.0\.0\.1:\d+; waiting for 1 worker\(s\)/);
    expect(r.stderr).to.not.match(STACK_FRAME);
    expect(existsSync(join(out, 'config.json')), 'the run is there to --resume').to.equal(true);
    expect(readdirSync(join(out, 'checkpoints')), 'no step was taken').to.deep.equal([]);
  });
});
