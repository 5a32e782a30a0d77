/**
 * The training loop. The steps themselves run in a `StepExecutor`: in this process (LocalExecutor: every block,
 * identity reducer) or on a pool of workers (cluster/), with the same loop. What a run leaves on disk is written
 * by hooks (hooks/): the loop steps, validates, and says when a state is kept.
 */
import { join } from 'node:path';
import { selectBackend, type BackendChoice } from '@nbm/backend';
import type { Lock } from '@nbm/checkpoint';
import { batchesPerEpoch, firstRows, loadDataset, type Dataset } from '@nbm/data';
import { parameterCount, type ModelConfig } from '@nbm/model';
import { createRunDir, epochCheckpointName, expectedTensors, latestCheckpoint, lockRunDir, runPaths, stepCheckpointName, truncateMetrics } from '@nbm/run';
import { ConfigError, validateConfig, type TrainConfig } from './config.ts';
import { chooseEngine, type EngineChoice } from './engines.ts';
import { restoreState } from './checkpoints.ts';
import type { Position, StepExecutor, StepOrder } from './executor.ts';
import { builtinHooks, emit, emitEnd, type RunContext, type SaveReason, type TrainHooks } from './hooks/index.ts';
import { LocalExecutor } from './local-executor.ts';
import type { BatchMetrics } from './metrics.ts';
import { ProgressBar, type OutputStream } from './progress.ts';
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
  /** the caller's hooks on the loop (see hooks/hooks.ts), called after the built-in ones */
  readonly hooks?: readonly TrainHooks[];
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
  const bar = new ProgressBar(opts.stream ?? process.stderr, 0, 10_000, opts.quiet);

  let state: TrainState;
  if (opts.resume) {
    const { file, checkpoint, skipped } = await latestCheckpoint(dir, expectedTensors(model));
    for (const s of skipped) bar.log(`resume: skipped ${s.file}: ${s.reason}`);
    state = checkpoint ? restoreState(checkpoint, model) : initialState(cfg, model);
    truncateMetrics(dir, state.globalStep, state.stepInEpoch > 0);
    bar.log(file ? `resuming ${dir} from ${file} (step ${state.globalStep})` : `resuming ${dir}: it wrote no checkpoint before it stopped, so training starts from step 0`);
  } else {
    createRunDir(dir, runRecord(p));
    state = initialState(cfg, model);
  }
  bar.log(`backend: ${p.backend.name} (${p.backend.reason})`);
  bar.log(p.engine ? `kernel: ${p.engine.kind} (${p.engine.reason})` : `kernel: ${p.config.kernel}, ${ON_WORKERS}`);

  const perEpoch = batchesPerEpoch(data.count, cfg.batchSize);
  const total = totalSteps(cfg, perEpoch);
  const pos: Position = { epoch: state.epoch, stepInEpoch: state.stepInEpoch, globalStep: state.globalStep };
  const started = performance.now();
  const hooks = [...builtinHooks(bar), ...(opts.hooks ?? [])];
  const run: RunContext = {
    dir, config: cfg, model, train: data, val: p.val, stepsPerEpoch: perEpoch, totalSteps: total,
    wallSeconds: () => (performance.now() - started) / 1000,
    log: (line) => bar.log(line),
    record: (rows) => emit(hooks, 'onRows', run, rows),
  };
  let lastTrain: BatchMetrics | undefined;
  let lastVal: BatchMetrics | undefined;
  const valExamples = cfg.valExamples > 0 ? Math.min(cfg.valExamples, p.val.count) : p.val.count;
  /** Validates the current parameters; `epoch` is the one that ended, or the one in progress when `insideEpoch`. */
  const validate = async (epoch: number, insideEpoch: boolean) => {
    lastVal = await executor.validate(pos.epoch);
    await emit(hooks, 'onValidation', run, { epoch, globalStep: pos.globalStep, insideEpoch, metrics: lastVal, examples: valExamples });
  };
  /** Keeps the current state: pictures (unless `every`), then checkpoint `name`. */
  const save = async (reason: SaveReason, epoch: number, name: string) => {
    const snap = await executor.snapshot(pos);
    await emit(hooks, 'onSave', run, { reason, epoch, globalStep: pos.globalStep, insideEpoch: reason !== 'epoch', name, state: snap });
    return name;
  };
  /**
   * A run that ends inside an epoch (--max-steps, a stop request) is complete all the same: its final state is
   * validated, drawn and checkpointed at the exact position, so `--resume` continues from there.
   */
  const endInsideEpoch = async (reason: 'end' | 'stop') => {
    await validate(pos.epoch + 1, true);
    return save(reason, pos.epoch + 1, stepCheckpointName(pos.globalStep));
  };
  const executor = await (opts.executor ?? localExecutor)(p, state, (line) => bar.log(line));

  let failed = true;
  try {
    await emit(hooks, 'onStart', run, { resumed: Boolean(opts.resume), globalStep: pos.globalStep });
    /** The step at `at`: its minibatch (the epoch's last may be short) and block count. */
    const orderAt = (at: Position): StepOrder => {
      const examples = Math.min(cfg.batchSize, data.count - at.stepInEpoch * cfg.batchSize);
      return { ...at, examples, totalBlocks: Math.ceil(examples / cfg.blockSize) };
    };
    /** The step after `order` when nothing (an epoch's end, a checkpoint, the last step, a stop) comes between. */
    const nextPlain = (order: StepOrder): StepOrder | undefined => {
      const after = { epoch: order.epoch, stepInEpoch: order.stepInEpoch + 1, globalStep: order.globalStep + 1 };
      const saves = cfg.checkpointEvery > 0 && after.globalStep % cfg.checkpointEvery === 0;
      if (after.stepInEpoch >= perEpoch || after.globalStep >= total || saves || opts.stop?.aborted) return undefined;
      return orderAt(after);
    };
    while (pos.globalStep < total) {
      while (pos.stepInEpoch < perEpoch && pos.globalStep < total) {
        const order = orderAt(pos);
        const { examples } = order;
        const t0 = performance.now();
        const report = await executor.step(order, nextPlain(order));
        const stepMs = performance.now() - t0;
        lock.refresh();
        pos.globalStep += 1;
        pos.stepInEpoch += 1;
        lastTrain = report.metrics;
        await emit(hooks, 'onStep', run, { epoch: pos.epoch, stepInEpoch: pos.stepInEpoch, globalStep: pos.globalStep, examples, report, stepMs });
        if (cfg.checkpointEvery > 0 && pos.globalStep % cfg.checkpointEvery === 0 && pos.stepInEpoch < perEpoch) {
          await save('every', pos.epoch + 1, stepCheckpointName(pos.globalStep));
        }
        // stop requested mid-epoch: keep this state (at an epoch's end, the epoch's checkpoint below serves)
        if (opts.stop?.aborted && pos.globalStep < total && pos.stepInEpoch < perEpoch) {
          throw new StoppedError(pos.globalStep, await endInsideEpoch('stop'));
        }
      }
      if (pos.stepInEpoch < perEpoch) break; // stopped by --max-steps inside an epoch
      // the epoch is complete: validate, draw, checkpoint
      const epochDone = pos.epoch + 1;
      await validate(epochDone, false);
      pos.epoch += 1;
      pos.stepInEpoch = 0;
      const name = await save('epoch', epochDone, epochCheckpointName(epochDone));
      if (opts.stop?.aborted && pos.globalStep < total) throw new StoppedError(pos.globalStep, name);
      await emit(hooks, 'onEpochEnd', run, { epoch: epochDone, globalStep: pos.globalStep, checkpoint: join(runPaths(dir).checkpoints, name) });
    }
    if (pos.stepInEpoch > 0) await endInsideEpoch('end');
    const final = await executor.snapshot(pos);
    failed = false;
    return { dir, state: final, lastTrain, lastVal, backend: p.backend, engine: p.engine?.engine.name ?? 'on the workers' };
  } finally {
    try {
      await emitEnd(hooks, run);
    } catch (e) {
      // the run's own error, if any, is the one to report
      if (!failed) throw e;
    } finally {
      await executor.close();
    }
  }
}
