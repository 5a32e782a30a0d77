/**
 * A one-line progress display: epoch, step, CD loss, MSE_bias, samples/s, ETA. On a terminal it redraws in
 * place; otherwise (logs, CI) it prints a line at most every `intervalMs`. `quiet` hides the progress line,
 * not the events.
 */
import { formatDuration } from '@nbm/report';

export interface ProgressInfo {
  epoch: number;
  epochs: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  globalStep: number;
  totalSteps: number;
  cdLoss: number;
  mseBias: number;
  samplesPerS: number;
  worldSize: number;
  /** slowest replica's compute and all-reduce time of the step (shown for distributed runs) */
  computeMs?: number;
  reduceMs?: number;
}

/** Where progress and log lines go: a terminal (rewritten in place) or any writable (a line at a time). */
export type OutputStream = NodeJS.WritableStream & { readonly isTTY?: boolean };

export class ProgressBar {
  private last = 0;
  private readonly tty: boolean;
  private startedAt = performance.now();
  private startStep: number;

  constructor(
    private readonly stream: OutputStream = process.stderr,
    startStep = 0,
    private readonly intervalMs = 10_000,
    private readonly quiet = false,
  ) {
    this.tty = Boolean(stream.isTTY);
    this.startStep = startStep;
  }

  /** Restarts the rate and ETA clock at `step` (after a resume or a slow start-up). */
  start(step: number): void {
    this.startStep = step;
    this.startedAt = performance.now();
  }

  update(p: ProgressInfo, force = false): void {
    if (this.quiet) return;
    const now = performance.now();
    if (!force && now - this.last < (this.tty ? 100 : this.intervalMs)) return;
    this.last = now;
    const done = p.globalStep - this.startStep;
    const rate = done / ((now - this.startedAt) / 1000);
    const eta = (p.totalSteps - p.globalStep) / rate;
    const width = 24;
    const frac = p.stepsPerEpoch > 0 ? p.stepInEpoch / p.stepsPerEpoch : 0;
    const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '·');
    const line =
      `epoch ${p.epoch + 1}/${p.epochs} ${bar} step ${p.stepInEpoch}/${p.stepsPerEpoch} ` +
      `| CD ${p.cdLoss.toFixed(2)} MSE_bias ${p.mseBias.toFixed(4)} | ${p.samplesPerS.toFixed(0)} samples/s` +
      `${p.worldSize > 1 ? ` on ${p.worldSize} workers (compute ${(p.computeMs ?? 0).toFixed(0)} ms, all-reduce ${(p.reduceMs ?? 0).toFixed(0)} ms)` : ''}` +
      ` | ETA ${formatDuration(eta)}`;
    if (this.tty) this.stream.write(`\r\x1b[2K${line}`);
    else this.stream.write(line + '\n');
  }

  /** Ends the redrawn line before other output. */
  break(): void {
    if (this.tty && !this.quiet) this.stream.write('\n');
  }

  /** An event line (backend choice, a worker lost, an epoch's validation): printed even when quiet. */
  log(message: string): void {
    if (this.tty && !this.quiet) this.stream.write(`\r\x1b[2K${message}\n`);
    else this.stream.write(message + '\n');
  }
}
