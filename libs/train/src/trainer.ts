/**
 * Single-process training: the worker's step (shard.ts) over every block, the collective update (update.ts)
 * with the identity reducer, and the run on disk. The distributed coordinator drives the same pieces.
 */
import { selectBackend, type BackendChoice } from '@nbm/backend';
import { batchesPerEpoch, batchRows, epochOrder, loadDataset, type Dataset } from '@nbm/data';
import { parameterCount, type ModelConfig } from '@nbm/model';
import { validateConfig, type TrainConfig } from './config.ts';
import { chooseEngine, type EngineChoice } from './engines.ts';
import { latestCheckpoint, restoreState, writeCheckpoint } from './checkpoints.ts';
import { writeEpochFigures, writeLossPlot } from './figures.ts';
import type { BatchMetrics } from './metrics.ts';
import { blockRanges } from './plan.ts';
import { ProgressBar } from './progress.ts';
import { gradientLayout } from './reduce.ts';
import {
  appendMetrics,
  createRunDir,
  epochCheckpointName,
  stepCheckpointName,
  truncateMetrics,
  type MetricRow,
} from './run-dir.ts';
import { shardGradients } from './shard.ts';
import { initialState, modelConfigOf, type TrainState } from './state.ts';
import { localReducer, reduceAndApply } from './update.ts';
import { validationMetrics } from './validate.ts';

export interface TrainOptions {
  readonly config: TrainConfig;
  /** continue the run in config.out from its latest checkpoint */
  readonly resume?: boolean;
  /** no progress output */
  readonly quiet?: boolean;
  /** where progress and log lines go (default stderr) */
  readonly stream?: NodeJS.WriteStream;
}

export interface TrainResult {
  readonly dir: string;
  readonly state: TrainState;
  readonly lastTrain?: BatchMetrics;
  readonly lastVal?: BatchMetrics;
  readonly backend: BackendChoice;
  readonly engine: string;
}

/** Everything a run needs before its first step, all checked before anything is written to disk. */
export interface Prepared {
  readonly config: TrainConfig;
  readonly model: ModelConfig;
  readonly train: Dataset;
  readonly val: Dataset;
  readonly backend: BackendChoice;
  readonly engine: EngineChoice;
}

export async function prepare(config: TrainConfig): Promise<Prepared> {
  validateConfig(config);
  const spec = { name: config.dataset, x: config.x, y: config.y, seed: config.seed } as const;
  const train = firstRows(loadDataset({ ...spec, split: 'train' }), config.trainExamples);
  const val = loadDataset({ ...spec, split: 'val' });
  if (train.count === 0) throw new Error(`the ${config.dataset} training split is empty`);
  const model = modelConfigOf(config, train.nx, train.ny);
  const backend = await selectBackend(config.backend);
  const engine = await chooseEngine(model, config.kernel, backend.tfjsBackend, config.threads);
  return { config, model, train, val, backend, engine };
}

/** The first n rows of a dataset (all when n is 0 or larger than the set). */
function firstRows(d: Dataset, n: number): Dataset {
  if (n <= 0 || n >= d.count) return d;
  return {
    ...d,
    count: n,
    pixels: d.pixels.subarray(0, n * d.ny),
    labels: d.labels?.subarray(0, n),
    contexts: d.contexts?.subarray(0, n * d.nx),
    sourceIndex: d.sourceIndex.subarray(0, n),
    description: `${d.description} (first ${n} rows only: --train-examples)`,
  } as Dataset;
}

/** What config.json records: every setting, resolved, and under `runtime` what the run ran on and why. */
export function runRecord(p: Prepared): object {
  return {
    ...p.config,
    runtime: {
      model: { ...p.model, parameters: parameterCount(p.model) },
      data: { train: p.train.count, val: p.val.count, description: p.train.description },
      backend: { name: p.backend.name, reason: p.backend.reason },
      kernel: { name: p.engine.kind, engine: p.engine.engine.name, reason: p.engine.reason },
      createdAt: new Date().toISOString(),
    },
  };
}

