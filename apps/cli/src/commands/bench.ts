import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLUSTER_FLAGS } from '../cluster-options.ts';
import { UsageError } from '../errors.ts';
import { TRAIN_FLAGS } from '../train-options.ts';

const BENCH_DIR = join(import.meta.dirname, '..', '..', '..', '..', 'bench');

function available(): string[] {
  return existsSync(BENCH_DIR) ? readdirSync(BENCH_DIR).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort() : [];
}

/** The doc comment a benchmark's file opens with: the one source for what it measures and which flags it takes. */
function benchDoc(name: string): string {
  const doc = /^\/\*\*([\s\S]*?)\*\//.exec(readFileSync(join(BENCH_DIR, `${name}.ts`), 'utf8'));
  return doc ? doc[1].split('\n').map((l) => l.replace(/^\s*\* ?/, '')).join('\n').trim() : '';
}

/** Refuses a flag the benchmark's doc comment does not name (a benchmark that passes flags on to `nbm train` takes those too). */
function checkFlags(name: string, doc: string, args: string[]): void {
  const known = new Set(doc.match(/--[a-z][a-z0-9-]*/g) ?? []);
  if (/nbm train flags/.test(doc)) for (const f of [...TRAIN_FLAGS, ...CLUSTER_FLAGS]) known.add(`--${f.flag}`);
  const unknown = args.find((a) => a.startsWith('--') && !known.has(a.split('=')[0]));
  if (unknown) throw new UsageError(`unknown option '${unknown}' for bench ${name} (nbm bench ${name} --help lists its options)`);
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
  const doc = benchDoc(name);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`nbm bench ${name} [options]\n\n${doc}`);
    return 0;
  }
  checkFlags(name, doc, rest);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(BENCH_DIR, `${name}.ts`), ...rest], { stdio: 'inherit' });
  return r.status ?? 1;
}
