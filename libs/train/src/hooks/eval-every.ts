/** --eval-every E: the held-out log-likelihood of the validation split every E epochs, as an `eval` row. */
import { evaluate } from '@nbm/evaluate';
import { writeRunReport } from '@nbm/report';
import type { TrainHooks } from './hooks.ts';

export function evalEveryHook(): TrainHooks {
  return {
    async onEpochEnd(run, e) {
      const { config: cfg } = run;
      if (cfg.evalEvery <= 0 || e.epoch % cfg.evalEvery !== 0) return;
      const report = await evaluate({ checkpoint: e.checkpoint, split: 'val', limit: cfg.valExamples > 0 ? cfg.valExamples : undefined });
      await run.record([{
        kind: 'eval', epoch: e.epoch, step: e.globalStep, cd_loss: '', mse_bias: report.mse_bias, mse_var: report.mse_var,
        skipped: 0, examples: report.examples, samples_per_s: 0, compute_ms: 0, reduce_ms: 0, world_size: 0,
        wall_s: run.wallSeconds(), loglik_nats: report.loglik_nats,
      }]);
      writeRunReport(run.dir);
      run.log(`epoch ${e.epoch}: val log-likelihood ${report.loglik_nats.toFixed(2)} ± ${report.loglik_se.toFixed(2)} nats (${report.method})`);
    },
  };
}
