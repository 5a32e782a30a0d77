import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { writeNpy } from '@nbm/data';
import { readScalarEvents } from '@nbm/report';
import { csvRows, runNbm, scratchDir } from './helpers.ts';

/** A small, quick MNIST run: 2 epochs of 256 examples, tiny hidden layer, short chains. */
const QUICK = ['--train-examples', '256', '--val-examples', '128', '--batch-size', '32', '--hidden', '8', '--gibbs-steps', '4', '--epochs', '2', '--log-every', '1', '--backend', 'cpu', '--kernel', 'tfjs', '--quiet'];

/**
 * The scalars TensorBoard shows for a run's tensorboard/: its events files read in name order, each tag's points
 * in order, a point at step s preempting that tag's points at steps >= s (how TensorBoard treats a restarted run).
 */
function boardSeries(dir: string): { files: string[]; series: Map<string, Array<[number, number]>> } {
  const files = readdirSync(join(dir, 'tensorboard')).sort();
  const series = new Map<string, Array<[number, number]>>();
  for (const f of files) {
    const events = readScalarEvents(join(dir, 'tensorboard', f));
    expect(events[0].fileVersion, f).to.equal('brain.Event:2');
    for (const e of events.slice(1)) {
      for (const [tag, v] of Object.entries(e.scalars)) {
        const points = (series.get(tag) ?? []).filter(([step]) => step < e.step);
        series.set(tag, [...points, [e.step, v]]);
      }
    }
  }
  return { files, series };
}

