/**
 * The training loop and the run on disk. The steps themselves run in a `StepExecutor`: in this process
 * (LocalExecutor: every block, identity reducer) or on a pool of workers (cluster/), with the same loop.
 */
import { selectBackend, type BackendChoice } from '@nbm/backend';
import type { Lock } from '@nbm/checkpoint';
import { evaluate } from '@nbm/evaluate';
import { writeRunReport } from '@nbm/report';
import { batchesPerEpoch, firstRows, loadDataset, type Dataset } from '@nbm/data';
import { parameterCount, type ModelConfig } from '@nbm/model';
import { ConfigError, validateConfig, type TrainConfig } from './config.ts';
import { chooseEngine, type EngineChoice } from './engines.ts';
import { expectedTensors, restoreState, resumePoint, writeCheckpoint } from './checkpoints.ts';
import { writeFigures, writeLossPlot } from './figures.ts';
import type { Position, StepExecutor } from './executor.ts';
import { LocalExecutor } from './local-executor.ts';
import type { BatchMetrics } from './metrics.ts';
import { ProgressBar, type OutputStream } from './progress.ts';
import {
  appendMetrics,
  createRunDir,
  epochCheckpointName,
  lockRunDir,
  MetricsBoard,
  stepCheckpointName,
  truncateMetrics,
  type MetricRow,
} from './run-dir.ts';
import { initialState, modelConfigOf, type TrainState } from './state.ts';

export interface TrainOptions {
  readonly config: TrainConfig;
  /** continue the run in config.out from its latest checkpoint */
  readonly resume?: boolean;
  /** no progress output */
  readonly quiet?: boolean;
  /** where progress and log lines go (default stderr) */
  readonly stream?: OutputStream;
  /** runs the steps (default: in this process) */
  readonly executor?: ExecutorFactory;
  /** when aborted (SIGTERM, Ctrl-C, a scheduler's preemption), the run checkpoints after the step in flight and stops */
  readonly stop?: AbortSignal;
}

/** The run stopped on request after writing a checkpoint; `--resume` continues it exactly. */
export class StoppedError extends Error {
  constructor(readonly step: number, readonly checkpoint: string) {
    super(`stopped at step ${step} on request; checkpoint ${checkpoint} written, continue with --resume`);
    this.name = 'StoppedError';
  }
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
  /** the engine this process computes with; none on a coordinator whose workers compute (each chooses its own) */
  readonly engine?: EngineChoice;
}

/**
 * Loads the data and, unless `engine` is false (a coordinator of remote workers: it computes nothing, and may have
 * no GPU of its own), builds the engine.
 */
export async function prepare(config: TrainConfig, options: { readonly engine?: boolean } = {}): Promise<Prepared> {
  validateConfig(config);
  const spec = { name: config.dataset, x: config.x, y: config.y, seed: config.seed } as const;
  const train = firstRows(loadDataset({ ...spec, split: 'train' }), config.trainExamples);
  const val = loadDataset({ ...spec, split: 'val' });
  if (train.count === 0) throw new ConfigError(`the ${config.dataset} training split is empty: check the data files or --train-examples`);
  const model = modelConfigOf(config, train.nx, train.ny);
  const backend = await selectBackend(config.backend);
  const engine = options.engine === false ? undefined : await chooseEngine(model, config.kernel, config.threads, config.device ?? 0);
  return { config, model, train, val, backend, engine };
}

/** What config.json records: every setting, resolved, and under `runtime` what the run ran on and why. */
export function runRecord(p: Prepared): object {
  return {
    ...p.config,
    runtime: {
      model: { ...p.model, parameters: parameterCount(p.model) },
      data: { train: p.train.count, val: p.val.count, description: p.train.description },
      backend: { name: p.backend.name, reason: p.backend.reason },
      kernel: p.engine
        ? { name: p.engine.kind, engine: p.engine.engine.name, reason: p.engine.reason, ...(p.engine.device ? { device: p.engine.device } : {}) }
        : { name: p.config.kernel, reason: ON_WORKERS },
      createdAt: new Date().toISOString(),
    },
  };
}

function totalSteps(cfg: TrainConfig, perEpoch: number): number {
  const byEpochs = cfg.epochs * perEpoch;
  return cfg.maxSteps > 0 ? (cfg.epochs > 0 ? Math.min(cfg.maxSteps, byEpochs) : cfg.maxSteps) : byEpochs;
}

const ON_WORKERS = 'computed on the workers: each chooses its engine for --engine and the run admits only workers whose engine and device agree';

/**
 * Starts the executor that runs the steps: this process, or a pool of workers (cluster/), which `remote` marks:
 * then this process builds no engine.
 */
