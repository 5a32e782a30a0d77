import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PAPER_DEFAULTS, validateConfig } from '@nbm/train';
import { resolveTrainConfig } from '../apps/cli/src/train-options.ts';

const CONFIGS = join(import.meta.dirname, '..', 'configs');

describe('configs/: the recipes in the repository load with nbm train --config', () => {
  for (const file of readdirSync(CONFIGS).filter((f) => f.endsWith('.json'))) {
    it(`${file}: every key is a setting, and the resolved configuration has its values and validates`, () => {
      const path = join(CONFIGS, file);
      const settings = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      // a misspelt key would be dropped silently by --config: none may be
      expect(Object.keys(settings).filter((k) => !(k in PAPER_DEFAULTS)), 'unknown keys').to.deep.equal([]);
      const config = resolveTrainConfig({ config: path });
      for (const [k, v] of Object.entries(settings)) expect(config[k as keyof typeof config], k).to.equal(v);
      validateConfig(config);
    });
  }
});