describe('nbm train (end to end)', function () {
  this.timeout(300_000);
  const scratch = scratchDir();
  after(() => scratch.remove());

  it('writes every output of a run and its CD loss falls', async () => {
    const out = join(scratch.dir, 'quick');
    const r = await runNbm(['train', ...QUICK, '--out', out, '--lr', '3e-3', '--eval-every', '2']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/done: 16 steps/);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.backend).to.equal('cpu');
    expect(config.runtime.backend.name).to.equal('cpu');
    expect(config.runtime.backend.reason).to.match(/--backend cpu/);
    expect(config.runtime.model).to.include({ nx: 10, ny: 784, nh: 8 });
    expect(readdirSync(join(out, 'checkpoints')).sort()).to.include.members(['epoch-001.safetensors', 'epoch-002.safetensors', 'latest.json']);
    for (const f of ['samples/epoch-001.png', 'samples/epoch-002.png', 'components/epoch-001.png', 'components/epoch-002.png', 'loss.png']) {
      const png = PNG.sync.read(readFileSync(join(out, f)));
      expect(png.width, f).to.be.above(50);
    }
    const rows = csvRows(join(out, 'metrics.csv'));
    const train = rows.filter((r) => r.kind === 'train');
    const val = rows.filter((r) => r.kind === 'val');
    expect(train).to.have.length(16);
    expect(val).to.have.length(2);
    const evals = rows.filter((r) => r.kind === 'eval');
    expect(evals.map((r) => r.epoch), '--eval-every 2: after epoch 2 only').to.deep.equal(['2']);
    expect(Number.isFinite(Number(evals[0].loglik_nats))).to.equal(true);
    const first = train.slice(0, 4).reduce((s, r) => s + Number(r.mse_bias), 0) / 4;
    const last = train.slice(-4).reduce((s, r) => s + Number(r.mse_bias), 0) / 4;
    expect(last, 'MSE_bias falls').to.be.below(first);
    for (const r of [...train, ...val]) for (const k of ['cd_loss', 'mse_bias', 'mse_var']) expect(Number.isFinite(Number(r[k])), `${k} finite`).to.equal(true);
    // tensorboard/: one events file, the metrics.csv rows as scalars at their global steps
    const { files, series } = boardSeries(out);
    expect(files).to.have.length(1);
    expect(files[0]).to.match(/^events\.out\.tfevents\.\d+\./);
    expect([...series.keys()].sort()).to.deep.equal([
      'eval/loglik_nats', 'train/cd_loss', 'train/mse_bias', 'train/mse_var', 'train/samples_per_s', 'val/cd_loss', 'val/mse_bias', 'val/mse_var',
    ]);
    const board = (tag: string, rows: Array<Record<string, string>>, column: string) => {
      const points = series.get(tag)!;
      expect(points.map(([step]) => step), tag).to.deep.equal(rows.map((r) => Number(r.step)));
      points.forEach(([, v], i) => expect(v, `${tag} at step ${points[i][0]}`).to.be.closeTo(Number(rows[i][column]), 1e-6 * Math.abs(Number(rows[i][column])) + 1e-30));
    };
    for (const c of ['cd_loss', 'mse_bias', 'mse_var', 'samples_per_s']) board(`train/${c}`, train, c);
    for (const c of ['cd_loss', 'mse_bias', 'mse_var']) board(`val/${c}`, val, c);
    board('eval/loglik_nats', evals, 'loglik_nats');
  });

  it('--resume continues exactly: the same metrics as a run that never stopped', async () => {
    const straight = join(scratch.dir, 'straight');
    const stopped = join(scratch.dir, 'stopped');
    const common = [...QUICK, '--no-pictures'];
    expect((await runNbm(['train', ...common, '--out', straight])).code).to.equal(0);
    // stop in the middle of the second epoch, then resume to the end
    const a = await runNbm(['train', ...common, '--out', stopped, '--max-steps', '11']);
    expect(a.code, a.stderr).to.equal(0);
    expect(existsSync(join(stopped, 'checkpoints', 'step-00000011.safetensors'))).to.equal(true);
    const b = await runNbm(['train', '--resume', stopped, '--max-steps', '0', '--quiet']);
    expect(b.code, b.stderr).to.equal(0);
    const timing = new Set(['samples_per_s', 'compute_ms', 'reduce_ms', 'wall_s']);
    const strip = (rows: Array<Record<string, string>>) => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !timing.has(k))));
    expect(strip(csvRows(join(stopped, 'metrics.csv')))).to.deep.equal(strip(csvRows(join(straight, 'metrics.csv'))));
    // TensorBoard: the resume wrote a second events file; the training curves read as the straight run's
    const [once, twice] = [boardSeries(straight), boardSeries(stopped)];
    expect(twice.files).to.have.length(2);
    for (const tag of ['train/cd_loss', 'train/mse_bias', 'train/mse_var']) expect(twice.series.get(tag), tag).to.deep.equal(once.series.get(tag));
    // ...but the val point the stop at step 11 wrote stays in TensorBoard (metrics.csv drops it on resume)
    expect(once.series.get('val/cd_loss')!.map(([step]) => step)).to.deep.equal([8, 16]);
    expect(twice.series.get('val/cd_loss')!.map(([step]) => step)).to.deep.equal([8, 11, 16]);
    // the checkpoints differ only in their config metadata (max-steps); compare the tensors through the loader
    const { loadCheckpoint } = await import('@nbm/checkpoint');
    const [x, y] = await Promise.all([loadCheckpoint(join(straight, 'checkpoints', 'epoch-002.safetensors')), loadCheckpoint(join(stopped, 'checkpoints', 'epoch-002.safetensors'))]);
    x.params.forEach((p, i) => expect(Buffer.from(p.data.buffer).equals(Buffer.from(y.params[i].data.buffer)), p.name).to.equal(true));
    expect(x.optimizer.step).to.equal(y.optimizer.step);
    x.optimizer.m.forEach((m, i) => expect(Buffer.from(m.buffer).equals(Buffer.from(y.optimizer.m[i].buffer))).to.equal(true));
    x.optimizer.v.forEach((v, i) => expect(Buffer.from(v.buffer).equals(Buffer.from(y.optimizer.v[i].buffer))).to.equal(true));
  });

  describe('bad input: a clear error, non-zero exit, no run directory', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['an unknown flag', ['--bogus', '1'], /Unknown option '--bogus'/],
      ['--batch-size 0', ['--batch-size', '0'], /--batch-size must be a positive integer, got 0/],
      ['a non-numeric --lr', ['--lr', 'fast'], /--lr must be a number, got 'fast'/],
      ['an unknown dataset', ['--dataset', 'cifar'], /--dataset must be mnist, fashion-mnist or npy/],
      ['npy without files', ['--dataset', 'npy'], /--dataset npy needs --x/],
      ['a missing .npy', ['--dataset', 'npy', '--x', '/nonexistent/x.npy', '--y', '/nonexistent/y.npy'], /x\.npy/],
    ];
    for (const [what, args, message] of cases) {
      it(what, async () => {
        const out = join(scratch.dir, `bad-${what.replace(/\W+/g, '-')}`);
        const r = await runNbm(['train', ...args, '--out', out, '--backend', 'cpu', '--quiet']);
        expect(r.code).to.not.equal(0);
        expect(r.stderr).to.match(message);
        expect(r.stderr).to.not.match(/\n\s+at /); // a message, not a stack trace
        expect(existsSync(out), 'no run directory').to.equal(false);
      });
    }

    it('malformed and mis-shaped .npy files', async () => {
      const x = join(scratch.dir, 'x.npy');
      const y = join(scratch.dir, 'y.npy');
      const garbage = join(scratch.dir, 'garbage.npy');
      writeNpy(x, new Float32Array(20 * 3), [20, 3]);
      writeNpy(y, new Float32Array(19 * 5), [19, 5]);
      writeFileSync(garbage, 'not a numpy file at all');
      for (const [args, message] of [
        [['--x', x, '--y', y], /20.*19|19.*20/],
        [['--x', garbage, '--y', y], /garbage\.npy/],
      ] as const) {
        const out = join(scratch.dir, 'bad-npy');
        const r = await runNbm(['train', '--dataset', 'npy', ...args, '--out', out, '--backend', 'cpu', '--quiet']);
        expect(r.code).to.not.equal(0);
        expect(r.stderr).to.match(message);
        expect(existsSync(out)).to.equal(false);
      }
    });
  });
});

