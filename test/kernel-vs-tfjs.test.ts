/**
 * The native kernel and the tfjs path train the same model: 120 steps from the same seed give the same loss
 * curves. They differ only by float32 rounding (exp/log/tanh are the kernel's own) and, rarely, a Bernoulli draw
 * whose uniform falls within that rounding of its probability, which changes one chain of one step: that step's
 * CD loss then moves by about |ΔF|/B. The bounds below allow for a few such flips and nothing more.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNativeKernel } from '@nbm/kernels';
import { runNbm, scratchDir } from './helpers.ts';

const ARGS = ['--train-examples', '640', '--val-examples', '64', '--batch-size', '32', '--block-size', '8', '--hidden', '8', '--gibbs-steps', '4', '--log-every', '1', '--no-pictures', '--quiet', '--lr', '2e-3', '--max-steps', '120', '--backend', 'cpu'];

function trainRows(dir: string): Array<Record<string, number>> {
  const [head, ...rows] = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
  const cols = head.split(',');
  return rows.filter((r) => r.startsWith('train')).map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i], Number(v)])));
}

describe('native kernel vs tfjs path: a 120-step training run', function () {
  this.timeout(300_000);
  const scratch = scratchDir();
  after(() => scratch.remove());

  it('gives the same loss curves (CD within 1e-3 relative per step, MSE_bias and MSE_var within 1e-6)', async function () {
    const status = loadNativeKernel();
    if (!status.ok) {
      if (process.env.NBM_REQUIRE_NATIVE === '1') throw new Error(`the native kernel is required here but did not load: ${status.reason}`);
      console.log(`      skipped: the native kernel is not available (${status.reason})`);
      this.skip();
    }
    const native = join(scratch.dir, 'native');
    const tfjs = join(scratch.dir, 'tfjs');
    for (const [kernel, out] of [['native', native], ['tfjs', tfjs]]) {
      const r = await runNbm(['train', ...ARGS, '--kernel', kernel, '--out', out], { timeoutMs: 240_000 });
      expect(r.code, r.stderr).to.equal(0);
    }
    const a = trainRows(native);
    const b = trainRows(tfjs);
    expect(a).to.have.length(120);
    expect(b).to.have.length(120);
    const rel = (x: number, y: number) => Math.abs(x - y) / Math.max(1e-12, Math.abs(y));
    a.forEach((row, i) => {
      expect(rel(row.cd_loss, b[i].cd_loss), `CD loss at step ${row.step}`).to.be.below(1e-3);
      expect(rel(row.mse_bias, b[i].mse_bias), `MSE_bias at step ${row.step}`).to.be.below(1e-6);
      expect(rel(row.mse_var, b[i].mse_var), `MSE_var at step ${row.step}`).to.be.below(1e-6);
    });
    // and the model did learn over the run, so the comparison covers a moving trajectory
    expect(a[119].mse_bias).to.be.below(a[0].mse_bias * 0.5);
  });
});
