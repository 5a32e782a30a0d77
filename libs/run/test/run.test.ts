import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckpointState } from '@nbm/checkpoint';
import { initParameters, type ModelConfig } from '@nbm/model';
import { RunDirError, appendMetrics, createRunDir, epochCheckpointName, epochValidations, findCheckpoint, latestCheckpoint, loadTrainedModel, parametersHash, readMetrics, readRunConfig, readRunStatus, runPaths, saveRunCheckpoint, stepCheckpointName, truncateMetrics, writePoolStatus, type MetricRow } from '../src/index.ts';
import { METRIC_COLUMNS } from '../src/metrics.ts';

const MODEL: ModelConfig = { nx: 3, ny: 6, nh: 2, width: 4, visible: 'gaussian' };

/** A checkpoint of MODEL at `globalStep` (parameters keyed by the step, so two checkpoints differ). */
function checkpointAt(globalStep: number, model: ModelConfig = MODEL, config: object = { seed: 7, config: { visible: model.visible, dataset: 'mnist', seed: 7 } }): CheckpointState {
  const params = initParameters(model, globalStep);
  const zeros = params.values.map((v) => new Float32Array(v.length));
  return {
    params: params.specs.map((s, i) => ({ name: s.name, shape: [...s.shape], data: params.values[i] })),
    optimizer: { step: globalStep, m: zeros, v: zeros },
    rng: { seed: 7, epoch: 1, stepInEpoch: 0, globalStep },
    config,
  };
}

const row = (kind: MetricRow['kind'], epoch: number, step: number, cd: number): MetricRow => ({
  kind, epoch, step, cd_loss: cd, mse_bias: cd / 10, mse_var: 0.5, skipped: 0, examples: 16,
  samples_per_s: 100, compute_ms: 1, reduce_ms: 0, world_size: 1, wall_s: step / 10,
});