describe('nbm train: SIGTERM (preemption)', function () {
  this.timeout(300_000);
  const scratch = scratchDir();
  after(() => scratch.remove());

  // with workers, the step run ahead when the signal came is undone before the checkpoint
  for (const workers of [0, 2]) it(`checkpoints after the step in flight, exits 143, and --resume ends where an uninterrupted run does${workers ? ` (${workers} workers)` : ''}`, async () => {
    const { spawn } = await import('node:child_process');
    const { NBM_BIN } = await import('./helpers.ts');
    const args = [...QUICK, '--no-pictures', '--epochs', '3', ...(workers ? ['--workers', String(workers), '--threads', '1'] : [])];
    const straight = join(scratch.dir, `straight-${workers}`);
    expect((await runNbm(['train', ...args, '--out', straight])).code).to.equal(0);
    const dir = join(scratch.dir, `preempted-${workers}`);
    const child = spawn(process.execPath, [NBM_BIN, 'train', ...args, '--out', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const exit = new Promise<number | null>((r) => child.on('close', r));
    const metrics = join(dir, 'metrics.csv');
    for (let i = 0; i < 600 && !(existsSync(metrics) && readFileSync(metrics, 'utf8').trim().split('\n').length > 4); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    expect(await exit, err).to.equal(143);
    expect(err).to.match(/checkpoint .* written, continue with --resume/);
    const r = await runNbm(['train', '--resume', dir, '--quiet']);
    expect(r.code, r.stderr).to.equal(0);
    const { loadCheckpoint } = await import('@nbm/checkpoint');
    const [a, b] = await Promise.all([loadCheckpoint(join(straight, 'checkpoints', 'epoch-003.safetensors')), loadCheckpoint(join(dir, 'checkpoints', 'epoch-003.safetensors'))]);
    a.params.forEach((p, i) => expect(Buffer.from(p.data.buffer).equals(Buffer.from(b.params[i].data.buffer)), p.name).to.equal(true));
  });
});

describe('nbm train: the native kernel missing', function () {
  this.timeout(120_000);
  const scratch = scratchDir();
  after(() => scratch.remove());
  const small = ['--train-examples', '64', '--val-examples', '32', '--batch-size', '32', '--hidden', '4', '--gibbs-steps', '2', '--epochs', '1', '--backend', 'cpu', '--no-pictures', '--quiet'];

  it('--kernel auto falls back to the tfjs path with one clear line, and records it', async () => {
    const out = join(scratch.dir, 'fallback');
    const r = await runNbm(['train', ...small, '--out', out], { env: { NBM_NATIVE_DISABLE: '1' } });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr.split('\n').filter((l) => /native/.test(l))).to.have.length(1);
    expect(r.stderr).to.match(/kernel: tfjs \(.*disabled by NBM_NATIVE_DISABLE=1/);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.runtime.kernel.name).to.equal('tfjs');
  });

  it('--kernel native without the kernel is an error that says why, and leaves no run directory', async () => {
    const out = join(scratch.dir, 'required');
    const r = await runNbm(['train', ...small, '--kernel', 'native', '--out', out], { env: { NBM_NATIVE_DISABLE: '1' } });
    expect(r.code).to.equal(2);
    expect(r.stderr).to.not.match(/\n\s+at /);
    expect(r.stderr).to.match(/--engine native: the native CPU kernel is not available: disabled by NBM_NATIVE_DISABLE=1/);
    expect(existsSync(out)).to.equal(false);
  });
});
