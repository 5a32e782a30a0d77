import { expect } from 'chai';
import { ISING_LR, PAPER_DEFAULTS, withPaperDefaults } from '../src/index.ts';

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
