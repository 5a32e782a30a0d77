/**
 * The progress line of a sampling job: rows written of the total, samples/s and ETA. On a terminal it redraws in
 * place; otherwise (logs, CI) it prints a line at most every `intervalMs`.
 */
import { formatDuration } from '@nbm/report';

export class SampleProgress {
  private readonly tty: boolean;
  private readonly started = performance.now();
  private last = 0;

  /**
   * @param startRows rows already written when this session began (a resume): the rate counts only new rows
   */
  constructor(
    private readonly total: number,
    private readonly startRows: number,
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
    private readonly quiet = false,
    private readonly intervalMs = 10_000,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  /** The line for `rows` written after `seconds`. */
  static line(rows: number, total: number, startRows: number, seconds: number, workers: number): string {
    const rate = (rows - startRows) / Math.max(seconds, 1e-9);
    const eta = rate > 0 ? (total - rows) / rate : Number.POSITIVE_INFINITY;
    const width = 24;
    const bar = '█'.repeat(Math.round((rows / total) * width)).padEnd(width, '·');
    const pct = ((100 * rows) / total).toFixed(1).padStart(5);
    return `sample ${bar} ${pct}% ${rows}/${total} | ${rate.toFixed(1)} samples/s${workers > 1 ? ` on ${workers} workers` : ''} | ETA ${formatDuration(eta)}`;
  }

  update(rows: number, workers: number, force = false): void {
    if (this.quiet) return;
    const now = performance.now();
    if (!force && now - this.last < (this.tty ? 200 : this.intervalMs)) return;
    this.last = now;
    const line = SampleProgress.line(rows, this.total, this.startRows, (now - this.started) / 1000, workers);
    this.stream.write(this.tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }

  /** A log line that does not break the redrawn progress line. */
  log(message: string): void {
    if (this.quiet) return;
    this.stream.write(this.tty ? `\r\x1b[2K${message}\n` : `${message}\n`);
  }

  /** Ends the redrawn line. */
  done(): void {
    if (this.tty && !this.quiet) this.stream.write('\n');
  }
}

