/**
 * Writes the run's metric rows to metrics.csv and, as scalars, to TensorBoard. `train` rows are held and
 * appended in batches (each append is fsynced); any other row, a save and the run's end append what is held,
 * so metrics.csv is complete up to every checkpoint.
 */
import { appendMetrics, MetricsBoard, type MetricRow } from '@nbm/run';
import type { RunContext, TrainHooks } from './hooks.ts';

export function metricsFileHook(): TrainHooks {
  let pending: MetricRow[] = [];
  let board: MetricsBoard | undefined;
  const flush = (run: RunContext) => {
    board ??= new MetricsBoard(run.dir, (line) => run.log(line));
    appendMetrics(run.dir, pending);
    board.append(pending);
    pending = [];
  };
  return {
    onRows(run, rows) {
      pending.push(...rows);
      if (rows.some((r) => r.kind !== 'train')) flush(run);
    },
    onSave: (run) => flush(run),
    onEnd(run) {
      try {
        flush(run);
      } finally {
        board?.close();
      }
    },
  };
}
