/**
 * The run's pictures and pages: samples/ and components/ for each kept state (not for --checkpoint-every's
 * saves), loss.png, and report.html (at the start of a new run and with every picture).
 */
import { writeRunReport } from '@nbm/report';
import { writeFigures, writeLossPlot } from '../figures.ts';
import type { TrainHooks } from './hooks.ts';

export function figuresHook(): TrainHooks {
  return {
    onStart(run, e) {
      if (!e.resumed) writeRunReport(run.dir);
    },
    async onSave(run, s) {
      if (s.reason === 'every') return;
      if (run.config.pictures) {
        await writeFigures(run.dir, { epoch: s.epoch, ...(s.insideEpoch ? { step: s.globalStep } : {}) }, run.model, s.state.params, run.train, run.config);
      }
      writeLossPlot(run.dir);
      writeRunReport(run.dir);
    },
  };
}
