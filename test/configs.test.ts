import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PAPER_DEFAULTS, validateConfig } from '@nbm/train';
import { resolveTrainConfig } from '../apps/cli/src/train-options.ts';

const CONFIGS = join(import.meta.dirname, '..', 'configs');

describe('configs/: the recipes in the repository load with nbm train --config', () => {
  for (const file of readdirSync(CONFIGS).filter((f) => f.endsWith('.json'))) {
    it(`${file}: every key is a setting, and the resolved configuration has its values and validates`, () => {
      const path = join(CONFIGS, file);
      const settings = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      expect(Object.keys(settings).filter((k) => !(k in PAPER_DEFAULTS)), 'unknown keys').to.deep.equal([]);
      const config = resolveTrainConfig({ config: path });
      for (const [k, v] of Object.entries(settings)) expect(config[k as keyof typeof config], k).to.equal(v);
      validateConfig(config);
    });
  }

  it('a key that is no setting is refused by name, not dropped; the record a run adds to config.json is allowed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nbm-config-'));
    const typo = join(dir, 'typo.json');
    writeFileSync(typo, JSON.stringify({ lr: 0.002, decayWeight: 0 }));
    expect(() => resolveTrainConfig({ config: typo })).to.throw(/^--config .*typo\.json: 'decayWeight' is no setting \(the settings: .*decayWeights/);
    const run = join(dir, 'config.json');
    writeFileSync(run, JSON.stringify({ ...PAPER_DEFAULTS, lr: 0.003, out: 'runs/x', runtime: { backend: 'wasm' } }));
    expect(resolveTrainConfig({ config: run }).lr).to.equal(0.003);
  });
});
