import { expect } from 'chai';
import { isSweepSpec, parseSpace, SpaceError, type SweepableOption } from '../src/index.ts';
import { expandSpace, gridValues, MAX_TRIALS, trialCount, trialId } from '../src/space.ts';

/** A flag table in the order `nbm train` lists its flags. */
const OPTIONS: SweepableOption[] = [
  { flag: 'visible', kind: 'string' },
  { flag: 'hidden', kind: 'int' },
  { flag: 'lr', kind: 'number' },
  { flag: 'decay-weights', kind: 'number' },
  { flag: 'seed', kind: 'int' },
];

const space = (texts: Record<string, string>, seed = 0) => parseSpace(OPTIONS, texts, seed);

describe('search space: grids', () => {
  it('a log range has N values, both ends exact, a constant ratio between neighbours', () => {
    const values = expandSpace(space({ lr: '1e-4:1e-1:log:12' })).map((s) => s.lr as number);
    expect(values).to.have.length(12);
    expect(values[0]).to.equal(1e-4);
    expect(values[11]).to.equal(1e-1);
    const ratio = 10 ** (3 / 11);
    for (let i = 1; i < 12; i++) expect(values[i] / values[i - 1]).to.be.closeTo(ratio, 1e-9);
    // decades land on round numbers
    expect(expandSpace(space({ lr: '1e-4:1e-1:log:4' })).map((s) => s.lr)).to.deep.equal([1e-4, 1e-3, 1e-2, 1e-1]);
  });

  it('a linear range is evenly spaced, without floating-point noise', () => {
    expect(gridValues({ type: 'lin', lo: 0, hi: 1, count: 5 }, 'number')).to.deep.equal([0, 0.25, 0.5, 0.75, 1]);
    expect(expandSpace(space({ 'decay-weights': '0.1:0.3:lin:3' })).map((s) => s['decay-weights'])).to.deep.equal([0.1, 0.2, 0.3]);
    expect(gridValues({ type: 'lin', lo: 2, hi: 2, count: 1 }, 'number')).to.deep.equal([2]);
  });

  it('integer options take integer values; a range that would repeat one is refused', () => {
    expect(expandSpace(space({ hidden: '8:64:log:4' })).map((s) => s.hidden)).to.deep.equal([8, 16, 32, 64]);
    expect(() => space({ hidden: '8:10:log:5' })).to.throw(SpaceError, /--hidden 8:10:log:5: 5 integers .* would repeat/);
    expect(() => space({ hidden: '8,9.5' })).to.throw(SpaceError, /--hidden: '9.5' is not an integer/);
  });

  it('lists keep their order and type; words for string options', () => {
    expect(expandSpace(space({ 'decay-weights': '0.5,1,2' }))).to.deep.equal([{ 'decay-weights': 0.5 }, { 'decay-weights': 1 }, { 'decay-weights': 2 }]);
    expect(expandSpace(space({ visible: 'gaussian,ising' }))).to.deep.equal([{ visible: 'gaussian' }, { visible: 'ising' }]);
  });

  it('the grid is the cartesian product, dimensions in flag-table order, the first varying slowest', () => {
    // given in the other order on the command line: the table's order decides
    const s = parseSpace(OPTIONS, { 'decay-weights': '0.5,1', lr: '1e-3:1e-1:log:3' });
    expect(s.dimensions.map((d) => d.flag)).to.deep.equal(['lr', 'decay-weights']);
    expect(trialCount(s)).to.equal(6);
    expect(expandSpace(s)).to.deep.equal([
      { lr: 1e-3, 'decay-weights': 0.5 },
      { lr: 1e-3, 'decay-weights': 1 },
      { lr: 1e-2, 'decay-weights': 0.5 },
      { lr: 1e-2, 'decay-weights': 1 },
      { lr: 1e-1, 'decay-weights': 0.5 },
      { lr: 1e-1, 'decay-weights': 1 },
    ]);
  });

  it('a single value is a fixed setting, not a dimension: an empty space is one trial', () => {
    expect(isSweepSpec('1e-3')).to.equal(false);
    const s = space({ lr: '1e-3', hidden: '16' });
    expect(s.dimensions).to.deep.equal([]);
    expect(expandSpace(s)).to.deep.equal([{}]);
  });
});

