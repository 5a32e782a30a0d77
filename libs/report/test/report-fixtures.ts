/**
 * Small run and sweep directories written directly (no training), in the layouts of @nbm/train's run-dir.ts and
 * @nbm/sweep's state.ts, for the report-page tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';

export const METRICS_HEADER = 'kind,epoch,step,cd_loss,mse_bias,mse_var,skipped,examples,samples_per_s,compute_ms,reduce_ms,world_size,wall_s,loglik_nats';

/** A small grey-ramp PNG of `width` × `height` (distinct per `seed`). */
export function tinyPng(width = 12, height = 8, seed = 0): Buffer {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    const v = (i * 7 + seed * 31) % 256;
    png.data.set([v, v, v, 255], i * 4);
  }
  return PNG.sync.write(png);
}

export const HOSTILE = '<script>alert("x&y")</script>';

export function runConfig(out: string): Record<string, unknown> {
  return {
    dataset: 'mnist',
    visible: 'gaussian',
    epochs: 2,
    maxSteps: 0,
    batchSize: 32,
    gibbsSteps: 4,
    hidden: 8,
    width: 32,
    lr: 0.0005,
    decayBias: 0.5,
    seed: 7,
    reduce: 'exact',
    pictures: true,
    evalEvery: 1,
    valExamples: 128,
    trainExamples: 256,
    note: HOSTILE,
    out,
    runtime: {
      model: { nx: 10, ny: 784, nh: 8, width: 32, visible: 'gaussian', parameters: 121440 },
      data: { train: 256, val: 5000, description: 'MNIST train: the first 256 rows' },
      backend: { name: 'wasm', reason: 'auto: wasm was faster (probe 10.9 ms wasm vs 13.9 ms cpu)' },
      kernel: { name: 'native', engine: 'native-avx512', reason: 'auto: native CPU kernel, avx512, 2 threads' },
      createdAt: '2026-01-02T03:04:05.000Z',
    },
  };
}

/** metrics.csv lines: `steps` train rows, a val row at each epoch end (steps/epochs apart), an eval row after each when `evalRows`. */
export function metricsLines(steps: number, epochs: number, evalRows: boolean): string[] {
  const per = steps / epochs;
  const lines: string[] = [];
  for (let s = 1; s <= steps; s++) {
    const e = Math.ceil(s / per);
    lines.push(`train,${e},${s},${-10 - s},${1 - s / 100},${1.1 + (s % 3) / 100},0,32,${5000 + s},3.1,1.2,1,${s / 10},`);
    if (s % per === 0) {
      lines.push(`val,${e},${s},${-12 - s},${0.95 - s / 100},1.11,0,128,0,0,0,0,${s / 10 + 0.05},`);
      if (evalRows) lines.push(`eval,${e},${s},,${0.95 - s / 100},1.11,0,128,0,0,0,0,${s / 10 + 0.2},${-1090 + e * 5}`);
    }
  }
  return lines;
}

export interface RunFixture {
  steps?: number;
  epochs?: number;
  evalRows?: boolean;
  /** epoch pictures per folder (epoch-001.png …) */
  pictures?: number;
  config?: Record<string, unknown> | null;
  /** metrics.csv: header only when steps is 0; absent when false */
  metrics?: boolean;
}

/** Writes a run directory at `dir`. */
export function writeRun(dir: string, f: RunFixture = {}): void {
  const steps = f.steps ?? 8;
  const epochs = f.epochs ?? 2;
  mkdirSync(join(dir, 'samples'), { recursive: true });
  mkdirSync(join(dir, 'components'), { recursive: true });
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  if (f.config !== null) writeFileSync(join(dir, 'config.json'), JSON.stringify(f.config ?? runConfig(dir), null, 2) + '\n');
  if (f.metrics !== false) writeFileSync(join(dir, 'metrics.csv'), [METRICS_HEADER, ...metricsLines(steps, epochs, f.evalRows ?? false)].join('\n') + '\n');
  for (let e = 1; e <= (f.pictures ?? 0); e++) {
    const name = `epoch-${String(e).padStart(3, '0')}.png`;
    writeFileSync(join(dir, 'samples', name), tinyPng(12, 8, e));
    writeFileSync(join(dir, 'components', name), tinyPng(16, 8, e + 100));
  }
}

const trialConfig = (dir: string, lr: number, hidden: number) => ({ ...runConfig(dir), lr, hidden, runtime: undefined });

/** Writes a sweep directory at `dir` (sweep.json, and best.json unless `best` is false), trials lr × hidden. */
export function writeSweep(dir: string, opts: { best?: boolean; finished?: boolean } = {}): Record<string, unknown> {
  mkdirSync(join(dir, 'trials'), { recursive: true });
  const trial = (id: string, lr: number, hidden: number, state: string, metrics: number[], extra: Record<string, unknown> = {}) => ({
    id,
    dir: `trials/${id}`,
    settings: { lr, hidden },
    config: trialConfig(`/elsewhere/${id}`, lr, hidden),
    state,
    metrics: metrics.map((m, i) => ({ epoch: i + 1, val_cd: -20 - i, val_mse_bias: m, val_mse_var: 1.1 })),
    attempts: 1,
    ...extra,
  });
  const sweep = {
    format: 'nbm-sweep/1',
    name: 'lr-<hidden>',
    createdAt: '2026-01-02T03:04:05.000Z',
    updatedAt: '2026-01-02T03:09:05.000Z',
    argv: ['--lr', '1e-4,1e-2', '--hidden', '8,16', '--epochs', '3'],
    metric: 'val_mse_bias',
    divergeAbove: 1e10,
    scheduler: { kind: 'asha', reductionFactor: 3, gracePeriod: 1, maxEpochs: 3 },
    space: {
      seed: 0,
      dimensions: [
        { flag: 'lr', kind: 'number', text: '1e-4,1e-2', spec: { type: 'list', values: [1e-4, 1e-2] } },
        { flag: 'hidden', kind: 'int', text: '8,16', spec: { type: 'list', values: [8, 16] } },
      ],
    },
    trials: [
      trial('t000', 1e-4, 8, 'stopped', [0.95]),
      trial('t001', 1e-4, 16, 'completed', [0.9, 0.7, 0.5]),
      trial('t002', 1e-2, 8, 'diverged', [0.8, 1e12], { error: 'val_mse_bias 1e12 is above <b>1e10</b>' }),
      trial('t003', 1e-2, 16, 'completed', [0.85, 0.6, 0.42]),
    ],
    finished: opts.finished ?? true,
  };
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify(sweep, null, 2) + '\n');
  if (opts.best ?? true) {
    writeFileSync(
      join(dir, 'best.json'),
      JSON.stringify({ sweep: sweep.name, trial: 't003', metric: 'val_mse_bias', value: 0.42, epoch: 3, settings: { lr: 1e-2, hidden: 16 }, how: 'nbm train --config best.json', config: trialConfig('x', 1e-2, 16) }, null, 2),
    );
  }
  return sweep;
}
