import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMetrics } from '@nbm/train';
import { UsageError } from '../errors.ts';
import { parseFlags } from '../options.ts';

export async function statusCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {}, 'status', 1);
  if (values.help) {
    console.log('nbm status runs/NAME: the run\'s progress and, for distributed runs, each worker\'s host, device, backend and last heartbeat');
    return 0;
  }
  const dir = positionals[0];
  if (!dir) throw new UsageError('name the run directory: nbm status runs/NAME');
  if (!existsSync(join(dir, 'config.json'))) throw new UsageError(`${dir} is not a run directory (no config.json)`);
  const rows = readMetrics(dir);
  const last = rows.filter((r) => r.kind === 'train').at(-1);
  const val = rows.filter((r) => r.kind === 'val').at(-1);
  console.log(`run ${dir}`);
  console.log(last ? `  step ${last.step} (epoch ${last.epoch}): CD ${Number(last.cd_loss).toFixed(3)}, MSE_bias ${Number(last.mse_bias).toFixed(4)}, world size ${last.world_size}` : '  no step logged yet');
  if (val) console.log(`  last validation (epoch ${val.epoch}): CD ${Number(val.cd_loss).toFixed(3)}, MSE_bias ${Number(val.mse_bias).toFixed(4)}`);
  const statusFile = join(dir, 'status.json');
  if (existsSync(statusFile)) {
    const s = JSON.parse(readFileSync(statusFile, 'utf8')) as { endpoint: string; updatedAt: string; members: Array<Record<string, string | number>> };
    console.log(`  coordinator ${s.endpoint}, ${s.members.length} worker(s) (as of ${s.updatedAt}):`);
    console.log('  rank  host                  pid      device    backend      last heartbeat');
    for (const m of s.members) {
      console.log(`  ${String(m.rank).padEnd(5)} ${String(m.host).padEnd(21)} ${String(m.pid).padEnd(8)} ${String(m.device).padEnd(9)} ${String(m.backend).padEnd(12)} ${m.lastHeartbeat}`);
    }
  }
  return 0;
}
