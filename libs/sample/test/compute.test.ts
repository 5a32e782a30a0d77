import { expect } from 'chai';
import { selectBackend } from '@nbm/backend';
import { initParameters, sampleModel, type ModelConfig } from '@nbm/model';
import { sampleRange, sampleStreams, type DrawSettings } from '../src/compute.ts';

/** The paper's model size: with nh = 64 the wasm backend's bits for a row depend on the rows batched with it. */
const MODEL: ModelConfig = { nx: 10, ny: 784, nh: 64, width: 32, visible: 'gaussian' };
const SETTINGS: DrawSettings = { seed: 7, gibbsSteps: 3, denoise: false, blockSize: 8 };
/** 6 blocks of 8 and a last block of one row: the case where batching decides the bits on wasm */
const ROWS = 49;

function contexts(n: number): Float32Array {
  const x = new Float32Array(n * MODEL.nx);
  for (let r = 0; r < n; r++) x[r * MODEL.nx + ((r * 7) % MODEL.nx)] = 1;
  return x;
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('sampleRange (wasm backend, paper-size model)', function () {
  this.timeout(120_000);
  const params = initParameters(MODEL, 3);
  const x = contexts(ROWS);
  let whole: Float32Array;

  before(async () => {
    await selectBackend('wasm');
    whole = await sampleRange(MODEL, params, x, 0, SETTINGS);
  });

  it('gives a row the same bits however the rows are split, as long as splits fall on blocks', async () => {
    for (const cuts of [[0, 8, 49], [0, 24, 40, 49], [0, 16, 24, 32, 48, 49]]) {
      const parts: Float32Array[] = [];
      for (let i = 0; i + 1 < cuts.length; i++) {
        parts.push(await sampleRange(MODEL, params, x.subarray(cuts[i] * MODEL.nx, cuts[i + 1] * MODEL.nx), cuts[i], SETTINGS));
      }
      const joined = new Float32Array(ROWS * MODEL.ny);
      let at = 0;
      for (const p of parts) {
        joined.set(p, at);
        at += p.length;
      }
      expect(bytes(joined).equals(bytes(whole)), `cuts ${cuts.join(',')}`).to.equal(true);
    }
  });

  it('is needed: on this backend a row evaluated in another batch (here: alone) gets other bits', () => {
    // so the sampler must fix which rows share a batch by their global index, never by chunk or worker
    const differ = [8, 9, 10].some((row) => {
      const y = sampleModel(MODEL, params, x.subarray(row * MODEL.nx, (row + 1) * MODEL.nx), Uint32Array.of(row), sampleStreams(SETTINGS.seed), SETTINGS.gibbsSteps, false);
      return !bytes(y).equals(bytes(whole.subarray(row * MODEL.ny, (row + 1) * MODEL.ny)));
    });
    expect(differ, 'if this fails, wasm became batch-independent and the test above lost its teeth').to.equal(true);
  });

  it('keys the draws by seed and global index: another seed, or rows shifted to other indices, differ', async () => {
    const other = await sampleRange(MODEL, params, x.subarray(0, 8 * MODEL.nx), 0, { ...SETTINGS, seed: 8 });
    expect(bytes(other).equals(bytes(whole.subarray(0, 8 * MODEL.ny)))).to.equal(false);
    const shifted = await sampleRange(MODEL, params, x.subarray(0, 8 * MODEL.nx), 8, SETTINGS);
    expect(bytes(shifted).equals(bytes(whole.subarray(0, 8 * MODEL.ny)))).to.equal(false);
  });

  it('puts seeds above 2^32 in the counter, so they do not wrap onto small seeds', () => {
    expect(sampleStreams(7)).to.include({ seed: 7, counter: 0 });
    expect(sampleStreams(2 ** 32 + 7)).to.include({ seed: 7, counter: 1 });
    expect(() => sampleStreams(-1)).to.throw(RangeError);
    expect(() => sampleStreams(2 ** 53)).to.throw(RangeError);
  });

  it('refuses a range that does not start a block', async () => {
    await sampleRange(MODEL, params, x.subarray(0, 8 * MODEL.nx), 3, SETTINGS).then(
      () => expect.fail('should refuse'),
      (e: Error) => expect(e.message).to.match(/row 3 does not start a block of 8/),
    );
  });

  it('stops between blocks when its signal aborts', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await sampleRange(MODEL, params, x, 0, SETTINGS, controller.signal).then(
      () => expect.fail('should stop'),
      (e: Error) => expect(e.message).to.equal('stop'),
    );
  });
});
