import { firstRows, loadDataset, type Dataset, type DatasetName } from '@nbm/data';
import { diagonalLogLikelihood, fitBaseline, type Baseline } from './baseline.ts';
import { conditionalAt, type Conditional } from './conditional.ts';
import { loadEvalData, type ContextGroup, type EvalData } from './data.ts';
import { maxCouplingEigenvalue, minEigenvalue } from './eigen.ts';
import { estimateAt, poolLogZ, type EvalPoolOptions, type PartitionEstimate } from './distributed.ts';
import { EvalError } from './errors.ts';
import { MAX_EXACT_HIDDEN } from './exact.ts';
import { logLikelihood } from './likelihood.ts';
import { meanAndSe } from './math.ts';
import { type LoadedModel, loadModel } from './run.ts';
import type { ClassReport, EvalReport } from './report.ts';

/** Per-context reports are listed for at most this many distinct stored contexts (labelled data: always). */
const MAX_LISTED_CONTEXTS = 100;

/** What to evaluate and how. */
export interface EvaluateOptions {
  /** a checkpoint file, or a run directory (its latest checkpoint) */
  readonly checkpoint: string;
  /** the split of the run's data set (default 'test'); ignored for npy data */
  readonly split?: 'test' | 'val';
  /**
   * other data than the run's: a built-in set (its `split`), or a user's npy pair (all rows, as given, no transform).
   * Without it: the run's own data set, `split` of it (an npy run has a 'val' split but no 'test').
   */
  readonly data?: { readonly name: DatasetName; readonly x?: string; readonly y?: string };
  /** AIS chains per context (default 100) */
  readonly aisChains?: number;
  /** AIS intermediate distributions (default 1000) */
  readonly aisSteps?: number;
  /** true: exact enumeration (nh ≤ 20 only); false: AIS; undefined: exact when nh ≤ 20 */
  readonly exact?: boolean;
  /** seed of the data transform's and AIS's draws (default: the run's seed) */
  readonly seed?: number;
  /** evaluate the first N examples only */
  readonly limit?: number;
  /** fit the diagonal-Gaussian (or Bernoulli) baseline on the run's training data and report it (default true) */
  readonly baseline?: boolean;
  /** progress lines (one per context), e.g. to stderr */
  readonly onProgress?: (line: string) => void;
  /**
   * compute the per-context ln Z(x) on a pool of worker processes (spawned and/or remote); the result is
   * bit-identical to one process. Absent: everything in this process.
   */
  readonly pool?: EvalPoolOptions;
}

function checkOptions(o: EvaluateOptions, nh: number): { exact: boolean; chains: number; steps: number } {
  const chains = o.aisChains ?? 100;
  const steps = o.aisSteps ?? 1000;
  if (!Number.isInteger(chains) || chains < 2) throw new EvalError(`AIS chains must be an integer of at least 2 (for a standard error), got ${chains}`);
  if (!Number.isInteger(steps) || steps < 1) throw new EvalError(`AIS steps must be a positive integer, got ${steps}`);
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1)) throw new EvalError(`limit must be a positive integer, got ${o.limit}`);
  if (o.seed !== undefined && (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff)) {
    throw new EvalError(`seed must be an integer in [0, 4294967295], got ${o.seed}`);
  }
  if (o.exact === true && nh > MAX_EXACT_HIDDEN) {
    throw new EvalError(
      `exact evaluation enumerates all 2^nh hidden states for each context; this model has nh = ${nh} (2^${nh} ≈ ${(2 ** nh).toExponential(1)} states), ` +
        `more than the ${MAX_EXACT_HIDDEN} (≈ 1e6 states) it allows: leave out --exact to use AIS`,
    );
  }
  return { exact: o.exact ?? nh <= MAX_EXACT_HIDDEN, chains, steps };
}

/** The training data the baseline is fitted on: the run's training split, as many rows as the model saw. */
function runTrainingData(loaded: LoadedModel): Dataset {
  const { run } = loaded;
  return firstRows(loadDataset({ name: run.dataset, split: 'train', x: run.x, y: run.y, seed: run.seed }), run.trainExamples);
}

/** Sums for MSE_bias and MSE_var over a group's examples (ȳ: the mean of all evaluated y). */
function squaredErrors(k: Conditional, y: Float32Array, rows: readonly number[], yBar: number): { bias: number; variance: number } {
  const ny = k.ny;
  let bias = 0;
  let variance = 0;
  for (const r of rows) {
    for (let i = 0; i < ny; i++) {
      const v = y[r * ny + i];
      bias += (v - k.mu[i]) ** 2;
      variance += ((v - yBar) ** 2 - 1 / k.precision[i]) ** 2;
    }
  }
  return { bias, variance };
}

/**
 * The held-out log-likelihood of a trained NBM, exactly or by AIS, with the diagnostics of `EvalReport`.
 * Each distinct context is handled once: its μ, P, W (float64), ln Z(x), the smallest eigenvalue of P − WWᵀ; then
 * each of its examples' ln p(y|x) = −F(y|x) + nh ln 2 − ln Z(x).
 * @throws EvalError for a bad request (missing checkpoint, --exact with nh > 20, data that do not fit the model)
 */