export type ExecutorFactory = ((p: Prepared, state: TrainState, log: (line: string) => void) => Promise<StepExecutor>) & { readonly remote?: boolean };

/** The engine of a process that computes (a local run, a worker). */
export function engineOf(p: Prepared): EngineChoice {
  if (!p.engine) throw new Error('this run was prepared without an engine (its workers compute)');
  return p.engine;
}

export const localExecutor: ExecutorFactory = async (p, state) => new LocalExecutor(p.config, p.model, engineOf(p).engine, engineOf(p).ops, p.train, p.val, state);

/** Trains `opts.config` (or resumes it) as the one writer of its run directory. */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const p = await prepare(opts.config, { engine: !opts.executor?.remote });
  const lock = await lockRunDir(p.config.out);
  try {
    return await trainLocked(opts, p, lock);
  } finally {
    lock.release();
  }
}

async function trainLocked(opts: TrainOptions, p: Prepared, lock: Lock): Promise<TrainResult> {
  const { config: cfg, model, train: data } = p;
  const dir = cfg.out;
  const progress = new ProgressBar(opts.stream ?? process.stderr, 0, 10_000, opts.quiet);

  let state: TrainState;
  if (opts.resume) {
    const { file, checkpoint, skipped } = await resumePoint(dir, expectedTensors(model));
    for (const s of skipped) progress.log(`resume: skipped ${s.file}: ${s.reason}`);
    state = checkpoint ? restoreState(checkpoint, model) : initialState(cfg, model);
    truncateMetrics(dir, state.globalStep, state.stepInEpoch > 0);
    progress.log(file ? `resuming ${dir} from ${file} (step ${state.globalStep})` : `resuming ${dir}: it wrote no checkpoint before it stopped, so training starts from step 0`);
  } else {
    createRunDir(dir, runRecord(p));
    writeRunReport(dir);
    state = initialState(cfg, model);
  }
  progress.log(`backend: ${p.backend.name} (${p.backend.reason})`);
  progress.log(p.engine ? `kernel: ${p.engine.kind} (${p.engine.reason})` : `kernel: ${p.config.kernel}, ${ON_WORKERS}`);

  const perEpoch = batchesPerEpoch(data.count, cfg.batchSize);
  const total = totalSteps(cfg, perEpoch);
  const pos: Position = { epoch: state.epoch, stepInEpoch: state.stepInEpoch, globalStep: state.globalStep };
  const record = { seed: cfg.seed, config: cfg };
  const started = performance.now();
  let lastTrain: BatchMetrics | undefined;
  let lastVal: BatchMetrics | undefined;
  let pending: MetricRow[] = [];
  /** the rows of metrics.csv, also as TensorBoard scalars in tensorboard/ */
  const board = new MetricsBoard(dir, (line) => progress.log(line));
  const flush = () => {
    appendMetrics(dir, pending);
    board.append(pending);
    pending = [];
  };
  const checkpoint = async (name: string, snap?: TrainState) => {
    flush();
    return writeCheckpoint(dir, name, snap ?? (await executor.snapshot(pos)), cfg.seed, record);
  };
  /** Validates the current parameters: a `val` row and a log line; `step` set inside an epoch. */
  const validate = async (epoch: number, step?: number) => {
    progress.break();
    lastVal = await executor.validate(pos.epoch);
    pending.push({
      kind: 'val', epoch, step: pos.globalStep, cd_loss: lastVal.cdLoss, mse_bias: lastVal.mseBias,
      mse_var: lastVal.mseVar, skipped: 0, examples: cfg.valExamples > 0 ? Math.min(cfg.valExamples, p.val.count) : p.val.count,
      samples_per_s: 0, compute_ms: 0, reduce_ms: 0, world_size: 0, wall_s: (performance.now() - started) / 1000,
    });
    flush();
    const where = step === undefined ? `epoch ${epoch}` : `step ${step} (inside epoch ${epoch})`;
    progress.log(`${where}: val CD ${lastVal.cdLoss.toFixed(3)}  MSE_bias ${lastVal.mseBias.toFixed(4)}  MSE_var ${lastVal.mseVar.toFixed(4)}`);
  };
  /** Draws a state's pictures and rewrites loss.png and report.html; returns the checkpoint of that state. */
  const drawAndCheckpoint = async (moment: { epoch: number; step?: number }, name: string) => {
    const snap = await executor.snapshot(pos);
    if (cfg.pictures) await writeFigures(dir, moment, model, snap.params, data, cfg);
    writeLossPlot(dir);
    writeRunReport(dir);
    return checkpoint(name, snap);
  };
  /**
   * A run that ends inside an epoch (--max-steps, a stop request) is complete all the same: its final state is
   * validated, drawn and checkpointed at the exact position, so `--resume` continues from there.
   */
  const endInsideEpoch = async () => {
    const moment = { epoch: pos.epoch + 1, step: pos.globalStep };
    await validate(moment.epoch, moment.step);
    const name = stepCheckpointName(pos.globalStep);
    await drawAndCheckpoint(moment, name);
    return name;
  };
  const executor = await (opts.executor ?? localExecutor)(p, state, (line) => progress.log(line));
  progress.start(pos.globalStep);

  try {
    while (pos.globalStep < total) {
      while (pos.stepInEpoch < perEpoch && pos.globalStep < total) {
        const examples = Math.min(cfg.batchSize, data.count - pos.stepInEpoch * cfg.batchSize);
        const order = { ...pos, examples, totalBlocks: Math.ceil(examples / cfg.blockSize) };
        const t0 = performance.now();
        const report = await executor.step(order);
        const stepMs = performance.now() - t0;
        lock.refresh();
        pos.globalStep += 1;
        pos.stepInEpoch += 1;
        lastTrain = report.metrics;
        const samplesPerS = examples / (stepMs / 1000);
        progress.update({
          epoch: pos.epoch, epochs: cfg.epochs, stepInEpoch: pos.stepInEpoch, stepsPerEpoch: perEpoch, globalStep: pos.globalStep,
          totalSteps: total, cdLoss: report.metrics.cdLoss, mseBias: report.metrics.mseBias, samplesPerS, worldSize: report.worldSize,
          computeMs: report.computeMs, reduceMs: report.reduceMs,
        });
        if (report.skipped) progress.log(`step ${pos.globalStep - 1}: non-finite loss or gradient, step skipped on every replica`);
        if (pos.globalStep % cfg.logEvery === 0 || pos.stepInEpoch === perEpoch || pos.globalStep === total) {
          pending.push({
            kind: 'train', epoch: pos.epoch + 1, step: pos.globalStep, cd_loss: report.metrics.cdLoss,
            mse_bias: report.metrics.mseBias, mse_var: report.metrics.mseVar, skipped: report.skipped ? 1 : 0,
            examples, samples_per_s: samplesPerS, compute_ms: report.computeMs, reduce_ms: report.reduceMs,
            world_size: report.worldSize, wall_s: (performance.now() - started) / 1000,
          });
        }
        if (cfg.checkpointEvery > 0 && pos.globalStep % cfg.checkpointEvery === 0 && pos.stepInEpoch < perEpoch) {
          await checkpoint(stepCheckpointName(pos.globalStep));
        }
        // stop requested mid-epoch: checkpoint here (at an epoch's end, the epoch checkpoint below serves)
        if (opts.stop?.aborted && pos.globalStep < total && pos.stepInEpoch < perEpoch) {
          throw new StoppedError(pos.globalStep, await endInsideEpoch());
        }
      }
      if (pos.stepInEpoch < perEpoch) break; // stopped by --max-steps inside an epoch
      // the epoch is complete: validate, draw, checkpoint
      const epochDone = pos.epoch + 1;
      await validate(epochDone);
      pos.epoch += 1;
      pos.stepInEpoch = 0;
      const file = await drawAndCheckpoint({ epoch: epochDone }, epochCheckpointName(epochDone));
      if (opts.stop?.aborted && pos.globalStep < total) {
        flush();
        throw new StoppedError(pos.globalStep, epochCheckpointName(epochDone));
      }
      if (cfg.evalEvery > 0 && epochDone % cfg.evalEvery === 0) {
        const report = await evaluate({ checkpoint: file, split: 'val', limit: cfg.valExamples > 0 ? cfg.valExamples : undefined });
        pending.push({
          kind: 'eval', epoch: epochDone, step: pos.globalStep, cd_loss: '', mse_bias: report.mse_bias, mse_var: report.mse_var,
          skipped: 0, examples: report.examples, samples_per_s: 0, compute_ms: 0, reduce_ms: 0, world_size: 0,
          wall_s: (performance.now() - started) / 1000, loglik_nats: report.loglik_nats,
        });
        flush();
        writeRunReport(dir);
        progress.log(`epoch ${epochDone}: val log-likelihood ${report.loglik_nats.toFixed(2)} ± ${report.loglik_se.toFixed(2)} nats (${report.method})`);
      }
    }
    if (pos.stepInEpoch > 0) await endInsideEpoch();
    const final = await executor.snapshot(pos);
    return { dir, state: final, lastTrain, lastVal, backend: p.backend, engine: p.engine?.engine.name ?? 'on the workers' };
  } finally {
    flush();
    board.close();
    progress.break();
    await executor.close();
  }
}
