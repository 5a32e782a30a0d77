/**
 * A finished sweep's outputs, all derived from sweep.json (so writing them again changes nothing):
 * - `sweep.csv`: one row per trial, best first;
 * - `best.json`: the winner's settings and run directory, its full training configuration under `config`
 *   (what `nbm train --config best.json` reads);
 * - `sweep.png`: the metric at each trial's last epoch against the swept value (the learning rate when it is
 *   swept; log scale for log ranges), and below it the metric over epochs, one line per trial.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFileSync } from '@nbm/checkpoint';
import { stackedPlots, type Series } from '@nbm/report';
import { formatMetric, metricOf, type EpochMetrics, type MetricName } from './metric.ts';
import { bestTrial, lastEpoch, rankTrials, score } from './rank.ts';
import { describeSettings, formatSetting, type Dimension } from './space.ts';
import { sweepPaths, type SweepFile, type TrialRecord } from './state.ts';

function csvCell(v: string | number | undefined): string {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** sweep.csv's text: rank, trial, state, the swept settings, epochs, the sweep's metric, then the other numbers. */
export function sweepCsv(sweep: SweepFile, dir: string): string {
  const flags = sweep.space.dimensions.map((d) => d.flag);
  const numbers: Array<keyof EpochMetrics> = ['val_cd', 'val_mse_bias', 'val_mse_var', ...(sweep.metric === 'val_nll' ? ['val_nll' as const] : [])];
  const columns = [sweep.metric, ...numbers.filter((n) => n !== sweep.metric)];
  const header = ['rank', 'trial', 'state', ...flags, 'epochs', ...columns, 'attempts', 'run_dir', 'error'];
  const rows = rankTrials(sweep.trials, sweep.metric).map((t, i) => {
    const last = lastEpoch(t);
    return [i + 1, t.id, t.state, ...flags.map((f) => t.settings[f]), t.metrics.length, ...columns.map((c) => last?.[c]), t.attempts, join(dir, t.dir), t.error];
  });
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

/** best.json's content, or undefined when no trial has a finite metric. */
export function bestJson(sweep: SweepFile, dir: string): object | undefined {
  const best = bestTrial(sweep.trials, sweep.metric);
  if (!best) return undefined;
  const last = lastEpoch(best)!;
  const { out: _out, ...config } = best.config;
  return {
    sweep: sweep.name,
    trial: best.id,
    metric: sweep.metric,
    value: metricOf(last, sweep.metric),
    epoch: last.epoch,
    settings: best.settings,
    run_dir: join(dir, best.dir),
    how: `nbm train --config ${join(dir, 'best.json')} trains these settings afresh; nbm train --resume ${join(dir, best.dir)} --epochs N continues the trial`,
    config,
  };
}

/** The dimension the first panel puts on its x axis: lr when it is swept, else the first numeric one. */
function xDimension(sweep: SweepFile): Dimension | undefined {
  const numeric = sweep.space.dimensions.filter((d) => d.kind !== 'string');
  return numeric.find((d) => d.flag === 'lr') ?? numeric[0];
}

function wantsLog(d: Dimension, values: number[]): boolean {
  if (values.some((v) => !(v > 0))) return false;
  if (d.spec.type === 'log' || d.spec.type === 'logrand') return true;
  return Math.max(...values) / Math.min(...values) >= 20;
}

/** sweep.png's picture. */
export function sweepPlot(sweep: SweepFile): Buffer {
  const metric: MetricName = sweep.metric;
  const x = xDimension(sweep);
  const panels = [];
  if (x) {
    // one line per combination of the other swept settings
    const others = sweep.space.dimensions.filter((d) => d !== x);
    const groups = new Map<string, TrialRecord[]>();
    for (const t of sweep.trials) {
      const key = describeSettings(Object.fromEntries(others.map((d) => [d.flag, t.settings[d.flag]])));
      groups.set(key, [...(groups.get(key) ?? []), t]);
    }
    const series: Series[] = [...groups].map(([name, ts]) => {
      const sorted = [...ts].sort((a, b) => (a.settings[x.flag] as number) - (b.settings[x.flag] as number));
      return { name: others.length ? name : `${metric} at each trial's last epoch`, x: sorted.map((t) => t.settings[x.flag] as number), y: sorted.map((t) => score(t, metric)) };
    });
    const values = sweep.trials.map((t) => t.settings[x.flag] as number);
    panels.push({ title: `${sweep.name}: ${metric} against --${x.flag}`, xLabel: x.flag, yLabel: metric, series, logX: wantsLog(x, values) });
  }
  // diverged trials' numbers would swamp the others' scale: they are left out
  const perTrial: Series[] = sweep.trials.filter((t) => t.state !== 'diverged').map((t) => ({
    name: `${t.id} ${describeSettings(t.settings)}`,
    x: t.metrics.map((m) => m.epoch),
    y: t.metrics.map((m) => metricOf(m, metric)),
  }));
  panels.push({ title: `${metric} over epochs, one line per trial`, xLabel: 'epoch', yLabel: metric, series: perTrial, height: Math.max(360, 240 + 14 * Math.ceil(perTrial.length / 3)) });
  return stackedPlots(panels, { width: 800 });
}

/** Writes sweep.csv, best.json (removing a stale one when no trial has a metric) and sweep.png. */
export function writeOutputs(sweep: SweepFile, dir: string): { best?: object } {
  const p = sweepPaths(dir);
  atomicWriteFileSync(p.csv, sweepCsv(sweep, dir));
  const best = bestJson(sweep, dir);
  if (best) atomicWriteFileSync(p.best, JSON.stringify(best, null, 2) + '\n');
  else if (existsSync(p.best)) rmSync(p.best);
  atomicWriteFileSync(p.png, sweepPlot(sweep));
  return { best };
}

/** One line about the winner, for the terminal. */
export function bestLine(sweep: SweepFile, dir: string): string {
  const best = bestTrial(sweep.trials, sweep.metric);
  if (!best) return `no trial has a finite ${sweep.metric}: every one diverged or failed`;
  const last = lastEpoch(best)!;
  const settings = Object.entries(best.settings).map(([k, v]) => `--${k} ${formatSetting(v)}`).join(' ');
  return `best: ${best.id} ${settings} ${sweep.metric} ${formatMetric(metricOf(last, sweep.metric))} at epoch ${last.epoch} (${join(dir, best.dir)}); settings in ${join(dir, 'best.json')}`;
}
