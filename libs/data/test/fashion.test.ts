import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFileError, loadDataset, type Dataset } from '../src/index.ts';
import { FASHION_CLASS_NAMES, fashionCleaning, loadFashionMnist } from '../src/fashion.ts';
import { readFashionClassFile } from '../src/fashion-json.ts';
import { dedupeLabelled } from '../src/fashion.ts';

const hashes = (d: Dataset) => {
  const out = new Set<string>();
  for (let r = 0; r < d.count; r++) out.add(createHash('sha1').update(d.pixels.subarray(r * 784, (r + 1) * 784)).digest('base64'));
  return out;
};
const histogram = (labels: Uint8Array) => {
  const h = new Array(10).fill(0);
  for (const l of labels) h[l]++;
  return h;
};

describe('FashionMNIST', function () {
  this.timeout(60_000);
  let train: Dataset, val: Dataset, test: Dataset;
  before(() => {
    train = loadFashionMnist('train');
    val = loadFashionMnist('val');
    test = loadFashionMnist('test');
  });

  it('cleans the package\'s 70,002 entries into 69,945 distinct, consistently labelled images', () => {
    expect(fashionCleaning()).to.deep.equal({ entries: 70_002, emptyEntries: 2, duplicatesDropped: 53, conflictingDropped: 2, kept: 69_945 });
  });

  it('has 54,945 / 5,000 / 10,000 images of 28×28, 1,000 test images per class', () => {
    for (const [d, n] of [[train, 54_945], [val, 5_000], [test, 10_000]] as const) {
      expect(d.count).to.equal(n);
      expect([d.nx, d.ny, d.classes]).to.deep.equal([10, 784, 10]);
      expect(d.pixels.length).to.equal(n * 784);
      expect(d.classNames).to.deep.equal(FASHION_CLASS_NAMES);
    }
    expect(histogram(test.labels!)).to.deep.equal(new Array(10).fill(1000));
    for (const c of histogram(val.labels!)) expect(c).to.be.within(400, 600); // ≈ 500 ± 21
    expect(test.description).to.match(/2 empty entries skipped, 53 exact duplicate images dropped/);
  });

  it('has no image twice, so the test set is disjoint from train/val by content', () => {
    const all = [train, val, test].map(hashes);
    expect(all[0].size + all[1].size + all[2].size).to.equal(69_945);
    const union = new Set([...all[0], ...all[1], ...all[2]]);
    expect(union.size).to.equal(69_945);
  });

  it('splits the pool deterministically: indices disjoint and covering; the test set fixed across seeds', () => {
    const seen = new Uint8Array(69_945);
    for (const d of [train, val, test]) for (const i of d.sourceIndex) seen[i]++;
    expect(seen.every((v) => v === 1)).to.equal(true);
    expect(loadFashionMnist('train')).to.equal(train);
    const val2 = loadFashionMnist('val', { seed: 7 });
    expect(Array.from(val2.sourceIndex)).to.not.deep.equal(Array.from(val.sourceIndex));
    expect(loadFashionMnist('test', { seed: 7 })).to.equal(test);
    expect(loadDataset({ name: 'fashion-mnist', split: 'test' })).to.equal(test);
  });

  it('uses the class files as labels: trousers (1) and dresses (3) are tall, sandals (5) and sneakers (7) wide', () => {
    // mean ink per image row vs per column over the test images of a class
    const spread = (c: number) => {
      const rows = new Float64Array(28), cols = new Float64Array(28);
      for (let r = 0; r < test.count; r++) {
        if (test.labels![r] !== c) continue;
        for (let k = 0; k < 784; k++) { rows[Math.floor(k / 28)] += test.pixels[r * 784 + k]; cols[k % 28] += test.pixels[r * 784 + k]; }
      }
      const width = (a: Float64Array) => { const m = Math.max(...a); return a.filter((v) => v > 0.2 * m).length; };
      return { tall: width(rows), wide: width(cols) };
    };
    // measured: trousers 28 rows × 11 columns, dresses 28 × 14, sandals 18 × 26, sneakers 12 × 27
    for (const c of [1, 3]) expect(spread(c).tall - spread(c).wide).to.be.at.least(10);
    for (const c of [5, 7]) expect(spread(c).wide - spread(c).tall).to.be.at.least(6);
  });

  it('dedupes labelled images: first copy of a same-label group kept, mixed-label groups dropped whole', () => {
    // px = 2; class 0: A B A C, class 1: D C A, class 2: E E
    const A = [1, 1], B = [2, 2], C = [3, 3], D = [4, 4], E = [5, 5];
    const cls = (...imgs: number[][]) => ({ images: Uint8Array.from(imgs.flat()), count: imgs.length });
    const r = dedupeLabelled([cls(A, B, A, C), cls(D, C, A), cls(E, E)], 2);
    //                       A  B  A  C  D  C  A  E  E
    expect(Array.from(r.keep)).to.deep.equal([0, 1, 0, 0, 1, 0, 0, 1, 0]);
    expect(r.duplicatesDropped).to.equal(1); // the second E
    expect(r.conflictingDropped).to.equal(5); // three A (labels 0, 1) and two C (labels 0, 1)
  });

  describe('the JSON scanner', () => {
    let dir: string;
    beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'nbm-fm-')); });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('reads entries and skips empty ones', () => {
      const p = join(dir, '0.json');
      writeFileSync(p, '{"data":[[1,2,3,4],\n [],[255, 0 ,7,9]]}\n');
      const f = readFashionClassFile(p, 4);
      expect(f.count).to.equal(2);
      expect(f.emptyEntries).to.deep.equal([1]);
      expect(Array.from(f.images)).to.deep.equal([1, 2, 3, 4, 255, 0, 7, 9]);
    });

    it('names the file and the byte of anything unexpected', () => {
      const cases: Array<[string, RegExp]> = [
        ['{"data":[[1,2,3,256]]}', /pixel value 256 exceeds 255/],
        ['{"data":[[1,2,3]]}', /entry 0 has 3 values, not 4/],
        ['{"data":[[1,2,3,4,5]]}', /entry 0 has more than 4 values/],
        ['{"data":[[1,-2,3,4]]}', /expected a pixel value/],
        ['{"data":[[1,2.5,3,4]]}', /expected ',' or '\]'/],
        ['{"pixels":[]}', /expected "\\"data\\""/],
        ['{"data":[]} x', /text after the end/],
      ];
      for (const [text, problem] of cases) {
        const p = join(dir, 'bad.json');
        writeFileSync(p, text);
        expect(() => readFashionClassFile(p, 4)).to.throw(DataFileError, problem).with.property('file', p);
      }
    });
  });
});
