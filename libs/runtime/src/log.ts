/** Log lines of the runtime: one line per event, to a caller's function or to stderr. */

/** Receives one log line (no trailing newline). */
export type Log = (line: string) => void;

/** The default: `[prefix] line` on stderr. */
export function stderrLog(prefix: string): Log {
  return (line) => process.stderr.write(`[${prefix}] ${line}\n`);
}

/**
 * A filter for repeated lines: a line seen again within `windowMs` is suppressed (`undefined`), and
 * the next time it passes it carries a count of what was suppressed. For peers that retry every
 * 100 ms (a refused handshake).
 */
export function repeatFilter(windowMs: number): (line: string) => string | undefined {
  const seen = new Map<string, { at: number; suppressed: number }>();
  return (line) => {
    const now = performance.now();
    const entry = seen.get(line);
    if (entry && now - entry.at < windowMs) {
      entry.suppressed++;
      return undefined;
    }
    const suffix = entry && entry.suppressed > 0 ? ` (repeated ${entry.suppressed} more times)` : '';
    if (seen.size >= 1000) seen.clear();
    seen.set(line, { at: now, suppressed: 0 });
    return line + suffix;
  };
}

/** Text of an error-like value for a log line. */
export function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
