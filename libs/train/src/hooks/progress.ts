/** The progress line and the run's log lines for steps and validations. */
import type { ProgressBar } from '../progress.ts';
import type { TrainHooks } from './hooks.ts';

export function progressHook(bar: ProgressBar): TrainHooks {
  return {
    onStart: (_run, e) => bar.start(e.globalStep),
    onStep(run, s) {
      bar.update({
        epoch: s.epoch, epochs: run.config.epochs, stepInEpoch: s.stepInEpoch, stepsPerEpoch: run.stepsPerEpoch, globalStep: s.globalStep,
        totalSteps: run.totalSteps, cdLoss: s.report.metrics.cdLoss, mseBias: s.report.metrics.mseBias, samplesPerS: s.examples / (s.stepMs / 1000),
        worldSize: s.report.worldSize, computeMs: s.report.computeMs, reduceMs: s.report.reduceMs,
      });
      if (s.report.skipped) bar.log(`step ${s.globalStep - 1}: non-finite loss or gradient, step skipped on every replica`);
    },
    onValidation(_run, v) {
      const where = v.insideEpoch ? `step ${v.globalStep} (inside epoch ${v.epoch})` : `epoch ${v.epoch}`;
      bar.log(`${where}: val CD ${v.metrics.cdLoss.toFixed(3)}  MSE_bias ${v.metrics.mseBias.toFixed(4)}  MSE_var ${v.metrics.mseVar.toFixed(4)}`);
    },
    onEnd: () => bar.break(),
  };
}
