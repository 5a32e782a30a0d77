import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNativeKernel } from '../src/index.ts';

const PKG = fileURLToPath(new URL('..', import.meta.url));

/** A copy of the package's sources (no build/) in a temporary directory. */
function copyPackage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nbm-kernels-install-'));
  for (const part of ['package.json', 'binding.gyp', 'native', 'scripts']) cpSync(join(PKG, part), join(dir, part), { recursive: true });
  return dir;
}

describe('the install script', function () {
  this.timeout(60000);

  it('never fails the install: a broken compiler leaves a reason that loadNativeKernel reports', () => {
    const dir = copyPackage();
    try {
      const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: dir, encoding: 'utf8', env: { ...process.env, CXX: 'false', CC: 'false' } });
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout.trim()).to.match(/^@nbm\/kernels: native kernel not built \(node-gyp failed.*\); nbm will use the tfjs path$/);
      const status = JSON.parse(readFileSync(join(dir, 'build', 'install-status.json'), 'utf8'));
      expect(status.ok).to.equal(false);
      expect(existsSync(join(dir, 'build', 'build.log'))).to.equal(true);
      const s = loadNativeKernel({ path: join(dir, 'build', 'Release', 'nbm_kernels.node') });
      expect(s.ok).to.equal(false);
      if (!s.ok) expect(s.reason).to.match(/^not built: node-gyp failed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--strict (npm run build) fails loudly instead', () => {
    const dir = copyPackage();
    try {
      const r = spawnSync(process.execPath, ['scripts/build.mjs', '--strict'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NBM_NATIVE_SKIP_BUILD: '1' } });
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include('native kernel not built (build skipped: NBM_NATIVE_SKIP_BUILD=1)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
