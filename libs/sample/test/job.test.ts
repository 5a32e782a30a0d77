import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { readNpy, writeNpy } from '@nbm/data';
import type { ModelConfig } from '@nbm/model';
import { SampleError, runSampleJob, type SampleJobOptions, type SampleSpec } from '../src/index.ts';
import { makeRun, scratch } from './helpers.ts';

const FIXTURE_WORKER = join(import.meta.dirname, 'fixtures', 'sample-worker.ts');
/** Paper-size model: with nh = 64 the wasm backend's bits depend on batching, so equal bytes mean something. */
const MODEL: ModelConfig = { nx: 10, ny: 784, nh: 64, width: 32, visible: 'gaussian' };
/** 10 classes × 13 = 130 rows: the last block (120..129 with block 10) and uneven chunks over the workers */
const SPEC: SampleSpec = { classes: '0-9', perClass: 13, gibbsSteps: 3, seed: 11, blockSize: 10, backend: 'wasm' };
const quiet: Partial<SampleJobOptions> = { quiet: true };

const same = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));

describe('runSampleJob', function () {
  this.timeout(180_000);
  const dir = scratch();
  let run: string;
  let reference: string;

  before(async () => {
    run = join(dir.path, 'run');
    await makeRun(run, MODEL);
    reference = join(dir.path, 'reference');
    const r = await runSampleJob({ ...SPEC, checkpoint: run }, { ...quiet, out: reference, chunk: 100 });
    expect(r.status).to.equal('complete');
  });

  it('writes every output: arrays of the right shape and dtype, one-hot contexts in class order, pictures, sample.json', () => {
    expect(readdirSync(reference).sort()).to.deep.equal(['components.png', 'contexts.npy', 'grid.png', 'sample.json', 'samples.npy']);
    const y = readNpy(join(reference, 'samples.npy'));
    const x = readNpy(join(reference, 'contexts.npy'));
    expect([y.dtype, y.descr, y.shape]).to.deep.equal(['float32', '<f4', [130, 784]]);
    expect([x.dtype, x.descr, x.shape]).to.deep.equal(['float32', '<f4', [130, 10]]);
    for (let r = 0; r < 130; r++) {
      const row = Array.from(x.data.subarray(r * 10, (r + 1) * 10));
      expect(row.indexOf(1), `row ${r}`).to.equal(Math.floor(r / 13));
      expect(row.reduce((a, b) => a + b, 0)).to.equal(1);
    }
    expect(y.data.every((v) => Number.isFinite(v))).to.equal(true);
    const m = JSON.parse(readFileSync(join(reference, 'sample.json'), 'utf8'));
    expect(m).to.deep.include({ format: 'nbm-sample/1', status: 'complete', dtype: 'float32', workers: 1, chunk: 100, resumed: false, drawnThisSession: 130 });
    expect(m.request).to.deep.include({ count: 130, seed: 11, gibbsSteps: 3, denoise: false, blockSize: 10, backend: 'wasm', model: MODEL });
    expect(m.request.contexts).to.deep.equal({ kind: 'classes', classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], perClass: 13 });
    expect(m.samplesPerSecond).to.be.above(0);
    const grid = PNG.sync.read(readFileSync(join(reference, 'grid.png')));
    const components = PNG.sync.read(readFileSync(join(reference, 'components.png')));
    expect(grid.width, '8 samples across').to.be.above(8 * 28);
    expect(components.height, '10 class rows').to.be.above(10 * 28);
  });

  it('gives byte-identical files on 3 workers, with other chunk sizes, as in one process', async () => {
    const out = join(dir.path, 'pool');
    await runSampleJob({ ...SPEC, checkpoint: run }, { ...quiet, out, chunk: 20, workers: 3, workerCommand: { file: FIXTURE_WORKER, args: [] } });
    expect(same(join(out, 'samples.npy'), join(reference, 'samples.npy'))).to.equal(true);
    expect(same(join(out, 'contexts.npy'), join(reference, 'contexts.npy'))).to.equal(true);
    expect(JSON.parse(readFileSync(join(out, 'sample.json'), 'utf8')).workers).to.equal(3);
  });

  it('reassigns the chunk of a worker killed in the middle of it, and the files are still byte-identical', async () => {
    const out = join(dir.path, 'crash');
    const lines: string[] = [];
    const stream = Object.assign(new (await import('node:stream')).Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }), { isTTY: false });
    process.env.NBM_TEST_CRASH_WORKER = '1';
    process.env.NBM_TEST_CRASH_AFTER = '1';
    try {
      await runSampleJob({ ...SPEC, checkpoint: run }, { out, chunk: 10, workers: 2, workerCommand: { file: FIXTURE_WORKER, args: [] }, stream });
    } finally {
      delete process.env.NBM_TEST_CRASH_WORKER;
      delete process.env.NBM_TEST_CRASH_AFTER;
    }
    expect(lines.join('')).to.match(/chunk \d+ \(rows \d+-\d+\) goes to another worker: .* is gone/);
    expect(same(join(out, 'samples.npy'), join(reference, 'samples.npy'))).to.equal(true);
    expect(same(join(out, 'contexts.npy'), join(reference, 'contexts.npy'))).to.equal(true);
  });

  it('takes arbitrary contexts from an .npy file: contexts.npy is the file as float32, and no class pictures', async () => {
    const xfile = join(dir.path, 'x.npy');
    const x = Float32Array.from({ length: 7 * 10 }, (_, i) => Math.sin(i) * 2);
    writeNpy(xfile, x, [7, 10]);
    const out = join(dir.path, 'file-contexts');
    await runSampleJob({ checkpoint: run, contexts: xfile, gibbsSteps: 2, backend: 'cpu' }, { ...quiet, out, chunk: 50 });
    expect(readdirSync(out).sort()).to.deep.equal(['contexts.npy', 'sample.json', 'samples.npy']);
    expect(Array.from(readNpy(join(out, 'contexts.npy')).data)).to.deep.equal(Array.from(x));
    expect(readNpy(join(out, 'samples.npy')).shape).to.deep.equal([7, 784]);
  });

  it('resumes only what was started: other flags are refused, an unchanged resume of a finished job does nothing', async () => {
    const out = join(dir.path, 'reference');
    const again = await runSampleJob({ ...SPEC, seed: 12 }, { ...quiet, out, resume: true });
    expect(again.status, 'a finished job is not redone, whatever the flags').to.equal('already-complete');

    // an unfinished job whose request disagrees with the flags given now
    const half = join(dir.path, 'half');
    mkdirSync(half);
    const request = JSON.parse(readFileSync(join(reference, 'sample.json'), 'utf8')).request;
    writeFileSync(join(half, 'sample.json.partial'), JSON.stringify({ format: 'nbm-sample/1', status: 'running', request, startedAt: 'x' }));
    const attempt = runSampleJob({ seed: 12, gibbsSteps: 3, classes: '0-8' }, { ...quiet, out: half, resume: true });
    await attempt.then(
      () => expect.fail('should refuse'),
      (e: Error) => {
        expect(e).to.be.instanceOf(SampleError);
        expect(e.message).to.match(/--seed 12 \(the job was started with 11\)/);
        expect(e.message).to.match(/--classes\/--per-class classes 0-8 × 1000 \(the job was started with classes 0-9 × 13\)/);
        expect(e.message).not.to.match(/gibbs-steps/);
      },
    );
    expect(readdirSync(half)).to.deep.equal(['sample.json.partial']);
  });

  it('refuses a resume when the checkpoint changed since the job started', async () => {
    const half = join(dir.path, 'changed');
    mkdirSync(half);
    const request = { ...JSON.parse(readFileSync(join(reference, 'sample.json'), 'utf8')).request, modelHash: '0'.repeat(64) };
    writeFileSync(join(half, 'sample.json.partial'), JSON.stringify({ format: 'nbm-sample/1', status: 'running', request, startedAt: 'x' }));
    await runSampleJob({}, { ...quiet, out: half, resume: true }).then(
      () => expect.fail('should refuse'),
      (e: Error) => expect(e.message).to.match(/checkpoint .* changed since the job started/),
    );
  });

  it('refuses an --out that is not empty, and a resume where nothing was started, writing nothing', async () => {
    await runSampleJob({ ...SPEC, checkpoint: run }, { ...quiet, out: reference }).then(
      () => expect.fail('should refuse'),
      (e: Error) => expect(e.message).to.match(/already holds a finished sampling job/),
    );
    const empty = join(dir.path, 'nothing');
    await runSampleJob({}, { ...quiet, out: empty, resume: true }).then(
      () => expect.fail('should refuse'),
      (e: Error) => expect(e.message).to.match(/holds no unfinished sampling job/),
    );
    expect(existsSync(empty)).to.equal(false);
  });
});
