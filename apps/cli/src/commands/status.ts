import { readRunStatus } from '@nbm/run';
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
  const { lastTrain: last, lastVal: val, pool } = readRunStatus(dir);
  console.log(`run ${dir}`);
  console.log(last ? `  step ${last.step} (epoch ${last.epoch}): CD ${last.cdLoss.toFixed(3)}, MSE_bias ${last.mseBias.toFixed(4)}, world size ${last.worldSize}` : '  no step logged yet');
  if (val) console.log(`  last validation (epoch ${val.epoch}): CD ${val.cdLoss.toFixed(3)}, MSE_bias ${val.mseBias.toFixed(4)}`);
  if (pool) {
    console.log(`  coordinator ${pool.endpoint}, ${pool.members.length} worker(s) (as of ${pool.updatedAt}):`);
    console.log('  rank  host                  pid      device    backend      last heartbeat');
    for (const m of pool.members) {
      console.log(`  ${String(m.rank).padEnd(5)} ${String(m.host).padEnd(21)} ${String(m.pid).padEnd(8)} ${String(m.device).padEnd(9)} ${String(m.backend).padEnd(12)} ${m.lastHeartbeat}`);
    }
  }
  return 0;
}