describe('@nbm/run: a run directory', () => {
  let scratch: string;
  let n = 0;
  const fresh = () => join(scratch, `run-${n++}`);
  before(() => (scratch = mkdtempSync(join(tmpdir(), 'nbm-run-test-'))));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  describe('creation and config.json', () => {
    it('creates the layout, with config.json and a metrics.csv header, and refuses to create it twice', () => {
      const dir = fresh();
      createRunDir(dir, { lr: 0.002 });
      expect(readRunConfig(dir)).to.deep.equal({ lr: 0.002 });
      expect(readFileSync(runPaths(dir).metrics, 'utf8')).to.equal(METRIC_COLUMNS.join(',') + '\n');
      expect(() => createRunDir(dir, {})).to.throw(RunDirError, /already holds a run: continue it with --resume/);
    });

    it('refuses a directory that holds something else, and reads no config where there is none', () => {
      const dir = fresh();
      mkdirSync(dir);
      writeFileSync(join(dir, 'notes.txt'), 'mine');
      expect(() => createRunDir(dir, {})).to.throw(RunDirError, /exists and is not empty: choose another --out/);
      expect(() => readRunConfig(dir)).to.throw(RunDirError, /is not a run directory \(no config\.json\)/);
      writeFileSync(join(dir, 'config.json'), '{ not json');
      expect(() => readRunConfig(dir)).to.throw(RunDirError, /config\.json does not parse/);
    });
  });

  describe('metrics.csv', () => {
    it('reads back exactly what was appended', () => {
      const dir = fresh();
      createRunDir(dir, {});
      const values = [Math.PI, 1 / 3, -209.51584192911784, 1e-300, 0.1 + 0.2, NaN, Infinity];
      appendMetrics(dir, values.map((v, i) => row('val', 1, i, v)));
      expect(readMetrics(dir).map((r) => Number(r.cd_loss))).to.deep.equal(values);
    });

    it('a resume inside an epoch drops the val row of the step it restarts from', () => {
      const dir = fresh();
      createRunDir(dir, {});
      appendMetrics(dir, [row('train', 1, 10, 1.5), row('val', 1, 20, 1.25), row('train', 2, 30, 1.125), row('val', 2, 35, 1.0625)]);
      expect(readMetrics(dir).map((r) => [r.kind, r.step, r.cd_loss])).to.deep.equal([['train', '10', '1.5'], ['val', '20', '1.25'], ['train', '30', '1.125'], ['val', '35', '1.0625']]);
      truncateMetrics(dir, 35, true);
      expect(readMetrics(dir).map((r) => `${r.kind}@${r.step}`)).to.deep.equal(['train@10', 'val@20', 'train@30']);
      truncateMetrics(dir, 20, false);
      expect(readMetrics(dir).map((r) => `${r.kind}@${r.step}`)).to.deep.equal(['train@10', 'val@20']);
    });

    it('the last validation of each epoch wins', () => {
      const dir = fresh();
      createRunDir(dir, {});
      appendMetrics(dir, [row('val', 1, 20, 2), row('val', 2, 25, Math.PI), row('val', 2, 40, 1), row('train', 2, 40, 9)]);
      expect(epochValidations(dir)).to.deep.equal([
        { epoch: 1, step: 20, cdLoss: 2, mseBias: 0.2, mseVar: 0.5 },
        { epoch: 2, step: 40, cdLoss: 1, mseBias: 0.1, mseVar: 0.5 },
      ]);
      expect(epochValidations(fresh())).to.deep.equal([]);
    });
  });

  describe('the latest checkpoint (one rule for resume, eval, sample and sweeps)', () => {
    it('is the one latest.json names', async () => {
      const dir = fresh();
      createRunDir(dir, {});
      await saveRunCheckpoint(dir, stepCheckpointName(9), checkpointAt(9));
      await saveRunCheckpoint(dir, epochCheckpointName(1), checkpointAt(4));
      const latest = await latestCheckpoint(dir);
      expect(latest.file).to.equal(join(runPaths(dir).checkpoints, 'epoch-001.safetensors'));
      expect(latest.checkpoint!.rng.globalStep).to.equal(4);
      expect(latest.skipped).to.deep.equal([]);
    });

    it('without a usable latest.json: the readable checkpoint with the highest step, naming each one passed over', async () => {
      const dir = fresh();
      createRunDir(dir, {});
      await saveRunCheckpoint(dir, epochCheckpointName(1), checkpointAt(4));
      await saveRunCheckpoint(dir, stepCheckpointName(6), checkpointAt(6));
      const p = runPaths(dir);
      writeFileSync(join(p.checkpoints, stepCheckpointName(8)), 'torn');
      writeFileSync(p.latest, JSON.stringify({ file: 'step-00000009.safetensors', globalStep: 9 }));
      const latest = await latestCheckpoint(dir);
      expect(latest.file).to.equal(join(p.checkpoints, stepCheckpointName(6)));
      expect(latest.skipped.map((s) => s.file)).to.deep.equal([join(p.checkpoints, stepCheckpointName(9)), join(p.checkpoints, stepCheckpointName(8))]);
      expect(latest.skipped[0].reason).to.equal('named by latest.json but missing');
      writeFileSync(p.latest, '{');
      expect((await latestCheckpoint(dir)).skipped[0]).to.include({ file: p.latest }).and.have.property('reason').that.matches(/^unreadable/);
    });

    it('a run with checkpoints none of which loads is refused; one that wrote none has no latest', async () => {
      const dir = fresh();
      createRunDir(dir, {});
      expect(await latestCheckpoint(dir)).to.deep.equal({ file: null, checkpoint: null, skipped: [] });
      writeFileSync(join(runPaths(dir).checkpoints, epochCheckpointName(1)), 'torn');
      let error: unknown;
      await latestCheckpoint(dir).catch((e) => (error = e));
      expect(error).to.be.instanceOf(RunDirError);
      expect((error as Error).message).to.match(/has checkpoints but none loads \(epoch-001\.safetensors: .*\); train a new run with --out/);
    });

    it('a checkpoint whose tensors do not fit the expected model is passed over', async () => {
      const dir = fresh();
      createRunDir(dir, {});
      await saveRunCheckpoint(dir, epochCheckpointName(1), checkpointAt(4));
      await saveRunCheckpoint(dir, epochCheckpointName(2), checkpointAt(8, { ...MODEL, nh: 3 }));
      const expected = initParameters(MODEL, 0).specs.map((s) => ({ name: s.name, shape: s.shape }));
      const latest = await latestCheckpoint(dir, expected);
      expect(latest.checkpoint!.rng.globalStep).to.equal(4);
      expect(latest.skipped.map((s) => s.file)).to.deep.equal([join(runPaths(dir).checkpoints, epochCheckpointName(2))]);
    });
  });

  describe('the checkpoint a --checkpoint path names', () => {
    it('a file as given; a run directory or its checkpoints/ folder: its latest checkpoint', async () => {
      const dir = fresh();
      createRunDir(dir, {});
      await saveRunCheckpoint(dir, stepCheckpointName(9), checkpointAt(9));
      const file = join(runPaths(dir).checkpoints, stepCheckpointName(9));
      rmSync(runPaths(dir).latest);
      for (const path of [dir, runPaths(dir).checkpoints, file]) {
        const found = await findCheckpoint(path);
        expect([found.file, found.runDir, found.checkpoint.rng.globalStep]).to.deep.equal([file, dir, 9]);
      }
    });

    it('nothing there, or a directory without checkpoints: one line saying what to name', async () => {
      const missing = join(scratch, 'no-such-run');
      await findCheckpoint(missing).then(() => expect.fail('resolved'), (e) => {
        expect(e).to.be.instanceOf(RunDirError);
        expect(e.message).to.equal(`--checkpoint ${missing}: no such file or directory`);
      });
      await findCheckpoint(scratch, '--from').then(() => expect.fail('resolved'), (e) => {
        expect(e.message).to.equal(`--from ${scratch}: no checkpoint there; name a run directory (runs/NAME, which holds checkpoints/*.safetensors) or a checkpoint file`);
      });
    });
  });

  describe('the trained model a checkpoint holds', () => {
    it('reads its sizes from the tensors and its unit type and seed from the recorded settings', async () => {
      const dir = fresh();
      createRunDir(dir, {});
      const model: ModelConfig = { nx: 5, ny: 7, nh: 3, width: 2, visible: 'ising' };
      const c = checkpointAt(12, model);
      await saveRunCheckpoint(dir, epochCheckpointName(2), c);
      const t = await loadTrainedModel(dir);
      expect(t.model).to.deep.equal(model);
      expect([t.seed, t.globalStep, t.epoch, t.trainConfig.dataset]).to.deep.equal([7, 12, 1, 'mnist']);
      expect(t.params.values.map((v) => Array.from(v))).to.deep.equal(c.params.map((p) => Array.from(p.data)));
      expect(t.hash).to.equal(parametersHash(t.params)).and.not.equal(parametersHash(initParameters(model, 13)));
    });

    it('refuses a checkpoint that is not an NBM or does not say its unit type', async () => {
      const dir = fresh();
      createRunDir(dir, {});
      const c = checkpointAt(3);
      const keep = c.params.map((p) => p.name !== 'bias_net.net.2.weight');
      const only = <T,>(xs: T[]) => xs.filter((_, i) => keep[i]);
      await saveRunCheckpoint(dir, epochCheckpointName(1), { ...c, params: only(c.params), optimizer: { step: 3, m: only(c.optimizer.m), v: only(c.optimizer.v) } });
      await loadTrainedModel(dir).then(() => expect.fail('resolved'), (e) => expect(e.message).to.match(/no 2-D tensor bias_net\.net\.2\.weight, so it is not an NBM checkpoint/));
      await saveRunCheckpoint(dir, epochCheckpointName(1), { ...c, config: { seed: 1, config: {} } });
      await loadTrainedModel(dir).then(() => expect.fail('resolved'), (e) => {
        expect(e).to.be.instanceOf(RunDirError);
        expect(e.message).to.match(/do not say whether the visible units are gaussian or ising/);
      });
    });
  });

  describe('where a run stands', () => {
    it('its last step and validation, and its worker pool', () => {
      const dir = fresh();
      createRunDir(dir, {});
      expect(readRunStatus(dir)).to.deep.equal({ lastTrain: undefined, lastVal: undefined });
      appendMetrics(dir, [row('train', 1, 10, 1.5), row('val', 1, 20, 1.25), row('train', 2, 30, 1.125)]);
      writePoolStatus(dir, { endpoint: 'tcp://127.0.0.1:5555', world: 1, members: [{ rank: 0, id: 'w0', host: 'h', pid: 1, device: 'cpu', backend: 'native', lastHeartbeat: 'now' }] });
      const s = readRunStatus(dir);
      expect(s.lastTrain).to.deep.equal({ epoch: 2, step: 30, cdLoss: 1.125, mseBias: 0.1125, worldSize: 1 });
      expect(s.lastVal).to.include({ epoch: 1, step: 20 });
      expect(s.pool!.members.map((m) => m.id)).to.deep.equal(['w0']);
      expect(() => readRunStatus(join(scratch, 'nothing'))).to.throw(RunDirError, /is not a run directory/);
    });
  });
});
