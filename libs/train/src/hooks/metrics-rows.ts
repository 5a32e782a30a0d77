/** Turns steps and validations into metrics.csv rows: a `train` row every --log-every steps and at each epoch's end, a `val` row per validation. */
import type { MetricRow } from '@nbm/run';
import type { RunContext, StepEnd, TrainHooks, ValidationEnd } from './hooks.ts';

export function metricRowsHook(): TrainHooks {
  return {
    async onStep(run: RunContext, s: StepEnd) {
      const { config: cfg } = run;
      const endOfEpoch = s.stepInEpoch === run.stepsPerEpoch;
      if (s.globalStep % cfg.logEvery !== 0 && !endOfEpoch && s.globalStep !== run.totalSteps) return;
      const m = s.report.metrics;
      const row: MetricRow = {
        kind: 'train', epoch: s.epoch + 1, step: s.globalStep, cd_loss: m.cdLoss, mse_bias: m.mseBias, mse_var: m.mseVar,
        skipped: s.report.skipped ? 1 : 0, examples: s.examples, samples_per_s: s.examples / (s.stepMs / 1000),
        compute_ms: s.report.computeMs, reduce_ms: s.report.reduceMs, world_size: s.report.worldSize, wall_s: run.wallSeconds(),
      };
      await run.record([row]);
    },
    async onValidation(run: RunContext, v: ValidationEnd) {
      const m = v.metrics;
      await run.record([{
        kind: 'val', epoch: v.epoch, step: v.globalStep, cd_loss: m.cdLoss, mse_bias: m.mseBias, mse_var: m.mseVar, skipped: 0,
        examples: v.examples, samples_per_s: 0, compute_ms: 0, reduce_ms: 0, world_size: 0, wall_s: run.wallSeconds(),
      }]);
    },
  };
}