describe('search space: random draws', () => {
  it('draws N values in the range, the same for the same seed and others for another seed', () => {
    const a = expandSpace(space({ lr: '1e-4:1e-1:logrand:8' }, 3)).map((s) => s.lr as number);
    const b = expandSpace(space({ lr: '1e-4:1e-1:logrand:8' }, 3)).map((s) => s.lr as number);
    const c = expandSpace(space({ lr: '1e-4:1e-1:logrand:8' }, 4)).map((s) => s.lr as number);
    expect(a).to.have.length(8);
    expect(a).to.deep.equal(b);
    expect(c).to.not.deep.equal(a);
    for (const v of [...a, ...c]) expect(v).to.be.within(1e-4, 1e-1);
    expect(new Set(a).size).to.equal(8);
  });

  it('logrand is uniform in log scale, rand in linear scale', () => {
    const log = expandSpace(space({ lr: '1e-4:1:logrand:2000' }, 7)).map((s) => s.lr as number);
    const belowGeometricMid = log.filter((v) => v < 1e-2).length / log.length;
    expect(belowGeometricMid).to.be.closeTo(0.5, 0.05);
    const decade = log.filter((v) => v < 1e-3).length / log.length;
    expect(decade).to.be.closeTo(0.25, 0.04);
    const lin = expandSpace(space({ 'decay-weights': '0:4:rand:2000' }, 7)).map((s) => s['decay-weights'] as number);
    expect(lin.filter((v) => v < 2).length / lin.length).to.be.closeTo(0.5, 0.05);
    expect(lin.filter((v) => v < 1).length / lin.length).to.be.closeTo(0.25, 0.04);
  });

  it('random dimensions draw jointly and repeat each grid point, each trial with its own draws', () => {
    const s = space({ lr: '1e-4:1e-1:logrand:3', 'decay-weights': '0.5,1', seed: '1:1000:rand:3' }, 11);
    expect(trialCount(s)).to.equal(6);
    const trials = expandSpace(s);
    expect(trials.map((t) => t['decay-weights'])).to.deep.equal([0.5, 0.5, 0.5, 1, 1, 1]);
    expect(new Set(trials.map((t) => t.lr)).size).to.equal(6);
    for (const t of trials) expect(Number.isInteger(t.seed)).to.equal(true);
    expect(() => space({ lr: '1e-4:1e-1:logrand:3', seed: '1:9:rand:4' })).to.throw(SpaceError, /same count/);
  });
});

describe('search space: bad specifications and ids', () => {
  it('names the flag and the problem', () => {
    expect(() => space({ lr: '1e-1:1e-4:log:3' })).to.throw(SpaceError, /--lr .*low end 0.1 is above its high end 0.0001/);
    expect(() => space({ lr: '0:1e-1:log:3' })).to.throw(SpaceError, /--lr .*positive low end/);
    expect(() => space({ lr: '1e-4:1e-1:log:0' })).to.throw(SpaceError, /count .* positive integer, got '0'/);
    expect(() => space({ lr: 'a:1e-1:log:3' })).to.throw(SpaceError, /--lr: 'a' is not a number/);
    expect(() => space({ visible: 'a:b:lin:2' })).to.throw(SpaceError, /--visible takes words/);
    expect(() => space({ 'decay-weights': '1,2,1' })).to.throw(SpaceError, /the value 1 is listed twice/);
    expect(() => space({ lr: '1:1:lin:3' })).to.throw(SpaceError, /cannot differ/);
    expect(() => space({ lr: '1e-4:1e-1:log:200', 'decay-weights': '1e-4:1e-1:log:200' })).to.throw(SpaceError, new RegExp(`more than the ${MAX_TRIALS}`));
  });

  it('trial ids are stable and sort in trial order', () => {
    expect([0, 1, 11].map((i) => trialId(i, 12))).to.deep.equal(['t000', 't001', 't011']);
    expect(trialId(7, 1500)).to.equal('t0007');
  });
});
