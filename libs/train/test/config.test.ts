import { expect } from 'chai';
import { ConfigError, PAPER_DEFAULTS, resumedConfig, withPaperDefaults } from '../src/index.ts';
import { ISING_LR } from '../src/config.ts';

describe('withPaperDefaults', () => {
  it('fills every setting not given with the paper\'s value', () => {
    expect(withPaperDefaults({})).to.deep.equal(PAPER_DEFAULTS);
    expect(withPaperDefaults({ hidden: 16 })).to.deep.equal({ ...PAPER_DEFAULTS, hidden: 16 });
  });

  it('gives an Ising run the paper\'s Ising learning rate, unless one is set', () => {
    expect(withPaperDefaults({ visible: 'ising' }).lr).to.equal(ISING_LR);
    expect(ISING_LR).to.not.equal(PAPER_DEFAULTS.lr);
    expect(withPaperDefaults({ visible: 'ising', lr: 3e-3 }).lr).to.equal(3e-3);
    expect(withPaperDefaults({ visible: 'gaussian' }).lr).to.equal(PAPER_DEFAULTS.lr);
  });
});

describe('resumedConfig', () => {
  const recorded = { ...PAPER_DEFAULTS, visible: 'ising', lr: 0.01, epochs: 3, out: 'runs/old', runtime: { model: {} } };

  it('continues with the recorded settings, only the run length changed, in the directory resumed', () => {
    const c = resumedConfig(recorded, { epochs: 5, maxSteps: 40 }, 'runs/here');
    expect(c).to.deep.equal({ ...PAPER_DEFAULTS, visible: 'ising', lr: 0.01, epochs: 5, maxSteps: 40, out: 'runs/here' });
    expect(resumedConfig(recorded, { lr: 0.01 }, 'runs/here').lr).to.equal(0.01);
  });

  it('refuses any other change, naming its flag', () => {
    expect(() => resumedConfig(recorded, { gibbsSteps: 8 }, 'runs/here')).to.throw(ConfigError, '--resume runs/here: --gibbs-steps cannot change on resume (the run has 32); only --epochs and --max-steps can');
    expect(() => resumedConfig(recorded, { hidden: 8 }, 'r', () => 'nh')).to.throw(ConfigError, /--nh cannot change/);
  });
});
