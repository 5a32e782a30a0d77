import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Dataset, DataFileError, loadDataset } from '../src/index.ts';
import { defaultMnistDir, loadMnist } from '../src/mnist.ts';
import { readIdx } from '../src/idx.ts';
import { trainValSplit } from '../src/split.ts';

/** Label counts of the original MNIST files (LeCun et al.; widely tabulated). */
const TRAIN_FILE_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const TEST_FILE_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

const histogram = (labels: Uint8Array) => {
  const h = new Array(10).fill(0);
  for (const l of labels) h[l]++;
  return h;
};

describe('MNIST', () => {
  let train: Dataset, val: Dataset, test: Dataset;
  before(() => {
    train = loadMnist('train');
    val = loadMnist('val');
    test = loadMnist('test');
  });

  it('has 55,000 / 5,000 / 10,000 images of 28×28 with one-hot-able labels', () => {
    for (const [d, n] of [[train, 55_000], [val, 5_000], [test, 10_000]] as const) {
      expect(d.count).to.equal(n);
      expect(d.nx).to.equal(10);
      expect(d.ny).to.equal(784);
      expect(d.imageShape).to.deep.equal([28, 28]);
      expect(d.classes).to.equal(10);
      expect(d.transform).to.equal('image');
      expect(d.pixels).to.be.instanceOf(Uint8Array);
      expect(d.pixels.length).to.equal(n * 784);
      expect(d.labels!.length).to.equal(n);
      expect(d.sourceIndex.length).to.equal(n);
    }
  });

  it('has the original files\' label counts and first labels', () => {
    const merged = histogram(train.labels!).map((c, k) => c + histogram(val.labels!)[k]);
    expect(merged).to.deep.equal(TRAIN_FILE_COUNTS);
    expect(histogram(test.labels!)).to.deep.equal(TEST_FILE_COUNTS);
    expect(test.labels![0]).to.equal(7); // the famous first test digit
    // a random 5,000 of 60,000 holds each digit ≈ 500 ± 21 times
    for (const c of histogram(val.labels!)) expect(c).to.be.within(380, 620);
  });

  it('pixels span 0..255 with MNIST\'s mean intensity 0.1307', () => {
    let sum = 0, min = 255, max = 0;
    for (const v of train.pixels) { sum += v; if (v < min) min = v; if (v > max) max = v; }
    expect(min).to.equal(0);
    expect(max).to.equal(255);
    // over all 60,000 training images the mean is 0.1307; a 55,000 subset moves it by < 1e-3
    expect(sum / train.pixels.length / 255).to.be.closeTo(0.1307, 1e-3);
  });

  it('splits the training file by trainValSplit(60000, 5000, 1): disjoint, covering, and the right images', () => {
    const parts = trainValSplit(60_000, 5_000, 1);
    expect(Array.from(train.sourceIndex)).to.deep.equal(Array.from(parts.train));
    expect(Array.from(val.sourceIndex)).to.deep.equal(Array.from(parts.val));
    const seen = new Uint8Array(60_000);
    for (const i of train.sourceIndex) seen[i]++;
    for (const i of val.sourceIndex) seen[i]++;
    expect(seen.every((v) => v === 1)).to.equal(true);
    // the rows hold the images and labels the source file has at those indices
    const dir = defaultMnistDir();
    const images = readIdx(join(dir, 'train-images-idx3-ubyte')).data;
    const labels = readIdx(join(dir, 'train-labels-idx1-ubyte')).data;
    for (const r of [0, 1, 12_345, 54_999]) {
      const s = train.sourceIndex[r];
      expect(Buffer.from(train.pixels.subarray(r * 784, (r + 1) * 784)).equals(Buffer.from(images.subarray(s * 784, (s + 1) * 784)))).to.equal(true);
      expect(train.labels![r]).to.equal(labels[s]);
    }
    expect(test.sourceIndex[9_999]).to.equal(9_999);
    expect(train.description).to.match(/permutation\(60000, \{seed: 1, stream: Stream.split\}, 0\)/);
  });

  it('is deterministic and cached per seed; another seed gives another split, the same test set', () => {
    expect(loadMnist('train')).to.equal(train);
    expect(loadMnist('train', { seed: 1 })).to.equal(train);
    const other = loadMnist('val', { seed: 2 });
    let same = 0;
    const inVal = new Set(val.sourceIndex);
    for (const i of other.sourceIndex) if (inVal.has(i)) same++;
    expect(same).to.be.within(300, 540); // two random 5,000-subsets of 60,000 share ≈ 417 ± 20
    expect(loadMnist('test', { seed: 2 })).to.equal(test);
  });

  it('loadDataset routes to it and refuses what makes no sense', () => {
    expect(loadDataset({ name: 'mnist', split: 'val' })).to.equal(val);
    expect(() => loadDataset({ name: 'mnist', split: 'all' })).to.throw(DataFileError, /mnist: has no split 'all'/);
    expect(() => loadDataset({ name: 'mnist', split: 'train', x: 'a.npy' })).to.throw(DataFileError, /takes no x\/y paths/);
    expect(() => loadDataset({ name: 'cifar' as 'mnist', split: 'train' })).to.throw(DataFileError, /unknown dataset/);
    expect(() => loadMnist('train', { seed: -1 })).to.throw(RangeError, /seed/);
  });

  it('names the file when a directory holds wrong files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nbm-mnist-'));
    try {
      writeFileSync(join(dir, 'train-images-idx3-ubyte'), Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28, ...new Array(784).fill(0)));
      expect(() => loadMnist('train', { dir })).to.throw(DataFileError, /train-images-idx3-ubyte: IDX dims are \(1, 28, 28\), expected \(60000, 28, 28\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
