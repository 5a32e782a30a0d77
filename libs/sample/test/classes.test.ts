import { expect } from 'chai';
import { SampleError } from '../src/index.ts';
import { formatClasses, parseClasses } from '../src/classes.ts';

describe('parseClasses', () => {
  it('reads ranges and lists, keeping the order written', () => {
    expect(parseClasses('0-9', 10)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(parseClasses('1,3,5', 10)).to.deep.equal([1, 3, 5]);
    expect(parseClasses(' 7, 0-2 ,4', 10)).to.deep.equal([7, 0, 1, 2, 4]);
    expect(parseClasses('3', 4)).to.deep.equal([3]);
    expect(parseClasses('2-2', 4)).to.deep.equal([2]);
  });

  const bad: Array<[string, number, RegExp]> = [
    ['', 10, /--classes is empty/],
    ['0-10', 10, /class 10 is out of range: .*nx = 10, so classes are 0-9/],
    ['12', 10, /class 12 is out of range/],
    ['5-3', 10, /the range '5-3' must go upwards/],
    ['1,2,1', 10, /class 1 appears twice/],
    ['0-3,2', 10, /class 2 appears twice/],
    ['a-b', 10, /'a-b' is not a class index or a range/],
    ['1,,2', 10, /'' is not a class index/],
    ['-1', 10, /'-1' is not a class index/],
    ['1.5', 10, /'1.5' is not a class index/],
  ];
  for (const [spec, nx, message] of bad) {
    it(`refuses '${spec}' with a message naming the problem`, () => {
      expect(() => parseClasses(spec, nx)).to.throw(SampleError, message);
    });
  }

  it('formats lists back as ranges', () => {
    expect(formatClasses([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])).to.equal('0-9');
    expect(formatClasses([1, 3, 5])).to.equal('1,3,5');
    expect(formatClasses([7, 0, 1, 2, 4])).to.equal('7,0-2,4');
    for (const spec of ['0-9', '1,3,5', '7,0-2,4', '9']) expect(formatClasses(parseClasses(spec, 10))).to.equal(spec);
  });
});
