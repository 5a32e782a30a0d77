import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNativeKernel, requireNativeKernel, createNativeEngine } from '../src/index.ts';
import { nativeFallbackMessage } from '../src/load.ts';

const INDEX = fileURLToPath(new URL('../src/index.ts', import.meta.url));

/** loadNativeKernel() in a fresh process with the given environment (the module caches its first load). */
function statusInChild(env: Record<string, string>): { ok: boolean; reason?: string } {
  const script = `import(${JSON.stringify(INDEX)}).then((m) => { const s = m.loadNativeKernel(); console.log(JSON.stringify({ ok: s.ok, reason: s.reason })); });`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('when the native kernel is unavailable', () => {
  it('simulateFailure reports it without throwing, and the fallback message is one line', () => {
    const s = loadNativeKernel({ simulateFailure: true });
    expect(s.ok).to.equal(false);
    if (s.ok) return;
    expect(s.reason).to.equal('simulated failure');
    const msg = nativeFallbackMessage(s.reason);
    expect(msg).to.equal('nbm: native CPU kernel unavailable (simulated failure); training runs on the tfjs path');
    expect(msg).to.not.include('\n');
    expect(() => requireNativeKernel({ simulateFailure: 'no compiler' })).to.throw(Error, 'the native CPU kernel is not available: no compiler');
  });

  it('NBM_NATIVE_DISABLE=1 disables it', function () {
    this.timeout(20000);
    expect(statusInChild({ NBM_NATIVE_DISABLE: '1' })).to.deep.equal({ ok: false, reason: 'disabled by NBM_NATIVE_DISABLE=1' });
  });

  it('a tier this CPU cannot run is refused by name', function () {
    this.timeout(20000);
    const s = statusInChild({ NBM_NATIVE_TIER: 'sse1' });
    if (!s.ok && /not built/.test(s.reason ?? '')) this.skip();
    expect(s.ok).to.equal(false);
    expect(s.reason).to.match(/^NBM_NATIVE_TIER=sse1 is not available on this CPU \(available: .*generic\)$/);
  });

  it('a missing addon says it was not built and how to build it', () => {
    const s = loadNativeKernel({ path: join(tmpdir(), 'no-such-dir', 'nbm_kernels.node') });
    expect(s.ok).to.equal(false);
    if (!s.ok) expect(s.reason).to.match(/^not built \(no .*nbm_kernels\.node; build it with `npm run build -w @nbm\/kernels`\)$/);
  });

  it('a file that is not a loadable addon says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nbm-kernels-'));
    const path = join(dir, 'broken.node');
    writeFileSync(path, 'not an ELF file');
    const s = loadNativeKernel({ path });
    expect(s.ok).to.equal(false);
    if (!s.ok) expect(s.reason).to.match(/^the addon at .*broken\.node does not load: /);
  });

  it('createNativeEngine without a kernel throws the reason', () => {
    const c = { nx: 2, ny: 3, nh: 2, width: 2, visible: 'gaussian' as const };
    const saved = process.env.NBM_NATIVE_DISABLE;
    process.env.NBM_NATIVE_DISABLE = '1';
    try {
      expect(() => createNativeEngine(c)).to.throw(Error, 'the native CPU kernel is not available: disabled by NBM_NATIVE_DISABLE=1');
    } finally {
      if (saved === undefined) delete process.env.NBM_NATIVE_DISABLE;
      else process.env.NBM_NATIVE_DISABLE = saved;
    }
  });
});
