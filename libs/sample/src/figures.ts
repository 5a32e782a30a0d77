import { atomicWriteFileSync } from '@nbm/checkpoint';
import { conditionalArrays, type ModelConfig, type Parameters } from '@nbm/model';
import { componentsFigure, samplesFigure } from '@nbm/report';
import { formatClasses } from './classes.ts';
import { readWrittenRows } from './out-dir.ts';

/** Samples per class shown in grid.png (fewer when the job draws fewer). */
export const GRID_PER_CLASS = 8;

export interface FigureInput {
  readonly model: ModelConfig;
  readonly params: Parameters;
  readonly imageShape: readonly [number, number];
  readonly classes: readonly number[];
  readonly perClass: number;
  /** the finished samples.npy, (classes.length · perClass, ny), class by class */
  readonly samplesFile: string;
  readonly title: string;
}

/** One-hot contexts, one row per class: (classes.length, nx) */
function oneHot(classes: readonly number[], nx: number): Float32Array {
  const x = new Float32Array(classes.length * nx);
  classes.forEach((c, i) => (x[i * nx + c] = 1));
  return x;
}

/**
 * grid.png (paper Fig. 1/2: the first samples of each class, a row per class) and components.png (Fig. 3/4: per
 * class, its first sample, the bias μ, 1/precision and the weights averaged over hidden units). Rows follow the
 * order of `classes`; when that is not 0, 1, 2, … the title names them. Needs an active tfjs backend (μ, P, W).
 */
export function writeFigures(f: FigureInput, files: { grid: string; components: string }): void {
  const { model, classes, perClass } = f;
  const [h, w] = f.imageShape;
  const ny = model.ny;
  const total = classes.length * perClass;
  const show = Math.min(perClass, GRID_PER_CLASS);
  const shown = new Float32Array(classes.length * show * ny);
  classes.forEach((_, i) => shown.set(readWrittenRows(f.samplesFile, total, ny, i * perClass, show), i * show * ny));
  const plain = classes.every((c, i) => c === i);
  const title = plain ? f.title : `${f.title} (rows: classes ${formatClasses(classes)})`;
  atomicWriteFileSync(files.grid, samplesFigure({ samples: shown, classes: classes.length, perClass: show, h, w, range: [-1, 1], title }));

  const k = conditionalArrays(model, f.params, oneHot(classes, model.nx));
  const sample = new Float32Array(classes.length * ny);
  classes.forEach((_, i) => sample.set(shown.subarray(i * show * ny, (i * show + 1) * ny), i * ny));
  const meanWeights = new Float32Array(classes.length * ny);
  for (let r = 0; r < meanWeights.length; r++) {
    let s = 0;
    for (let j = 0; j < model.nh; j++) s += k.weights[r * model.nh + j];
    meanWeights[r] = s / model.nh;
  }
  const inversePrecision = k.precision.map((p) => 1 / p);
  atomicWriteFileSync(files.components, componentsFigure({ classes: classes.length, h, w, sample, bias: k.mu, inversePrecision, meanWeights, title }));
}