export async function evaluate(options: EvaluateOptions): Promise<EvalReport> {
  const started = performance.now();
  const loaded = await loadModel(options.checkpoint);
  const { model, params, run } = loaded;
  const { exact, chains, steps } = checkOptions(options, model.nh);
  const seed = options.seed ?? run.seed;
  const data = options.data ?? { name: run.dataset, x: run.x, y: run.y };
  if (data.name === 'npy' && (!data.x || !data.y)) throw new EvalError('npy data need both an x and a y file (.npy)');
  const evalData: EvalData = loadEvalData(
    { name: data.name, split: options.split ?? 'test', asGiven: options.data?.name === 'npy', x: data.x, y: data.y, splitSeed: run.seed, seed, limit: options.limit },
    model,
  );
  const { y, groups, examples } = evalData;
  const progress = options.onProgress ?? (() => undefined);

  let baseline: Baseline | null = null;
  let baselineNote = 'no baseline: not asked for';
  if (options.baseline ?? true) {
    try {
      baseline = fitBaseline(runTrainingData(loaded), model.visible);
      baselineNote = baseline.description;
    } catch (e) {
      baselineNote = `no baseline: the run's training data could not be read (${(e as Error).message})`;
      progress(baselineNote);
    }
  }

  let yBar = 0;
  for (let i = 0; i < y.length; i++) yBar += y[i];
  yBar /= y.length;

  const loglik = new Float64Array(examples);
  const baselineLoglik = new Float64Array(examples);
  const perGroup: Array<{ group: ContextGroup; report: ClassReport }> = [];
  let bias = 0;
  let variance = 0;
  let minEig = Infinity;
  let maxEigJ = -Infinity;
  let zVariance = 0; // Σ_g (n_g/N)² se_g²
  const zSettings = { exact, chains, steps, seed };
  // on a pool, every ln Z first (in parallel), then the rest below in this process
  const pooled = options.pool
    ? await poolLogZ(options.pool, model, params, groups, zSettings, (i, z) =>
        progress(`${groups[i].name ?? groups[i].key}: log Z ${z.logZ.toFixed(3)}${exact ? '' : ` ± ${z.se.toFixed(3)}`} (worker)`),
      )
    : undefined;
  for (const [gi, group] of groups.entries()) {
    const t0 = performance.now();
    const k = conditionalAt(model, params, group.x);
    const z: PartitionEstimate = pooled ? pooled[gi] : estimateAt(k, model.visible, group.id, zSettings);
    const fit = baseline ? (baseline.byContext.get(group.bytes) ?? baseline.pooled) : null;
    const ll = group.rows.map((r) => (loglik[r] = logLikelihood(k, y, z.logZ, r * model.ny)));
    const bl = fit ? group.rows.map((r) => (baselineLoglik[r] = diagonalLogLikelihood(fit, y, r * model.ny))) : [];
    const sq = squaredErrors(k, y, group.rows, yBar);
    bias += sq.bias;
    variance += sq.variance;
    const eig = minEigenvalue(k);
    const eigJ = maxCouplingEigenvalue(k);
    minEig = Math.min(minEig, eig);
    maxEigJ = Math.max(maxEigJ, eigJ);
    const share = group.rows.length / examples;
    zVariance += share * share * z.se * z.se;
    const { mean, se } = meanAndSe(ll);
    perGroup.push({
      group,
      report: {
        ...(group.name !== undefined ? { name: group.name } : {}),
        examples: group.rows.length,
        loglik_nats: mean,
        loglik_se: Math.hypot(se, z.se),
        bits_per_dim: -mean / (model.ny * Math.LN2),
        log_z: z.logZ,
        log_z_se: z.se,
        ...(z.ess !== undefined ? { ais_ess: z.ess } : {}),
        baseline_loglik_nats: fit ? meanAndSe(bl).mean : null,
        mse_bias: sq.bias / (group.rows.length * model.ny),
        min_eig: eig,
        max_eig_j: eigJ,
      },
    });
    progress(
      `${group.name ?? group.key}: ${group.rows.length} examples, log Z ${z.logZ.toFixed(3)}${exact ? '' : ` ± ${z.se.toFixed(3)}`}, ` +
        `loglik ${mean.toFixed(2)} nats (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }

  const overall = meanAndSe(loglik);
  const zSe = Math.sqrt(zVariance);
  const baselineMean = baseline ? meanAndSe(baselineLoglik).mean : null;
  const bitsScale = model.ny * Math.LN2;
  const listed = evalData.dataset.labels !== undefined || groups.length <= MAX_LISTED_CONTEXTS;
  return {
    split: evalData.split as EvalReport['split'],
    examples,
    method: exact ? 'exact' : 'ais',
    loglik_nats: overall.mean,
    loglik_se: Math.hypot(overall.se, zSe),
    loglik_se_examples: overall.se,
    loglik_se_log_z: zSe,
    bits_per_dim: -overall.mean / bitsScale,
    per_class: listed ? Object.fromEntries(perGroup.map((g) => [g.group.key, g.report])) : {},
    mse_bias: bias / (examples * model.ny),
    mse_var: variance / (examples * model.ny),
    baseline_loglik_nats: baselineMean,
    baseline_bits_per_dim: baselineMean === null ? null : -baselineMean / bitsScale,
    baseline: baselineNote,
    min_eig: minEig,
    max_eig_j: maxEigJ,
    visible: model.visible,
    units:
      model.visible === 'gaussian'
        ? 'Gaussian units: log-likelihoods are log densities of y in the model\'s units (images: y = 2p − 1 ∈ [−1, 1]), so they can be positive and bits/dim negative; ' +
          'for a discrete-pixel comparison add ny·ln(2/255) nats (the bin width of one 8-bit level in these units)'
        : 'Ising units: log-likelihoods are log probabilities of the ±1 vector y',
    model: { nx: model.nx, ny: model.ny, nh: model.nh, width: model.width },
    checkpoint: loaded.file,
    run_dir: loaded.runDir,
    global_step: loaded.globalStep,
    data: `${evalData.dataset.description}${options.limit ? ` (first ${examples} rows: limit)` : ''}`,
    seed,
    ais: exact ? null : { chains, steps, schedule: 'beta_k = sqrt(k/K), k = 0..K; block Gibbs at each beta' },
    seconds: (performance.now() - started) / 1000,
  };
}
