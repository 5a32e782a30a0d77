import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';

const BENCH_DIR = join(import.meta.dirname, '..', '..', '..', '..', 'bench');

function available(): string[] {
  return existsSync(BENCH_DIR) ? readdirSync(BENCH_DIR).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort() : [];
}

/** `nbm bench NAME [args]`: runs bench/NAME.ts (each benchmark measures ours and its baseline side by side). */
export async function benchCommand(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  const names = available();
  if (!name || name === '--help' || name === '-h') {
    console.log(`nbm bench <${names.join('|')}> [options]: benchmarks, each printing medians and ratios against its baseline`);
    return name ? 0 : 2;
  }
  if (!names.includes(name)) throw new UsageError(`unknown benchmark '${name}' (available: ${names.join(', ')})`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(BENCH_DIR, `${name}.ts`), ...rest], { stdio: 'inherit' });
  return r.status ?? 1;
}
