import { atomicWriteFileSync } from '@nbm/checkpoint';
import { paths } from '../run-dir.ts';

export interface MemberStatus {
  rank: number;
  id: string;
  host: string;
  pid: number;
  device: string;
  backend: string;
  lastHeartbeat: string;
}

/** runs/NAME/status.json: who is in the pool, for `nbm status`. Rewritten atomically on every change. */
export function writeClusterStatus(dir: string, s: { endpoint: string; world: number; members: MemberStatus[] }): void {
  atomicWriteFileSync(paths(dir).status, JSON.stringify({ ...s, updatedAt: new Date().toISOString() }, null, 2) + '\n');
}
