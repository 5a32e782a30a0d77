/**
 * A tiny headless-Chromium driver for tests, over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
 * Chromium reads NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4), so it needs no
 * WebSocket and no dependency. One browser per {@link launchChromium}; {@link Chromium.close} always ends it.
 *
 *   const browser = await launchChromium();
 *   try {
 *     const tab = await browser.newPage();
 *     await tab.navigate('file:///tmp/x.html');
 *     const png = await tab.screenshot();
 *     // tab.errors: console errors, uncaught exceptions, error log entries; tab.requests: every URL requested
 *   } finally {
 *     await browser.close();
 *   }
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** Where Debian installs Chromium; NBM_CHROMIUM overrides it. */
export const CHROMIUM_PATH = process.env.NBM_CHROMIUM ?? '/usr/bin/chromium';

/** The Chromium executable, or undefined when it is not installed. */
export function findChromium(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? CHROMIUM_PATH : undefined;
}

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
  method: string;
}

type Listener = (params: Record<string, unknown>, sessionId?: string) => void;

/** A page (tab) of the browser, attached with its own DevTools session. */
export class ChromiumPage {
  /** Console errors, uncaught exceptions and error log entries, as text, in order. */
  readonly errors: string[] = [];
  /** The URL of every request the page made (Network.requestWillBeSent), in order. */
  readonly requests: string[] = [];

  constructor(
    private readonly browser: Chromium,
    readonly sessionId: string,
  ) {}

  /** Sends a command to this page's session. */
  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.sessionId);
  }

  /** Opens `url` and resolves at its load event. */
  async navigate(url: string, timeoutMs = 15_000): Promise<void> {
    const loaded = this.browser.waitFor('Page.loadEventFired', this.sessionId, timeoutMs);
    const r = await this.send('Page.navigate', { url });
    if (typeof r.errorText === 'string' && r.errorText) throw new Error(`chromium: navigating to ${url} failed: ${r.errorText}`);
    await loaded;
  }

  /** The value of a JavaScript expression evaluated in the page (promises awaited). */
  async evaluate(expression: string): Promise<unknown> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    const ex = r.exceptionDetails as { text?: string; exception?: { description?: string } } | undefined;
    if (ex) throw new Error(`chromium: ${expression} threw: ${ex.exception?.description ?? ex.text}`);
    return (r.result as { value?: unknown } | undefined)?.value;
  }

  /** A PNG of the whole page (up to `maxHeight` CSS pixels tall) at the current viewport width. */
  async screenshot(maxHeight = 8000): Promise<Buffer> {
    const metrics = await this.send('Page.getLayoutMetrics');
    const size = (metrics.cssContentSize ?? metrics.contentSize) as { width: number; height: number };
    const viewport = (metrics.cssLayoutViewport ?? metrics.layoutViewport) as { clientWidth: number };
    const clip = { x: 0, y: 0, width: viewport.clientWidth, height: Math.min(maxHeight, Math.ceil(size.height)), scale: 1 };
    const r = await this.send('Page.captureScreenshot', { format: 'png', clip, captureBeyondViewport: true });
    return Buffer.from(r.data as string, 'base64');
  }
}

