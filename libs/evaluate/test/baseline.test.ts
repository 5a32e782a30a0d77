import { expect } from 'chai';
import type { Dataset } from '@nbm/data';
import { BASELINE_MIN_VARIANCE, diagonalLogLikelihood, fitBaseline } from '../src/baseline.ts';

/** Four labelled 2-pixel uint8 images: class 0 twice, class 1 twice. */
function images(): Dataset {
  return {
    name: 'hand',
    split: 'train',
    description: 'hand-made',
    nx: 2,
    ny: 2,
    count: 4,
    classes: 2,
    pixels: new Uint8Array([0, 255, 0, 51, 255, 102, 255, 102]),
    transform: 'image',
    labels: new Uint8Array([0, 0, 1, 1]),
    sourceIndex: new Uint32Array([0, 1, 2, 3]),
  };
}

describe('baseline', () => {
  it('Gaussian: per class mean and variance of 2p − 1 (+ the 1e-6 noise variance), floored at 1e-3', () => {
    const b = fitBaseline(images(), 'gaussian');
    expect(b.byContext.size).to.equal(2);
    const fits = [...b.byContext.values()];
    const f0 = fits[0];
    if (f0.kind !== 'gaussian') throw new Error('expected a Gaussian fit');
    // class 0, pixel 0: both 0 → y = −1, variance 1e-6 → floored; pixel 1: p = 1 and 0.2 → y = 1, −0.6
    expect(f0.mean[0]).to.be.closeTo(-1, 1e-12);
    expect(f0.variance[0]).to.equal(BASELINE_MIN_VARIANCE);
    expect(f0.mean[1]).to.be.closeTo(0.2, 1e-12);
    expect(f0.variance[1]).to.be.closeTo(0.64 + 1e-6, 1e-12);
    const ll = diagonalLogLikelihood(f0, [-1, 0.2]);
    expect(ll).to.be.closeTo(-0.5 * Math.log(2 * Math.PI * 1e-3) - 0.5 * Math.log(2 * Math.PI * (0.64 + 1e-6)), 1e-12);
    expect(b.description).to.match(/per class/);
  });

  it('Ising: per class P(y = +1) = mean of clamp(p, 1e-3, 1 − 1e-3)', () => {
    const b = fitBaseline(images(), 'ising');
    const f1 = [...b.byContext.values()][1];
    if (f1.kind !== 'ising') throw new Error('expected an Ising fit');
    expect(f1.probability[0]).to.be.closeTo(1 - 1e-3, 1e-12);
    expect(f1.probability[1]).to.be.closeTo(0.4, 1e-12);
    expect(diagonalLogLikelihood(f1, [1, -1])).to.be.closeTo(Math.log(1 - 1e-3) + Math.log(0.6), 1e-12);
    if (b.pooled.kind !== 'ising') throw new Error('expected an Ising fit');
    expect(b.pooled.probability[1]).to.be.closeTo((0.999 + 0.2 + 0.4 + 0.4) / 4, 1e-12);
  });
});
