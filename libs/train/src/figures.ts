import { join } from 'node:path';
import { atomicWriteFileSync } from '@nbm/checkpoint';
import type { Dataset } from '@nbm/data';
import { conditionalArrays, sampleModel, type ModelConfig, type Parameters } from '@nbm/model';
import { Stream } from '@nbm/random';
import { componentsFigure, samplesFigure, stackedPlots } from '@nbm/report';
import type { TrainConfig } from './config.ts';
import { runPaths, picturesName, readMetrics, stepPicturesName } from '@nbm/run';


/** One-hot contexts for `perClass` rows of each class, class by class: (classes·perClass, classes) */
function classContexts(classes: number, perClass: number): Float32Array {
  const x = new Float32Array(classes * perClass * classes);
  for (let c = 0; c < classes; c++) for (let r = 0; r < perClass; r++) x[(c * perClass + r) * classes + c] = 1;
  return x;
}

/** Which state a pair of pictures shows: the end of an epoch, or the step a run ended at inside one. */
export interface FigureMoment {
  /** the epoch (1-based) that ended, or the one in progress when `step` is set */
  readonly epoch: number;
  /** set for a run that ended inside an epoch: the pictures are named and titled by this global step */
  readonly step?: number;
}

/**
 * samples/epoch-NNN.png (4 denoised samples per class, paper Fig. 1/2) and components/epoch-NNN.png (sample,
 * bias, 1/precision and weights averaged over hidden units per class, Fig. 3/4); step-NNNNNNNN.png for a run that
 * ended inside an epoch. Only for labelled image data. The pictures' draws use the sample streams keyed by the
 * epoch, so they never disturb training.
 */
export async function writeFigures(dir: string, moment: FigureMoment, model: ModelConfig, params: Parameters, data: Dataset, cfg: TrainConfig): Promise<void> {
  const { epoch, step } = moment;
  const file = step === undefined ? picturesName(epoch) : stepPicturesName(step);
  const title = step === undefined ? `epoch ${epoch}` : `step ${step} (epoch ${epoch})`;
  if (!data.imageShape || !data.classes || data.classes !== model.nx) return;
  const [h, w] = data.imageShape;
  const classes = data.classes;
  const perClass = 4;
  const x = classContexts(classes, perClass);
  const index = Uint32Array.from({ length: classes * perClass }, (_, i) => i);
  const streams = { seed: cfg.seed, counter: epoch, hiddenStream: Stream.sampleHidden, visibleStream: Stream.sampleVisible };
  const samples = sampleModel(model, params, x, index, streams, cfg.gibbsSteps, true);
  const range = [-1, 1] as const;
  atomicWriteFileSync(join(runPaths(dir).samples, file), samplesFigure({ samples, classes, perClass, h, w, range, title }));

  const one = classContexts(classes, 1);
  const k = conditionalArrays(model, params, one);
  const ny = model.ny;
  const sample = new Float32Array(classes * ny);
  for (let c = 0; c < classes; c++) sample.set(samples.subarray(c * perClass * ny, (c * perClass + 1) * ny), c * ny);
  const inversePrecision = k.precision.map((p) => 1 / p);
  const meanWeights = new Float32Array(classes * ny);
  for (let r = 0; r < classes * ny; r++) {
    let s = 0;
    for (let j = 0; j < model.nh; j++) s += k.weights[r * model.nh + j];
    meanWeights[r] = s / model.nh;
  }
  const png = componentsFigure({ classes, h, w, sample, bias: k.mu, inversePrecision, meanWeights, title });
  atomicWriteFileSync(join(runPaths(dir).components, file), png);
}

/** loss.png: CD loss, MSE_bias and MSE_var against step, training and validation. */
export function writeLossPlot(dir: string): void {
  const rows = readMetrics(dir);
  const series = (kind: string, col: string) => {
    const r = rows.filter((x) => x.kind === kind);
    return { name: kind, x: r.map((x) => Number(x.step)), y: r.map((x) => Number(x[col])) };
  };
  const panels = [
    { title: 'CD loss', col: 'cd_loss' },
    { title: 'MSE bias', col: 'mse_bias' },
    { title: 'MSE var', col: 'mse_var' },
  ].map((p) => ({ title: p.title, xLabel: 'step', series: [series('train', p.col), series('val', p.col)] }));
  atomicWriteFileSync(runPaths(dir).loss, stackedPlots(panels));
}
