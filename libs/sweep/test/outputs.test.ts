import { expect } from 'chai';
import { PNG } from 'pngjs';
import { PAPER_DEFAULTS } from '@nbm/train';
import { parseSpace, type EpochMetrics, type SweepFile, type TrialRecord, type TrialState } from '../src/index.ts';
import { bestJson, sweepCsv, sweepPlot } from '../src/outputs.ts';
import { formatTable } from '../src/table.ts';
import { rankTrials } from '../src/rank.ts';

const epochs = (...mse: number[]): EpochMetrics[] => mse.map((v, i) => ({ epoch: i + 1, val_cd: -v, val_mse_bias: v, val_mse_var: 1 }));

function trial(id: string, lr: number, state: TrialState, metrics: EpochMetrics[], error?: string): TrialRecord {
  return { id, dir: `trials/${id}`, settings: { lr }, config: { ...PAPER_DEFAULTS, lr, epochs: 3, out: `sw/trials/${id}` }, state, metrics, attempts: 1, ...(error ? { error } : {}) };
}

function sweepOf(trials: TrialRecord[]): SweepFile {
  return {
    format: 'nbm-sweep/1',
    name: 'sw',
    createdAt: '',
    updatedAt: '',
    argv: [],
    metric: 'val_mse_bias',
    divergeAbove: 1e10,
    scheduler: { kind: 'asha', reductionFactor: 3, gracePeriod: 1, maxEpochs: 3 },
    space: parseSpace([{ flag: 'lr', kind: 'number' }], { lr: '1e-4:1:log:6' }),
    trials,
    finished: true,
  };
}

describe('ranking and outputs', () => {
  const trials = [
    trial('t000', 1e-4, 'stopped', epochs(0.2)), // best number, but stopped at the first rung
    trial('t001', 1e-3, 'completed', epochs(0.5, 0.4, 0.35)),
    trial('t002', 1e-2, 'completed', epochs(0.5, 0.3, 0.25)),
    trial('t003', 1e-1, 'failed', [], 'data file, "x.npy", missing'),
    trial('t004', 1, 'diverged', epochs(0.9), 'val_mse_bias is NaN at epoch 2'),
    trial('t005', 1e-3, 'stopped', epochs(0.6)),
  ];
  const sweep = sweepOf(trials);

  it('ranks trials that trained further first, then by metric; diverged, then failed, last', () => {
    expect(rankTrials(trials, 'val_mse_bias').map((t) => t.id)).to.deep.equal(['t002', 't001', 't000', 't005', 't004', 't003']);
  });

  it('best.json holds the winner and a config without its run directory, for nbm train --config', () => {
    const best = bestJson(sweep, 'sw') as Record<string, any>;
    expect(best).to.include({ trial: 't002', metric: 'val_mse_bias', value: 0.25, epoch: 3, run_dir: 'sw/trials/t002' });
    expect(best.settings).to.deep.equal({ lr: 1e-2 });
    expect(best.config.lr).to.equal(1e-2);
    expect(best.config).to.not.have.property('out');
    expect(bestJson(sweepOf([trials[3], trials[4]]), 'sw')).to.equal(undefined);
  });

  it('sweep.csv has a row per trial, best first, and quotes text with commas', () => {
    const lines = sweepCsv(sweep, 'sw').trim().split('\n');
    expect(lines[0]).to.equal('rank,trial,state,lr,epochs,val_mse_bias,val_cd,val_mse_var,attempts,run_dir,error');
    expect(lines[1]).to.equal('1,t002,completed,0.01,3,0.25,-0.25,1,1,sw/trials/t002,');
    expect(lines[6]).to.equal('6,t003,failed,0.1,0,,,,1,sw/trials/t003,"data file, ""x.npy"", missing"');
  });

  it('the table shows each trial\'s settings, epoch, metric and state', () => {
    const lines = formatTable(sweep, { ranked: true });
    expect(lines[0]).to.match(/^rank\s+trial\s+lr\s+epoch\s+val_mse_bias\s+state$/);
    expect(lines[1]).to.match(/^1\s+t002\s+0\.01\s+3\s+0\.25000\s+completed$/);
    expect(lines[5]).to.match(/^5\s+t004\s+1\s+1\s+0\.90000\s+diverged: val_mse_bias is NaN at epoch 2$/);
    expect(lines[7]).to.equal('6 trials: 2 stopped, 2 completed, 1 failed, 1 diverged');
  });

  it('sweep.png is a picture of two panels', () => {
    const png = PNG.sync.read(sweepPlot(sweep));
    expect(png.width).to.equal(800);
    expect(png.height).to.be.at.least(720);
  });
});
