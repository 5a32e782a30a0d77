/**
 * The worker's job, in this process: a tiny model trained in steps of epochs, as the coordinator asks.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { evaluate } from '@nbm/evaluate';
import { PAPER_DEFAULTS, type TrainConfig } from '@nbm/train';
import { runTrialEpochs } from '../src/trial-run.ts';

const tiny = (out: string, lr: number): TrainConfig => ({
  ...PAPER_DEFAULTS,
  trainExamples: 300,
  valExamples: 60,
  batchSize: 30,
  hidden: 8,
  gibbsSteps: 3,
  backend: 'cpu',
  kernel: 'tfjs',
  pictures: false,
  lr,
  epochs: 2,
  out,
});

/** Training's log lines, kept out of the test output. */
const quiet = { stream: new Writable({ write: (_c, _e, done) => done() }) as unknown as NodeJS.WriteStream };

describe('trialEpochs (the worker side)', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'nbm-trial-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('trains to a milestone, continues from the checkpoint to the next, and computes val_nll only for new epochs', async () => {
    const trialDir = join(dir, 't000');
    // a start that died before writing config.json leaves a directory without progress: it is cleared
    mkdirSync(join(trialDir, 'checkpoints'), { recursive: true });
    writeFileSync(join(trialDir, 'metrics.csv'), 'kind\n');
    const call = { trialDir, config: tiny('ignored', 1e-2), metric: 'val_nll' as const };
    const first = await runTrialEpochs({ ...call, epochs: 1, knownEpochs: 0 }, quiet);
    expect(first.exhausted).to.equal(false);
    expect(first.diverged).to.equal(undefined);
    expect(first.epochs.map((e) => e.epoch)).to.deep.equal([1]);
    expect(Number.isFinite(first.epochs[0].val_nll)).to.equal(true);
    expect(existsSync(join(trialDir, 'checkpoints', 'epoch-001.safetensors'))).to.equal(true);
    expect(existsSync(`${trialDir}.lock`), 'the lock is released').to.equal(false);

    const second = await runTrialEpochs({ ...call, epochs: 2, knownEpochs: 1 }, quiet);
    expect(second.epochs.map((e) => e.epoch)).to.deep.equal([1, 2]);
    expect(second.epochs[0]).to.deep.equal({ epoch: 1, val_cd: first.epochs[0].val_cd, val_mse_bias: first.epochs[0].val_mse_bias, val_mse_var: first.epochs[0].val_mse_var });
    // the held-out log-likelihood of the epoch's checkpoint on the rows training validates on (nh 8: exact)
    const direct = await evaluate({ checkpoint: join(trialDir, 'checkpoints', 'epoch-002.safetensors'), split: 'val', limit: 60, baseline: false });
    expect(direct.method).to.equal('exact');
    expect(second.epochs[1].val_nll).to.equal(-direct.loglik_nats);
    expect(second.epochs[1].val_mse_bias).to.be.below(first.epochs[0].val_mse_bias);
  });

  it('answers divergence instead of throwing', async () => {
    const r = await runTrialEpochs({ trialDir: join(dir, 't001'), config: tiny('ignored', 10), epochs: 2, metric: 'val_mse_bias', knownEpochs: 0 }, quiet);
    expect(r.diverged).to.match(/diverged: non-finite loss or gradient/);
    expect(r.exhausted).to.equal(false);
    expect(r.epochs.length).to.be.below(2);
  });
});