/** A headless Chromium process driven over its DevTools pipe. */
export class Chromium {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<{ method: string; fn: Listener }>();
  private buffer = '';
  private exited = false;
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    const out = child.stdio[4] as Readable;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => this.receive(chunk));
    child.stderr!.on('data', (d) => {
      if (this.stderr.length < 20_000) this.stderr += d;
    });
    child.on('exit', () => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`chromium exited while waiting for ${p.method}\n${this.stderr}`));
      this.pending.clear();
    });
  }

  /** Starts headless Chromium with a fresh profile; rejects if it is not installed or does not answer. */
  static async launch(opts: { executable?: string; width?: number; height?: number; timeoutMs?: number } = {}): Promise<Chromium> {
    const executable = opts.executable ?? findChromium();
    if (!executable) throw new Error(`chromium: not installed at ${CHROMIUM_PATH}`);
    const profile = mkdtempSync(join(tmpdir(), 'nbm-chromium-'));
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-extensions',
      '--disable-dev-shm-usage',
      '--hide-scrollbars',
      '--mute-audio',
      `--window-size=${opts.width ?? 1280},${opts.height ?? 900}`,
      `--user-data-dir=${profile}`,
      '--remote-debugging-pipe',
      'about:blank',
    ];
    // its own process group, so that close() can end the renderer and helper processes with it
    const child = spawn(executable, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: true });
    const browser = new Chromium(child, profile);
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      await browser.send('Browser.getVersion', {}, undefined, opts.timeoutMs ?? 15_000);
    } catch (e) {
      await browser.close();
      throw e;
    }
    return browser;
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\0')) >= 0) {
      const text = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 1);
      let msg: { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string }; sessionId?: string };
      try {
        msg = JSON.parse(text);
      } catch {
        continue;
      }
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        if (!p) continue;
        this.pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`chromium: ${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result ?? {});
      } else if (msg.method) {
        for (const l of [...this.listeners]) if (l.method === msg.method) l.fn(msg.params ?? {}, msg.sessionId);
      }
    }
  }

  /** Sends a DevTools command (to a page's session when `sessionId` is given) and resolves with its result. */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`chromium has exited; cannot send ${method}\n${this.stderr}`));
    const id = this.nextId++;
    const message = JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`chromium: no answer to ${method} within ${timeoutMs} ms\n${this.stderr}`));
      }, timeoutMs);
      const done = <T>(f: (v: T) => void) => (v: T) => {
        clearTimeout(timer);
        f(v);
      };
      this.pending.set(id, { resolve: done(resolve), reject: done(reject), method });
      (this.child.stdio[3] as Writable).write(message + '\0');
    });
  }

  /** Calls `fn` on every event `method`; returns a function that stops it. */
  on(method: string, fn: Listener): () => void {
    const l = { method, fn };
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Resolves at the next event `method` of `sessionId`'s session. */
  waitFor(method: string, sessionId: string | undefined, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`chromium: no ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(method, (params, sid) => {
        if (sid !== sessionId) return;
        clearTimeout(timer);
        off();
        resolve(params);
      });
    });
  }

  /** A new tab with Runtime, Log, Network and Page enabled, recording errors and requests. */
  async newPage(): Promise<ChromiumPage> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const tab = new ChromiumPage(this, sessionId);
    const mine = (fn: Listener): Listener => (params, sid) => {
      if (sid === sessionId) fn(params);
    };
    this.on('Runtime.consoleAPICalled', mine((p) => {
      if (p.type === 'error' || p.type === 'assert') {
        const args = (p.args as Array<{ value?: unknown; description?: string }>) ?? [];
        tab.errors.push(`console.${p.type}: ${args.map((a) => a.description ?? String(a.value)).join(' ')}`);
      }
    }));
    this.on('Runtime.exceptionThrown', mine((p) => {
      const d = p.exceptionDetails as { text?: string; exception?: { description?: string } };
      tab.errors.push(`uncaught: ${d.exception?.description ?? d.text}`);
    }));
    this.on('Log.entryAdded', mine((p) => {
      const e = p.entry as { level: string; text: string; url?: string };
      if (e.level === 'error') tab.errors.push(`log: ${e.text}${e.url ? ` (${e.url})` : ''}`);
    }));
    this.on('Network.requestWillBeSent', mine((p) => tab.requests.push((p.request as { url: string }).url)));
    for (const domain of ['Runtime', 'Log', 'Network', 'Page']) await tab.send(`${domain}.enable`);
    return tab;
  }

  /** Ends the browser (Browser.close, then SIGKILL to its process group after 3 s) and removes its profile; safe to call twice. */
  async close(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise<void>((resolve) => {
        this.child.once('exit', () => resolve());
        if (this.exited) resolve();
      });
      this.send('Browser.close', {}, undefined, 2000).catch(() => undefined);
      const timer = setTimeout(() => this.kill(), 3000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(this.profile, { recursive: true, force: true });
  }

  /** SIGKILL to the browser's own process group (it was spawned detached, as its leader). */
  private kill(): void {
    const pid = this.child.pid;
    if (pid === undefined || this.exited) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
  }
}

/** Starts headless Chromium (see {@link Chromium.launch}). */
export function launchChromium(opts?: Parameters<typeof Chromium.launch>[0]): Promise<Chromium> {
  return Chromium.launch(opts);
}
