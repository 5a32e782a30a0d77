import { SPLIT_ID, contextsFor, loadDataset, transformRows, type Dataset, type DatasetName, type SplitName } from '@nbm/data';
import type { ModelConfig } from '@nbm/model';
import { Stream } from '@nbm/random';
import { EvalError } from './errors.ts';

/** The examples one context stands for. Repeated contexts (class labels) share one Z(x). */
export interface ContextGroup {
  /** AIS counter `a` for this context: the class label for labelled data, else the index of first appearance */
  readonly id: number;
  /** the label of the per-class report: the class index, or `context N` for stored contexts */
  readonly key: string;
  /** the class name, for labelled data sets that have names */
  readonly name?: string;
  /** the context: (nx) */
  readonly x: Float32Array;
  /** the context's bytes as a string, the lookup key of the per-context baseline */
  readonly bytes: string;
  /** the group's examples, as indices into the evaluated rows (0 … examples − 1) */
  readonly rows: number[];
}

/** The examples to evaluate, as the model sees them. */
export interface EvalData {
  readonly dataset: Dataset;
  readonly split: SplitName;
  readonly examples: number;
  /** visible units: (examples, ny) */
  readonly y: Float32Array;
  readonly groups: ContextGroup[];
}

/** Which examples to evaluate. */
export interface EvalDataSpec {
  readonly name: DatasetName;
  /** the split to read; ignored when `asGiven` */
  readonly split: 'test' | 'val';
  /** npy only: every row of the files, values used as given (a user's own data), instead of a split */
  readonly asGiven?: boolean;
  readonly x?: string;
  readonly y?: string;
  /** the seed of the train/validation split (the run's) */
  readonly splitSeed: number;
  /** the seed of the visible-unit transform's draws */
  readonly seed: number;
  /** evaluate the first N rows only (0 or undefined: all) */
  readonly limit?: number;
}

/** A context row's bytes, as a Map key. */
export function contextKey(x: Float32Array): string {
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('latin1');
}

/**
 * Groups rows by context: by label for labelled data sets, else by identical stored context (bitwise).
 * @param x (m, nx) the rows' contexts
 */
export function groupContexts(dataset: Pick<Dataset, 'labels' | 'classNames'>, rows: Uint32Array, x: Float32Array, nx: number): ContextGroup[] {
  const groups = new Map<string, ContextGroup>();
  for (let r = 0; r < rows.length; r++) {
    const xr = x.subarray(r * nx, (r + 1) * nx);
    const bytes = contextKey(xr);
    let g = groups.get(bytes);
    if (!g) {
      const label = dataset.labels?.[rows[r]];
      g =
        label !== undefined
          ? { id: label, key: String(label), name: dataset.classNames?.[label], x: xr.slice(), bytes, rows: [] }
          : { id: groups.size, key: `context ${groups.size}`, x: xr.slice(), bytes, rows: [] };
      groups.set(bytes, g);
    }
    g.rows.push(r);
  }
  return [...groups.values()].sort((a, b) => a.id - b.id);
}

/**
 * Loads the examples to evaluate.
 * - mnist / fashion-mnist: the test or validation split (the validation split uses the run's split seed, so it is
 *   the run's own validation set); each image is turned into visible units once, by `transformRows` with key
 *   {seed, Stream.dataEval}, counterA 0, counterC SPLIT_ID[split] and the row's index in the split as its
 *   example index: a fixed, reproducible draw of the Gaussian noise or Ising bits.
 * - npy with `asGiven`: every row of the user's files, used as given (no transform): y must be float32 (±1 for
 *   Ising units). Without it, the split of an npy run's own files, transformed as in training.
 * @throws EvalError when the data do not fit the model; DataFileError for unreadable files
 */
export function loadEvalData(spec: EvalDataSpec, model: ModelConfig): EvalData {
  const asGiven = spec.name === 'npy' && spec.asGiven === true;
  const dataset = asGiven
    ? loadDataset({ name: 'npy', split: 'all', x: spec.x, y: spec.y, yTransform: 'none' })
    : loadDataset({ name: spec.name, split: spec.split, x: spec.x, y: spec.y, seed: spec.splitSeed });
  const split: SplitName = asGiven ? 'all' : spec.split;
  if (dataset.nx !== model.nx || dataset.ny !== model.ny) {
    throw new EvalError(
      `${dataset.name} ${split} data have nx = ${dataset.nx}, ny = ${dataset.ny}, but the model takes nx = ${model.nx}, ny = ${model.ny}`,
    );
  }
  const limit = spec.limit && spec.limit > 0 ? Math.min(spec.limit, dataset.count) : dataset.count;
  const rows = Uint32Array.from({ length: limit }, (_, i) => i);
  const y = transformRows(dataset, rows, rows, model.visible, { seed: spec.seed, stream: Stream.dataEval }, 0, SPLIT_ID[split]);
  if (model.visible === 'ising') {
    for (let i = 0; i < y.length; i++) {
      if (y[i] !== 1 && y[i] !== -1) {
        throw new EvalError(`${spec.y ?? dataset.name}: Ising units are ±1, but row ${Math.floor(i / model.ny)}, column ${i % model.ny} holds ${y[i]}`);
      }
    }
  }
  const x = contextsFor(dataset, rows);
  return { dataset, split, examples: limit, y, groups: groupContexts(dataset, rows, x, model.nx) };
}
