/**
 * `nbm sweep` end to end: real trials on real worker processes (a tiny model, so each trial takes a second or
 * two), a coordinator killed with SIGKILL mid-sweep and resumed, and bad flags.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { PNG } from 'pngjs';
import { validateConfig } from '@nbm/train';
import { resolveTrainConfig } from '../apps/cli/src/train-options.ts';
import { NBM_BIN, csvRows, scratchDir, type RunResult } from './helpers.ts';
import { expectBitwiseEqual, latestCheckpoint } from './cluster-helpers.ts';

const TINY = ['--train-examples', '300', '--val-examples', '60', '--batch-size', '30', '--hidden', '8', '--gibbs-steps', '3', '--backend', 'cpu', '--kernel', 'tfjs', '--no-pictures'];
/** Fast failure detection, so that the killed sweep's orphaned worker gives up its trial quickly. */
const FAST = ['--heartbeat-ms', '200', '--timeout-ms', '3000'];

const MAIN = join(import.meta.dirname, '..', 'apps', 'cli', 'src', 'main.ts');
const SWEEP_TS = join(import.meta.dirname, '..', 'apps', 'cli', 'src', 'commands', 'sweep.ts');

/** Runs sweepCommand as main.ts would (a UsageError is one line and exit code 2). */
const DIRECT = `import { sweepCommand } from ${JSON.stringify(SWEEP_TS)};
try { process.exitCode = await sweepCommand(process.argv.slice(1)); }
catch (e) { if (e.name !== 'UsageError') throw e; console.error('nbm sweep: ' + e.message); process.exitCode = 2; }`;

/** Starts `nbm sweep ARGS`: through `nbm` once main.ts registers the command, else through sweepCommand directly. */
function startSweep(args: string[]): { child: ChildProcess; done: Promise<RunResult> } {
  const viaNbm = /\bsweepCommand\b/.test(readFileSync(MAIN, 'utf8'));
  const argv = viaNbm
    ? [NBM_BIN, 'sweep', ...args]
    : ['--import', 'tsx', '--input-type=module', '-e', DIRECT, '--', ...args];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<RunResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`nbm sweep ${args.join(' ')} timed out\n${stderr}`));
    }, 240_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done };
}

const sweepJson = (dir: string) => JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));

/** path → mtime of every file under `dir`. */
function mtimes(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) {
      const p = join(e.parentPath, e.name);
      out[p] = statSync(p).mtimeMs;
    }
  }
  return out;
}

interface TrialJson { id: string; dir: string; state: string; worker?: string }

/**
 * Polls the sweep in `out` until `pick` returns something for one of its running trials (given the pids of its
 * workers and whether its epoch-E checkpoint exists); fails when the sweep ends first or after 3 minutes.
 */
