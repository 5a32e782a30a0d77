/**
 * The engine registry, in the style of tfjs's kernel registry: each engine (the tfjs engine on any tfjs backend,
 * the native CPU kernel, next the WebGPU engine) registers its name, what it can do and how it is probed, and
 * every command chooses among them by the one rule of {@link resolveEngine} and records the decision it returns.
 * An engine is its own bit-domain (docs/architecture.md, invariant 7: one engine = one bit-domain): the choice decides the bits of a run.
 */

/** What a command asks of an engine. */
export type EngineTask = 'train' | 'sample';

/** The answer of an engine's probe: available (with what it runs on), or not (with why). */
export type EngineProbe =
  | { readonly available: true; readonly detail: string; readonly auto?: boolean; readonly autoRefusal?: string }
  | { readonly available: false; readonly reason: string };

/** One registered engine. */
export interface EngineEntry {
  /** the value a user passes to select it, e.g. `native` */
  readonly name: string;
  /** how messages name it, e.g. `the native CPU kernel` */
  readonly title: string;
  /** what it implements */
  readonly tasks: readonly EngineTask[];
  /** `auto` tries engines in decreasing priority (a hardware GPU engine above the CPU kernel above tfjs) */
  readonly priority: number;
  /**
   * Is it usable here? `auto: false` (with `autoRefusal`) keeps `auto` from taking an available engine that only an
   * explicit request should (a software GPU adapter, say).
   */
  probe(): Promise<EngineProbe>;
}

/** The chosen engine and why, as config.json / sample.json record it. */
export interface EngineDecision {
  readonly name: string;
  readonly reason: string;
  /** engines `auto` passed over, each with why */
  readonly passedOver: ReadonlyArray<{ readonly name: string; readonly reason: string }>;
}

/** No engine can serve the request: names what was requested and why each candidate failed. */
export class EngineUnavailableError extends Error {
  override readonly name = 'EngineUnavailableError';
}

const registry = new Map<string, EngineEntry>();

/** Registers an engine (again under the same name: replaces it, so that a test can stand one in). */
export function registerEngine(entry: EngineEntry): void {
  registry.set(entry.name, entry);
}

/** Removes an engine (tests). */
export function unregisterEngine(name: string): void {
  registry.delete(name);
}

/** The registered engines that can do `task`, in the order `auto` tries them. */
export function enginesFor(task: EngineTask): EngineEntry[] {
  return [...registry.values()].filter((e) => e.tasks.includes(task)).sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
}

/**
 * The one rule for choosing an engine. An explicit name takes that engine or fails saying why (unknown, cannot do
 * the task, unavailable here). `auto` takes the highest-priority engine that can do the task, is available and
 * accepts being taken by `auto`, and names every engine it passed over.
 * @param flag the flag the request came from, for messages (e.g. `--kernel`)
 * @throws EngineUnavailableError
 */
export async function resolveEngine(request: string, task: EngineTask, flag: string): Promise<EngineDecision> {
  const candidates = enginesFor(task);
  if (request !== 'auto') {
    const entry = registry.get(request);
    const known = [...registry.keys()].sort().join(', ');
    if (!entry) throw new EngineUnavailableError(`${flag} ${request}: no such engine (engines: auto, ${known})`);
    if (!entry.tasks.includes(task)) {
      throw new EngineUnavailableError(`${flag} ${request}: ${entry.title} cannot ${task} (engines that can: ${candidates.map((e) => e.name).join(', ')})`);
    }
    const p = await entry.probe();
    if (!p.available) throw new EngineUnavailableError(`${flag} ${request}: ${entry.title} is not available: ${p.reason}`);
    return { name: request, reason: `requested with ${flag} ${request} (${p.detail})`, passedOver: [] };
  }
  const passedOver: Array<{ name: string; reason: string }> = [];
  for (const entry of candidates) {
    const p = await entry.probe();
    if (p.available && p.auto !== false) {
      const skipped = passedOver.length > 0 ? `; passed over ${passedOver.map((s) => `${s.name} (${s.reason})`).join(', ')}` : '';
      return { name: entry.name, reason: `auto: ${p.detail}${skipped}`, passedOver };
    }
    passedOver.push({ name: entry.name, reason: p.available ? (p.autoRefusal ?? 'only on request') : p.reason });
  }
  throw new EngineUnavailableError(`${flag} auto: no engine can ${task} here (${passedOver.map((s) => `${s.name}: ${s.reason}`).join('; ') || 'none registered'})`);
}
