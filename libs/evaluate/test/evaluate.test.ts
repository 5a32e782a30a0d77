import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '@nbm/data';
import { RunDirError } from '@nbm/run';
import { EvalError, evaluate, type EvalReport } from '../src/index.ts';
import { conditionalAt } from '../src/conditional.ts';
import { exactLogZ } from '../src/exact.ts';
import { logLikelihood } from '../src/likelihood.ts';
import { writeTinyRun, type TinyRun } from './fixture.ts';

const FIELDS = ['split', 'examples', 'method', 'loglik_nats', 'loglik_se', 'bits_per_dim', 'per_class', 'mse_bias', 'mse_var', 'baseline_loglik_nats', 'min_eig'];

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('evaluate (a tiny npy run on disk)', function () {
  this.timeout(60_000);
  const runs: TinyRun[] = [];
  after(() => runs.forEach((r) => r.remove()));
  const tiny = async (...args: Parameters<typeof writeTinyRun>) => {
    const r = await writeTinyRun(...args);
    runs.push(r);
    return r;
  };

  for (const visible of ['gaussian', 'ising'] as const) {
    it(`${visible}: the report's numbers equal a direct computation over the validation rows`, async () => {
      const run = await tiny({ visible });
      const report = await evaluate({ checkpoint: run.dir, split: 'val' });
      for (const f of FIELDS) expect(report, f).to.have.property(f);
      expect(report).to.include({ split: 'val', method: 'exact', visible });
      const val = loadDataset({ name: 'npy', split: 'val', x: run.xPath, y: run.yPath, seed: 1 });
      expect(report.examples).to.equal(val.count);
      const y = val.pixels as Float32Array;
      const ll: number[] = [];
      let bias = 0;
      for (let r = 0; r < val.count; r++) {
        const k = conditionalAt(run.model, run.params, val.contexts!.subarray(r * 3, r * 3 + 3));
        ll.push(logLikelihood(k, y.subarray(r * 6, r * 6 + 6), exactLogZ(k, visible)));
        for (let i = 0; i < 6; i++) bias += (y[r * 6 + i] - k.mu[i]) ** 2;
      }
      const mean = ll.reduce((a, b) => a + b) / ll.length;
      expect(report.loglik_nats).to.be.closeTo(mean, 1e-9);
      expect(report.bits_per_dim).to.be.closeTo(-mean / (6 * Math.LN2), 1e-12);
      const sd = Math.sqrt(ll.reduce((a, v) => a + (v - mean) ** 2, 0) / (ll.length - 1));
      expect(report.loglik_se).to.be.closeTo(sd / Math.sqrt(ll.length), 1e-9);
      expect(report.mse_bias).to.be.closeTo(bias / (val.count * 6), 1e-9);
      // one group per distinct context, in order of first appearance, together holding every example
      const distinct = new Set<string>();
      for (let r = 0; r < val.count; r++) distinct.add(Array.from(val.contexts!.subarray(r * 3, r * 3 + 3)).join());
      expect(distinct.size).to.be.at.least(2);
      const groups = Object.values(report.per_class);
      expect(Object.keys(report.per_class)).to.deep.equal([...distinct].map((_, i) => `context ${i}`));
      expect(groups.reduce((n, g) => n + g.examples, 0)).to.equal(report.examples);
      expect(report.baseline_loglik_nats).to.be.a('number');
      expect(report.baseline).to.match(/per context \(3 distinct training contexts\)/);
      expect(report.min_eig).to.equal(Math.min(...groups.map((g) => g.min_eig)));
    });
  }

  it('a W = 0 model: each class\'s log-likelihood is the diagonal Gaussian log density, to 1e-9', async () => {
    const run = await tiny({ visible: 'gaussian', weightScale: 0 });
    const report = await evaluate({ checkpoint: run.dir, data: { name: 'npy', x: run.xPath, y: run.yPath } });
    expect(report.split).to.equal('all');
    expect(report.examples).to.equal(60);
    const all = loadDataset({ name: 'npy', split: 'all', x: run.xPath, y: run.yPath });
    const y = all.pixels as Float32Array;
    let total = 0;
    for (let r = 0; r < 60; r++) {
      const k = conditionalAt(run.model, run.params, all.contexts!.subarray(r * 3, r * 3 + 3));
      for (let i = 0; i < 6; i++) total += 0.5 * Math.log(k.precision[i] / (2 * Math.PI)) - 0.5 * k.precision[i] * (y[r * 6 + i] - k.mu[i]) ** 2;
    }
    expect(report.loglik_nats).to.be.closeTo(total / 60, 1e-9);
  });

  it('AIS (forced with exact: false) agrees with exact enumeration within 3 SE', async () => {
    const run = await tiny({ visible: 'gaussian', nh: 10 });
    const exact = await evaluate({ checkpoint: run.dir, split: 'val' });
    const ais = await evaluate({ checkpoint: run.dir, split: 'val', exact: false, aisChains: 50, aisSteps: 300 });
    expect(ais.method).to.equal('ais');
    expect(ais.ais).to.deep.include({ chains: 50, steps: 300 });
    expect(ais.loglik_se_log_z).to.be.above(0);
    expect(Math.abs(ais.loglik_nats - exact.loglik_nats)).to.be.below(3 * ais.loglik_se_log_z + 1e-9);
    for (const [key, c] of Object.entries(ais.per_class)) {
      expect(Math.abs(c.log_z - exact.per_class[key].log_z), key).to.be.below(3 * c.log_z_se);
    }
    // same seed, same numbers
    const again = await evaluate({ checkpoint: run.dir, split: 'val', exact: false, aisChains: 50, aisSteps: 300 });
    expect(again.loglik_nats).to.equal(ais.loglik_nats);
  });

  it('baseline: false fits no baseline and changes nothing else', async () => {
    const run = await tiny({ visible: 'gaussian' });
    const [with_, without] = [await evaluate({ checkpoint: run.dir, split: 'val' }), await evaluate({ checkpoint: run.dir, split: 'val', baseline: false })];
    expect(with_.baseline_loglik_nats).to.be.a('number');
    expect([without.baseline_loglik_nats, without.baseline]).to.deep.equal([null, 'no baseline: not asked for']);
    expect(without.loglik_nats).to.equal(with_.loglik_nats);
  });

  it('--limit evaluates the first N rows; MSE_var follows its definition', async () => {
    const run = await tiny({ visible: 'gaussian' });
    const report: EvalReport = await evaluate({ checkpoint: run.dir, data: { name: 'npy', x: run.xPath, y: run.yPath }, limit: 7 });
    expect(report.examples).to.equal(7);
    const all = loadDataset({ name: 'npy', split: 'all', x: run.xPath, y: run.yPath });
    const y = (all.pixels as Float32Array).subarray(0, 42);
    const yBar = y.reduce((a, b) => a + b) / 42;
    let v = 0;
    for (let r = 0; r < 7; r++) {
      const k = conditionalAt(run.model, run.params, all.contexts!.subarray(r * 3, r * 3 + 3));
      for (let i = 0; i < 6; i++) v += ((y[r * 6 + i] - yBar) ** 2 - 1 / k.precision[i]) ** 2;
    }
    expect(report.mse_var).to.be.closeTo(v / 42, 1e-9);
  });

  describe('bad requests: an error that names the problem', () => {
    it('a missing checkpoint', async () => {
      const e = await rejects(evaluate({ checkpoint: '/nonexistent/run' }));
      expect(e).to.be.instanceOf(RunDirError);
      expect(e.message).to.equal('--checkpoint /nonexistent/run: no such file or directory');
    });

    it('a directory without checkpoints', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'nbm-eval-test-'));
      try {
        const e = await rejects(evaluate({ checkpoint: dir }));
        expect(e).to.be.instanceOf(RunDirError);
        expect(e.message).to.match(/no checkpoint there; name a run directory \(runs\/NAME, which holds checkpoints\/\*\.safetensors\) or a checkpoint file/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('exact with nh > 20', async () => {
      const run = await tiny({ visible: 'gaussian', nh: 21 });
      const e = await rejects(evaluate({ checkpoint: run.dir, split: 'val', exact: true }));
      expect(e).to.be.instanceOf(EvalError);
      expect(e.message).to.match(/enumerates all 2\^nh hidden states .* nh = 21 \(2\^21 ≈ 2\.1e\+6 states\), more than the 20/);
    });

    it('data that do not fit the model, and non-±1 data for Ising units', async () => {
      const run = await tiny({ visible: 'ising' });
      const other = await tiny({ visible: 'gaussian' });
      const e = await rejects(evaluate({ checkpoint: run.dir, data: { name: 'npy', x: other.xPath, y: other.yPath } }));
      expect(e).to.be.instanceOf(EvalError);
      expect(e.message).to.match(/Ising units are ±1, but row 0, column 0 holds/);
      const f = await rejects(evaluate({ checkpoint: run.dir, data: { name: 'mnist' } }));
      expect(f.message).to.match(/mnist test data have nx = 10, ny = 784, but the model takes nx = 3, ny = 6/);
    });

    it('a test split of an npy run (npy data have none)', async () => {
      const run = await tiny({ visible: 'gaussian' });
      const e = await rejects(evaluate({ checkpoint: run.dir, split: 'test' }));
      expect(e.name).to.equal('DataFileError');
      expect(e.message).to.match(/no 'test' split/);
    });
  });
});