function totalSteps(cfg: TrainConfig, perEpoch: number): number {
  const byEpochs = cfg.epochs * perEpoch;
  return cfg.maxSteps > 0 ? (cfg.epochs > 0 ? Math.min(cfg.maxSteps, byEpochs) : cfg.maxSteps) : byEpochs;
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const p = await prepare(opts.config);
  const { config: cfg, model, train: data, val } = p;
  const dir = cfg.out;
  const progress = new ProgressBar(opts.stream ?? process.stderr, 0, 10_000, opts.quiet);

  let state: TrainState;
  if (opts.resume) {
    const file = await latestCheckpoint(dir);
    state = file ? await restoreState(file, model) : initialState(cfg, model);
    truncateMetrics(dir, state.globalStep);
    progress.log(file ? `resuming ${dir} from ${file} (step ${state.globalStep})` : `resuming ${dir}: no checkpoint yet, starting over`);
  } else {
    createRunDir(dir, runRecord(p));
    state = initialState(cfg, model);
  }
  progress.log(`backend: ${p.backend.name} (${p.backend.reason})`);
  progress.log(`kernel: ${p.engine.kind} (${p.engine.reason})`);

  const perEpoch = batchesPerEpoch(data.count, cfg.batchSize);
  const total = totalSteps(cfg, perEpoch);
  const layout = gradientLayout(state.params);
  const record = { seed: cfg.seed, config: cfg };
  const started = performance.now();
  let lastTrain: BatchMetrics | undefined;
  let lastVal: BatchMetrics | undefined;
  let pending: MetricRow[] = [];
  const engine = p.engine.engine;
  const flush = () => {
    appendMetrics(dir, pending);
    pending = [];
  };

  try {
    while (state.globalStep < total) {
      const order = epochOrder(data.count, cfg.seed, state.epoch);
      while (state.stepInEpoch < perEpoch && state.globalStep < total) {
        const rows = batchRows(order, state.stepInEpoch, cfg.batchSize);
        const blocks = blockRanges(rows.length, cfg.blockSize).length;
        const spec = { seed: cfg.seed, globalStep: state.globalStep, visible: cfg.visible, gibbsSteps: cfg.gibbsSteps, blockSize: cfg.blockSize, rows };
        const t0 = performance.now();
        const grads = shardGradients(engine, state.params, data, spec, 0, blocks);
        const computeMs = performance.now() - t0;
        const outcome = await reduceAndApply(state, grads, cfg, layout, rows.length, blocks, model.ny, localReducer);
        state.stepInEpoch += 1;
        const stepMs = performance.now() - t0;
        lastTrain = outcome.metrics;
        const info = {
          epoch: state.epoch, epochs: cfg.epochs, stepInEpoch: state.stepInEpoch, stepsPerEpoch: perEpoch,
          globalStep: state.globalStep, totalSteps: total, cdLoss: outcome.metrics.cdLoss, mseBias: outcome.metrics.mseBias,
          samplesPerS: rows.length / (stepMs / 1000), worldSize: 1,
        };
        progress.update(info);
        if (outcome.skipped) progress.log(`step ${state.globalStep - 1}: non-finite loss or gradient, step skipped`);
        if (state.globalStep % cfg.logEvery === 0 || state.stepInEpoch === perEpoch || state.globalStep === total) {
          pending.push({
            kind: 'train', epoch: state.epoch + 1, step: state.globalStep, cd_loss: outcome.metrics.cdLoss,
            mse_bias: outcome.metrics.mseBias, mse_var: outcome.metrics.mseVar, skipped: outcome.skipped ? 1 : 0,
            examples: rows.length, samples_per_s: info.samplesPerS, compute_ms: computeMs, reduce_ms: outcome.reduceMs,
            world_size: 1, wall_s: (performance.now() - started) / 1000,
          });
        }
        if (cfg.checkpointEvery > 0 && state.globalStep % cfg.checkpointEvery === 0 && state.stepInEpoch < perEpoch) {
          flush();
          await writeCheckpoint(dir, stepCheckpointName(state.globalStep), state, cfg.seed, record);
        }
      }
      if (state.stepInEpoch < perEpoch) break; // stopped by --max-steps inside an epoch
      // the epoch is complete: validate, draw, checkpoint
      progress.break();
      lastVal = validationMetrics(engine, state.params, val, cfg, state.epoch);
      pending.push({
        kind: 'val', epoch: state.epoch + 1, step: state.globalStep, cd_loss: lastVal.cdLoss, mse_bias: lastVal.mseBias,
        mse_var: lastVal.mseVar, skipped: 0, examples: cfg.valExamples > 0 ? Math.min(cfg.valExamples, val.count) : val.count,
        samples_per_s: 0, compute_ms: 0, reduce_ms: 0, world_size: 1, wall_s: (performance.now() - started) / 1000,
      });
      flush();
      progress.log(
        `epoch ${state.epoch + 1}: val CD ${lastVal.cdLoss.toFixed(3)}  MSE_bias ${lastVal.mseBias.toFixed(4)}  MSE_var ${lastVal.mseVar.toFixed(4)}`,
      );
      if (cfg.pictures) await writeEpochFigures(dir, state.epoch + 1, model, state.params, data, cfg);
      writeLossPlot(dir);
      const epochDone = state.epoch + 1;
      state.epoch += 1;
      state.stepInEpoch = 0;
      await writeCheckpoint(dir, epochCheckpointName(epochDone), state, cfg.seed, record);
    }
    if (state.stepInEpoch > 0) {
      // stopped mid-epoch: keep the exact position so that --resume continues from here
      flush();
      await writeCheckpoint(dir, stepCheckpointName(state.globalStep), state, cfg.seed, record);
      writeLossPlot(dir);
    }
  } finally {
    flush();
    progress.break();
    engine.dispose();
  }
  return { dir, state, lastTrain, lastVal, backend: p.backend, engine: engine.name };
}
