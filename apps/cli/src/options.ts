import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Strict flag parsing: an unknown flag, a missing value or a stray argument is a UsageError naming it. */
export function parseFlags(args: string[], options: OptionSpec, command: string, positionals = 0): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: positionals > 0 });
    if (r.positionals.length > positionals) throw new UsageError(`nbm ${command}: unexpected argument '${r.positionals[positionals]}'`);
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`nbm ${command}: ${(e as Error).message.replace(/\. To specify.*$/s, '')}`);
  }
}

export function numberFlag(values: Record<string, unknown>, name: string): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const s = String(v).trim();
  const n = Number(s);
  if (s === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${String(v)}'`);
  return n;
}

export function intFlag(values: Record<string, unknown>, name: string): number | undefined {
  const n = numberFlag(values, name);
  if (n !== undefined && !Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got '${String(values[name])}'`);
  return n;
}
