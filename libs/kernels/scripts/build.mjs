#!/usr/bin/env node
// Builds the native kernels with node-gyp (run by `npm ci`/`npm install` as this package's install script).
//
// The addon is optional: nbm trains on the tfjs path without it. So by default this script never fails the
// install: whatever happens, it exits 0, prints one line, and leaves build/install-status.json saying whether
// the addon was built and, if not, why (loadNativeKernel() reads it to explain the fallback). With --strict
// (`npm run build -w @nbm/kernels`) a failure exits 1 and prints node-gyp's output.
//
// Nothing is downloaded: node-gyp is the one npm ships (npm_config_node_gyp, set for lifecycle scripts), and
// Node's headers come from the installation running this script (<prefix>/include/node) when they are there.
// NBM_NATIVE_SKIP_BUILD=1 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(pkgDir, 'build');
const addonPath = join(buildDir, 'Release', 'nbm_kernels.node');
const strict = process.argv.includes('--strict');

function record(status) {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(join(buildDir, 'install-status.json'), JSON.stringify({ ...status, at: new Date().toISOString() }, null, 2) + '\n');
}

function finish(ok, reason, log) {
  record(ok ? { ok: true } : { ok: false, reason });
  if (log) writeFileSync(join(buildDir, 'build.log'), log);
  if (ok) {
    console.log(`@nbm/kernels: native kernel built (${addonPath})`);
    process.exit(0);
  }
  const line = `@nbm/kernels: native kernel not built (${reason}); nbm will use the tfjs path`;
  if (strict) {
    if (log) process.stderr.write(log);
    console.error(line);
    process.exit(1);
  }
  console.log(line);
  process.exit(0);
}

/** node-gyp's entry script: npm's own (lifecycle env), a local install, or the one beside this Node's npm. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally
  }
  const prefix = resolve(dirname(process.execPath), '..');
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => existsSync(c));
}

/** --nodedir=<prefix> when this Node's headers are installed beside it, so node-gyp downloads nothing. */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'common.gypi')) ? [`--nodedir=${prefix}`] : [];
}

if (process.env.NBM_NATIVE_SKIP_BUILD === '1') finish(false, 'build skipped: NBM_NATIVE_SKIP_BUILD=1');

const gyp = findNodeGyp();
if (!gyp) finish(false, 'node-gyp was not found (it ships with npm)');

const jobs = String(Math.max(1, Math.min(4, availableParallelism())));
const run = spawnSync(process.execPath, [gyp, 'rebuild', '-j', jobs, ...nodedirArgs()], {
  cwd: pkgDir,
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
  env: process.env,
});
const log = `${run.stdout ?? ''}${run.stderr ?? ''}`;
if (run.error) finish(false, `node-gyp could not run: ${run.error.message}`, log);
if (run.status !== 0) {
  const err = log.split('\n').find((l) => /error|not found|ERR!/i.test(l) && !/gyp info/.test(l));
  finish(false, `node-gyp failed${err ? `: ${err.trim().slice(0, 200)}` : ` with exit code ${run.status}`}; see ${join(buildDir, 'build.log')}`, log);
}

// The addon must load in this Node, and report its tiers.
const check = spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(addonPath)}); if (!a.info().tiers.length) process.exit(2);`], {
  encoding: 'utf8',
});
if (check.status !== 0) finish(false, `the built addon does not load: ${(check.stderr || '').split('\n')[0]}`, log);
finish(true, '', log);
