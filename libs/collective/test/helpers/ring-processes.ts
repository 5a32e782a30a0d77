/**
 * Spawns a ring of rank processes (fixtures/ring-rank.ts), each its own OS process on loopback TCP,
 * wires their addresses together, and collects their JSON-line reports. Every wait has a timeout and
 * {@link killAll} ends every child still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RankConfig } from '../fixtures/ring-rank.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/ring-rank.ts', import.meta.url));

/** One JSON line a rank printed. */
export type RankEvent = { event: string; [key: string]: unknown };

/** A running rank process and everything it printed so far. */
export interface RankProcess {
  config: RankConfig;
  child: ChildProcess;
  events: RankEvent[];
  stderr: string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  /** Resolves when the rank reports 'finished' or 'error', or exits. */
  settled: Promise<void>;
}

const live = new Set<ChildProcess>();

/** Starts one rank and waits (at most `timeoutMs`) for it to report its bound address. */
async function startRank(config: RankConfig, timeoutMs: number): Promise<{ proc: RankProcess; address: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  let settle!: () => void;
  const proc: RankProcess = {
    config, child, events: [], stderr: '',
    exited: new Promise((resolve) => child.on('exit', (code, signal) => { live.delete(child); settle(); resolve(code ?? signal ?? 'unknown'); })),
    settled: new Promise<void>((resolve) => { settle = resolve; }),
  };
  child.stderr!.on('data', (d: Buffer) => { proc.stderr += d.toString(); });
  let buffered = '';
  const address = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rank ${config.rank} did not bind within ${timeoutMs} ms; stderr: ${proc.stderr}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const ev = JSON.parse(line) as RankEvent;
        proc.events.push(ev);
        if (ev.event === 'finished' || ev.event === 'error') settle();
        if (ev.event === 'bound') { clearTimeout(timer); resolve(ev.address as string); }
      }
    });
    child.on('exit', () => { clearTimeout(timer); reject(new Error(`rank ${config.rank} exited before binding; stderr: ${proc.stderr}`)); });
  });
  return { proc, address: await address };
}

/** Starts `world` ranks, then tells each the ring's addresses. */
export async function startRing(world: number, configFor: (rank: number) => Omit<RankConfig, 'rank' | 'world'>, timeoutMs = 20_000): Promise<RankProcess[]> {
  const started = await Promise.all(Array.from({ length: world }, (_, rank) => startRank({ ...configFor(rank), rank, world }, timeoutMs)));
  const peers = started.map((s) => s.address);
  for (const { proc } of started) proc.child.stdin!.write(`${JSON.stringify({ peers })}\n`);
  return started.map((s) => s.proc);
}

/** Waits (at most `timeoutMs`) for a rank to exit; rejects with its output if it does not. */
export async function waitExit(proc: RankProcess, timeoutMs: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`rank ${proc.config.rank} still running after ${timeoutMs} ms; events ${JSON.stringify(proc.events)}; stderr: ${proc.stderr}`)), timeoutMs);
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits (at most `timeoutMs`) until every rank has finished, then releases them all (as a
 * coordinator does: no rank closes its ring while a neighbour may still need its last frames),
 * waits for their exits and returns each rank's 'case' reports. Fails loudly, with the rank's
 * output, if one reported an error, exited badly or hung.
 */
export async function finishRing(ranks: RankProcess[], timeoutMs: number): Promise<RankEvent[][]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const stuck = ranks.filter((p) => !p.events.some((e) => e.event === 'finished' || e.event === 'error'));
      reject(new Error(`ranks ${stuck.map((p) => p.config.rank)} did not finish within ${timeoutMs} ms: ${stuck.map((p) => JSON.stringify(p.events) + p.stderr).join('\n')}`));
    }, timeoutMs);
  });
  try {
    // the first rank to fail ends the wait: its neighbours would only time out later
    const firstError = new Promise<void>((resolve) => {
      for (const p of ranks) void p.settled.then(() => { if (p.events.some((e) => e.event === 'error')) resolve(); });
    });
    await Promise.race([Promise.all(ranks.map((p) => p.settled)), firstError, timeout]);
  } finally {
    clearTimeout(timer);
  }
  const failed = ranks.find((p) => p.events.some((e) => e.event === 'error'));
  if (failed) {
    killAll();
    const error = failed.events.find((e) => e.event === 'error');
    throw new Error(`rank ${failed.config.rank} failed: ${JSON.stringify(error)}\nstderr: ${failed.stderr}`);
  }
  for (const p of ranks) p.child.stdin!.end();
  const codes = await Promise.all(ranks.map((p) => waitExit(p, 10_000)));
  for (const [rank, p] of ranks.entries()) {
    const error = p.events.find((e) => e.event === 'error');
    if (codes[rank] !== 0 || error) {
      throw new Error(`rank ${rank} failed (exit ${codes[rank]}): ${JSON.stringify(error)}\nstderr: ${p.stderr}`);
    }
  }
  return ranks.map((p) => p.events.filter((e) => e.event === 'case'));
}

/** Kills every rank process still alive (SIGKILL; for afterEach). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}