async function runningTrial<T>(run: { done: Promise<RunResult> }, out: string, pick: (t: TrialJson, pids: number[], ckpt: (epoch: number) => boolean) => T | undefined): Promise<T> {
  let exited: RunResult | undefined;
  void run.done.then((r) => (exited = r));
  for (let waited = 0; ; waited += 50) {
    expect(waited, 'a trial checkpoints within 3 minutes').to.be.below(180_000);
    expect(exited, `the sweep ended first: ${exited?.stderr}`).to.equal(undefined);
    await new Promise((r) => setTimeout(r, 50));
    let sweep: { trials: TrialJson[] };
    try {
      sweep = sweepJson(out);
    } catch {
      continue; // not written yet, or being replaced
    }
    for (const t of sweep.trials) {
      if (t.state !== 'running') continue;
      const pids = [...String(t.worker ?? '').matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
      const found = pick(t, pids, (e) => existsSync(join(out, t.dir, 'checkpoints', `epoch-00${e}.safetensors`)));
      if (found !== undefined) return found;
    }
  }
}

const FINAL = ['completed', 'stopped', 'diverged', 'failed'];

describe('nbm sweep (end to end)', function () {
  this.timeout(300_000);
  const scratch = scratchDir('nbm-sweep-');
  after(() => scratch.remove());

  it('sweeps 4 learning rates × 2 epochs with ASHA on 2 workers, writes every output, and puts lr 10 last', async () => {
    const out = join(scratch.dir, 'lr');
    const r = await startSweep([...TINY, '--lr', '1e-3,3e-3,1e-2,10', '--epochs', '2', '--scheduler', 'asha', '--reduction-factor', '2', '--grace-period', '1', '--metric', 'val_mse_bias', '--workers', '2', '--out', out]).done;
    expect(r.code, r.stderr).to.equal(0);

    const sweep = sweepJson(out);
    expect(sweep.finished).to.equal(true);
    expect(sweep.trials.map((t: { id: string }) => t.id)).to.deep.equal(['t000', 't001', 't002', 't003']);
    expect(sweep.trials.map((t: { settings: { lr: number } }) => t.settings.lr)).to.deep.equal([1e-3, 3e-3, 1e-2, 10]);
    for (const t of sweep.trials) {
      expect(FINAL, `${t.id} is final`).to.include(t.state);
      expect(existsSync(join(out, t.dir, 'config.json')), `${t.id} has a run directory`).to.equal(true);
      // ASHA with η = 2, rungs at epochs 1 and 2: completed trials have both epochs, stopped ones the first only
      if (t.state === 'completed') expect(t.metrics.map((m: { epoch: number }) => m.epoch)).to.deep.equal([1, 2]);
      if (t.state === 'stopped') expect(t.metrics).to.have.length(1);
    }
    const states = sweep.trials.map((t: { state: string }) => t.state);
    expect(states.filter((s: string) => s === 'completed').length, 'rung 0 promotes 1 or 2 of its 4').to.be.within(1, 2);
    expect(states.filter((s: string) => s === 'failed')).to.deep.equal([]);

    // lr 10 explodes: it diverged, or at least ranks last
    const rows = csvRows(join(out, 'sweep.csv'));
    expect(rows.map((row) => row.rank)).to.deep.equal(['1', '2', '3', '4']);
    const bad = rows.find((row) => Number(row.lr) === 10)!;
    expect(bad.state === 'diverged' || bad.rank === '4', `lr 10: ${JSON.stringify(bad)}`).to.equal(true);
    expect(rows[3].trial).to.equal('t003');

    // best.json: the winner, loadable by nbm train --config
    const best = JSON.parse(readFileSync(join(out, 'best.json'), 'utf8'));
    expect(best.trial).to.equal(rows[0].trial);
    expect(best.metric).to.equal('val_mse_bias');
    expect(best.settings.lr).to.equal(Number(rows[0].lr));
    expect(best.settings.lr).to.not.equal(10);
    expect(existsSync(join(best.run_dir, 'checkpoints', 'epoch-002.safetensors'))).to.equal(true);
    const config = resolveTrainConfig({ config: join(out, 'best.json') });
    expect(config.lr).to.equal(best.settings.lr);
    expect(config.hidden).to.equal(8);
    expect(config.epochs).to.equal(2);
    expect(config.out).to.not.equal(best.run_dir);
    validateConfig(config);

    const png = PNG.sync.read(readFileSync(join(out, 'sweep.png')));
    expect(png.width).to.equal(800);
    expect(png.height).to.be.above(600);
    // the final table, ranked, on stdout
    const table = r.stdout.split('\n');
    expect(table[0]).to.match(/^rank\s+trial\s+lr\s+epoch\s+val_mse_bias\s+state$/);
    expect(r.stdout).to.match(/best: t00\d --lr /);
  });

  it('resumes a sweep whose coordinator was killed: finished trials are kept, the table is complete, resume is idempotent', async () => {
    const out = join(scratch.dir, 'killed');
    const args = [...TINY, '--lr', '1e-3,2e-3,4e-3,8e-3', '--epochs', '2', '--scheduler', 'none', ...FAST, '--out', out];
    const first = startSweep([...args, '--workers', '1']);
    // wait for one finished trial, with others still to go, then kill the coordinator outright
    let finished: Array<{ id: string; dir: string; attempts: number }> = [];
    let exited: RunResult | undefined;
    void first.done.then((r) => (exited = r));
    for (let waited = 0; ; waited += 100) {
      expect(waited, 'a trial finishes within 3 minutes').to.be.below(180_000);
      expect(exited, `the sweep ended before it could be killed: ${exited?.stderr}`).to.equal(undefined);
      await new Promise((r) => setTimeout(r, 100));
      if (!existsSync(join(out, 'sweep.json'))) continue;
      let s;
      try {
        s = sweepJson(out);
      } catch {
        continue; // being replaced: atomic rename, but read between stat and open
      }
      finished = s.trials.filter((t: { state: string }) => t.state === 'completed');
      if (finished.length > 0) break;
    }
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.code).to.equal(null);
    const before = sweepJson(out);
    expect(before.finished).to.equal(false);
    expect(before.trials.filter((t: { state: string }) => t.state !== 'completed').length, 'trials left at the kill').to.be.above(0);
    const kept = Object.fromEntries(finished.map((t) => [t.id, mtimes(join(out, t.dir))]));

    const resumed = await startSweep(['--resume', out, '--workers', '2', ...FAST]).done;
    expect(resumed.code, resumed.stderr).to.equal(0);
    const after = sweepJson(out);
    expect(after.finished).to.equal(true);
    for (const t of after.trials) {
      expect(t.state, t.id).to.equal('completed');
      expect(t.metrics.map((m: { epoch: number }) => m.epoch), t.id).to.deep.equal([1, 2]);
    }
    for (const t of finished) {
      const now = after.trials.find((x: { id: string }) => x.id === t.id);
      expect(now.attempts, `${t.id} was not rerun`).to.equal(t.attempts);
      expect(mtimes(join(out, t.dir)), `${t.id}'s files are untouched`).to.deep.equal(kept[t.id]);
    }
    const rows = csvRows(join(out, 'sweep.csv'));
    expect(rows.map((row) => row.trial).sort()).to.deep.equal(['t000', 't001', 't002', 't003']);
    expect(resumed.stdout.split('\n').filter((l) => /^\d+\s+t00\d/.test(l))).to.have.length(4);

    // a second resume finds nothing to do: no worker starts, no trial file changes, the same outputs
    const allFiles = mtimes(join(out, 'trials'));
    const csv = readFileSync(join(out, 'sweep.csv'), 'utf8');
    const workersLog = readFileSync(join(out, 'workers.log'), 'utf8');
    const again = await startSweep(['--resume', out, '--workers', '2']).done;
    expect(again.code, again.stderr).to.equal(0);
    expect(mtimes(join(out, 'trials'))).to.deep.equal(allFiles);
    expect(readFileSync(join(out, 'sweep.csv'), 'utf8')).to.equal(csv);
    expect(readFileSync(join(out, 'workers.log'), 'utf8')).to.equal(workersLog);
  });

  it('loses a worker mid-trial: the trial goes to another worker and continues from its last checkpoint', async () => {
    const out = join(scratch.dir, 'lost');
    const run = startSweep([...TINY, '--lr', '1e-3,2e-3', '--epochs', '3', '--scheduler', 'none', '--workers', '2', ...FAST, '--out', out]);
    // kill the worker of a trial that has checkpointed an epoch but not finished
    const victim = await runningTrial(run, out, (t, pids, ckpt) => (pids.length === 1 && ckpt(1) && !ckpt(3) ? { id: t.id, dir: t.dir, pid: pids[0] } : undefined));
    process.kill(victim.pid, 'SIGKILL');
    const r = await run.done;
    expect(r.code, r.stderr).to.equal(0);
    const sweep = sweepJson(out);
    for (const t of sweep.trials) expect(t.state, t.id).to.equal('completed');
    const lost = sweep.trials.find((t: { id: string }) => t.id === victim!.id);
    expect(lost.attempts, 'the lost trial ran twice').to.equal(2);
    expect(lost.metrics.map((m: { epoch: number }) => m.epoch)).to.deep.equal([1, 2, 3]);
    expect(r.stderr).to.match(new RegExp(`trial ${victim.id} goes back in the queue: worker w\\d lost`));
    const log = readFileSync(join(out, 'workers.log'), 'utf8');
    expect(log).to.match(new RegExp(`resuming \\S*${victim.dir.replace('/', '\\/')} from \\S*epoch-00[12]\\.safetensors`));
  });

  it('--workers-per-trial 2: each trial trains data-parallel on a group of 2 and ends bitwise equal to the same sweep on one worker per trial', async () => {
    const common = [...TINY, '--lr', '1e-3,4e-3', '--epochs', '2', '--scheduler', 'none'];
    const grouped = join(scratch.dir, 'grouped');
    const single = join(scratch.dir, 'single');
    const [g, one] = await Promise.all([
      startSweep([...common, '--workers', '2', '--workers-per-trial', '2', '--out', grouped]).done,
      startSweep([...common, '--workers', '1', '--out', single]).done,
    ]);
    expect(g.code, g.stderr).to.equal(0);
    expect(one.code, one.stderr).to.equal(0);
    const a = sweepJson(grouped);
    const b = sweepJson(single);
    expect(a.trials).to.have.length(2);
    for (const [i, t] of a.trials.entries()) {
      expect(t.state, t.id).to.equal('completed');
      // the group: two distinct workers named in the record, and world size 2 on every training row
      const pids = [...String(t.worker).matchAll(/pid (\d+)/g)].map((m) => m[1]);
      expect(new Set(pids).size, `${t.id} ran on ${t.worker}`).to.equal(2);
      const trainRows = csvRows(join(grouped, t.dir, 'metrics.csv')).filter((row) => row.kind === 'train');
      expect(trainRows.length, `${t.id} training rows`).to.be.above(0);
      expect(new Set(trainRows.map((row) => row.world_size))).to.deep.equal(new Set(['2']));
      // the same numbers as on one worker: validation metrics and the final checkpoint, bit for bit
      expect(t.metrics, `${t.id} validation metrics`).to.deep.equal(b.trials[i].metrics);
      expectBitwiseEqual(await latestCheckpoint(join(grouped, t.dir)), await latestCheckpoint(join(single, b.trials[i].dir)), t.id);
    }
    expect(readFileSync(join(grouped, 'workers.log'), 'utf8')).to.match(/ring formed with 2 worker\(s\)/);
  });

  it('--workers-per-trial 2, a member of a group killed mid-trial: the trial goes on with the other worker, keeps its progress, and ends bitwise equal', async () => {
    const common = [...TINY, '--lr', '2e-3,5e-3', '--epochs', '4', '--scheduler', 'none', ...FAST];
    const out = join(scratch.dir, 'group-lost');
    const ref = join(scratch.dir, 'group-ref');
    const reference = startSweep([...common, '--workers', '1', '--out', ref]).done;
    const run = startSweep([...common, '--workers', '2', '--workers-per-trial', '2', '--out', out]);
    const victim = await runningTrial(run, out, (t, pids, ckpt) => (pids.length === 2 && ckpt(1) && !ckpt(2) ? { id: t.id, pid: pids[1] } : undefined));
    process.kill(victim.pid, 'SIGKILL');
    const [r, reference_] = await Promise.all([run.done, reference]);
    expect(r.code, r.stderr).to.equal(0);
    expect(reference_.code, reference_.stderr).to.equal(0);
    expect(r.stderr).to.match(new RegExp(`worker w\\d+ \\S+ pid ${victim.pid} lost`));
    const a = sweepJson(out);
    const b = sweepJson(ref);
    for (const [i, t] of a.trials.entries()) {
      expect(t.state, t.id).to.equal('completed');
      expectBitwiseEqual(await latestCheckpoint(join(out, t.dir)), await latestCheckpoint(join(ref, b.trials[i].dir)), t.id);
      expect(t.metrics, `${t.id} validation metrics`).to.deep.equal(b.trials[i].metrics);
    }
    const lost = a.trials.find((t: { id: string }) => t.id === victim!.id);
    expect(lost.attempts, 'the group went on: the trial was not rescheduled').to.equal(1);
    const worlds = csvRows(join(out, lost.dir, 'metrics.csv')).filter((row) => row.kind === 'train').map((row) => row.world_size);
    expect(worlds[0]).to.equal('2');
    expect(worlds.at(-1), 'the trial ended on the surviving worker').to.equal('1');
  });

  it('refuses bad flags with one line, before writing anything', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--lr', '1e-1:1e-4:log:3'], /--lr .*low end 0.1 is above its high end/],
      [['--lr', '1e-3,1e-2', '--workers', '2', '--workers-per-trial', '3'], /--workers-per-trial 3 needs at least 3 workers, but --workers is 2/],
      [['--lr', '1e-3,1e-2', '--workers-per-trial', '0'], /--workers-per-trial must be a positive integer, got 0/],
      [['--lr', '1e-3,1e-2', '--epochs', '1,2'], /--epochs 1,2: .*cannot be swept/],
      [['--lr', '1e-3,1e-2', '--metric', 'val_accuracy'], /--metric must be one of val_nll, val_mse_bias, val_cd/],
    ];
    const results = await Promise.all(cases.map(([args]) => startSweep([...args, '--out', join(scratch.dir, 'bad')]).done));
    results.forEach((r, i) => {
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.match(cases[i][1]);
    });
    expect(existsSync(join(scratch.dir, 'bad'))).to.equal(false);
  });
});
