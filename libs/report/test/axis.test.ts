import { expect } from 'chai';
import fc from 'fast-check';
import { formatDecade, formatTicks, linearAxis, logAxis, niceStep } from '../src/axis.ts';

describe('axes', () => {
  it('nice steps are 1, 2 or 5 × 10^k', () => {
    expect(niceStep(10, 5)).to.equal(2);
    expect(niceStep(1, 10)).to.equal(0.1);
    expect(niceStep(2000, 8)).to.equal(200);
    expect(niceStep(0.05, 5)).to.equal(0.01);
    expect(niceStep(7e-6, 2)).to.be.closeTo(5e-6, 1e-20);
  });

  it('a linear axis extends to whole steps and labels with just enough decimals', () => {
    const a = linearAxis(0, 10, 5);
    expect([a.lo, a.hi]).to.deep.equal([0, 10]);
    expect(a.labels).to.deep.equal(['0', '2', '4', '6', '8', '10']);
    expect(a.position(5)).to.equal(0.5);
    expect(a.position(NaN)).to.equal(null);
    const b = linearAxis(0.203, 0.249, 5);
    expect(b.labels).to.deep.equal(['0.20', '0.21', '0.22', '0.23', '0.24', '0.25']);
    const c = linearAxis(-198.5, -91, 6);
    expect(c.labels[0]).to.equal('-200');
    expect(c.labels.at(-1)).to.equal('-80');
    const d = linearAxis(0, 1e-5, 10);
    expect(d.labels.at(-1)).to.equal('1e-5');
    expect(d.hi).to.be.closeTo(1e-5, 1e-18); // no spurious extra step from rounding
    expect(linearAxis(0, 3e7, 3).labels).to.deep.equal(['0', '1e7', '2e7', '3e7']);
  });

  it('a flat range still gets an axis around it', () => {
    const a = linearAxis(5, 5, 5);
    expect(a.lo).to.be.lessThan(5);
    expect(a.hi).to.be.greaterThan(5);
    const z = linearAxis(0, 0, 5);
    expect([z.lo, z.hi]).to.deep.equal([-1, 1]);
  });

  it('tick labels', () => {
    expect(formatTicks([-1e-17, 0.1, 0.2, 0.30000000000000004], 0.1)).to.deep.equal(['0', '0.1', '0.2', '0.3']);
    expect(formatTicks([0, 2000, 4000, 6000, 8000, 10000], 2000)).to.deep.equal(['0', '2000', '4000', '6000', '8000', '10000']);
    expect(formatTicks([0, 5e-6, 1e-5, 1.5e-5], 5e-6)).to.deep.equal(['0', '5e-6', '1e-5', '1.5e-5']);
    expect(formatTicks([1e6, 1.5e6, 2e6], 5e5)).to.deep.equal(['1e6', '1.5e6', '2e6']);
    expect(formatTicks([999998.4, 1e6], 0.2)).to.deep.equal(['999998.4', '1000000.0']);
    expect(formatTicks([-1.0000002e-284, -1e-284], 2e-291)).to.deep.equal(['-1.0000002e-284', '-1e-284']);
    expect(formatDecade(-3)).to.equal('1e-3');
    expect(formatDecade(-2)).to.equal('0.01');
    expect(formatDecade(4)).to.equal('10000');
    expect(formatDecade(5)).to.equal('1e5');
  });

  it('a log axis spans whole decades and places values by their logarithm', () => {
    const a = logAxis(1e-5, 3e-2, 10);
    expect(a.labels).to.deep.equal(['1e-5', '1e-4', '1e-3', '0.01', '0.1']);
    expect(a.position(1e-3)).to.be.closeTo(0.5, 1e-12);
    expect(a.position(0)).to.equal(null);
    expect(a.position(-1)).to.equal(null);
    expect(a.minor).to.include(2e-5);
    const one = logAxis(1e-3, 1e-3, 5);
    expect(one.position(1e-3)).to.be.closeTo(0.5, 1e-12);
    const wide = logAxis(1e-30, 1e30, 5);
    expect(wide.ticks.length).to.be.at.most(7);
  });

  it('every linear axis covers its data with ascending, distinctly labelled ticks (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e12, max: 1e12, noNaN: true }),
        fc.double({ min: 0, max: 1e12, noNaN: true }),
        fc.integer({ min: 2, max: 10 }),
        (min, span, target) => {
          const max = min + span;
          const a = linearAxis(min, max, target);
          expect(a.lo).to.be.at.most(min);
          expect(a.hi).to.be.at.least(max);
          expect(a.ticks.length).to.be.within(2, 2 * target + 4);
          for (let i = 1; i < a.ticks.length; i++) expect(a.ticks[i]).to.be.greaterThan(a.ticks[i - 1]);
          expect(new Set(a.labels).size, a.labels.join(' ')).to.equal(a.labels.length);
          const p = a.position(min)!;
          expect(p).to.be.within(-1e-9, 1 + 1e-9);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('formatDuration', () => {
  it('formats minutes and seconds, hours and minutes, and unknown durations', async () => {
    const { formatDuration } = await import('../src/index.ts');
    expect(formatDuration(187)).to.equal('3m07s');
    expect(formatDuration(3900)).to.equal('1h05m');
    expect(formatDuration(0)).to.equal('0m00s');
    expect(formatDuration(Infinity)).to.equal('?');
    expect(formatDuration(-1)).to.equal('?');
  });
});
