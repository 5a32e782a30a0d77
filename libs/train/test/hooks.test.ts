import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { writeNpy } from '@nbm/data';
import { fillNormal } from '@nbm/random';
import { epochCheckpointName, readMetrics, runPaths, stepCheckpointName } from '@nbm/run';
import { PAPER_DEFAULTS, train, type TrainConfig, type TrainHooks } from '../src/index.ts';

/** Where the runs' log lines go. */
const silent = () => new Writable({ write: (_chunk, _encoding, done) => done() });

/** The events a hook saw, as short strings, with what was on disk when each arrived. */
function recorder(): { hooks: TrainHooks; events: string[] } {
  const events: string[] = [];
  const rows = (dir: string) => readMetrics(dir).map((r) => `${r.kind}@${r.step}`).join(' ');
  return {
    events,
    hooks: {
      onStart: (_run, e) => void events.push(`start ${e.resumed ? 'resumed' : 'fresh'} @${e.globalStep}`),
      onStep: (_run, e) => void events.push(`step ${e.globalStep}`),
      onValidation: (run, e) => void events.push(`val e${e.epoch}${e.insideEpoch ? ' inside' : ''} @${e.globalStep} [${rows(run.dir)}]`),
      onSave: (run, e) => void events.push(`save ${e.reason} ${e.name} ${existsSync(join(runPaths(run.dir).checkpoints, e.name)) ? 'exists' : 'new'}`),
      onEpochEnd: (_run, e) => void events.push(`epoch ${e.epoch} ${existsSync(e.checkpoint) ? 'checkpointed' : 'missing'}`),
      onRows: (_run, r) => void events.push(`rows ${r.map((x) => `${x.kind}@${x.step}`).join(' ')}`),
      onEnd: () => void events.push('end'),
    },
  };
}

describe('training hooks', function () {
  this.timeout(120_000);
  let scratch: string;
  let config: (name: string, more?: Partial<TrainConfig>) => TrainConfig;

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'nbm-hooks-test-'));
    const rows = 50;
    const x = new Float32Array(rows * 2);
    for (let r = 0; r < rows; r++) x[r * 2 + (r % 2)] = 1;
    const y = new Float32Array(rows * 3);
    fillNormal(y, { seed: 3, stream: 0x4008 }, 0, 0, 0);
    writeNpy(join(scratch, 'x.npy'), x, [rows, 2]);
    writeNpy(join(scratch, 'y.npy'), y, [rows, 3]);
    // 45 training rows (a tenth is validation) in batches of 20: 3 steps per epoch
    config = (name, more = {}) => ({
      ...PAPER_DEFAULTS, dataset: 'npy', x: join(scratch, 'x.npy'), y: join(scratch, 'y.npy'), out: join(scratch, name),
      epochs: 2, batchSize: 20, blockSize: 10, gibbsSteps: 2, hidden: 2, width: 2, logEvery: 2, pictures: false, ...more,
    });
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('a caller\'s hook sees every event in order, after the built-in hooks have done their part', async () => {
    const r = recorder();
    await train({ config: config('order'), quiet: true, stream: silent(), hooks: [r.hooks] });
    expect(r.events).to.deep.equal([
      'start fresh @0',
      // a hook's rows reach every hook before the event that made them has gone down the list
      'step 1', 'rows train@2', 'step 2', 'rows train@3', 'step 3',
      // the val row is in metrics.csv when the validation is reported, with the train rows before it
      'rows val@3', 'val e1 @3 [train@2 train@3 val@3]',
      // the checkpoint is the last thing a kept state gets: a later hook finds it written
      'save epoch epoch-001.safetensors exists', 'epoch 1 checkpointed',
      'rows train@4', 'step 4', 'step 5', 'rows train@6', 'step 6',
      'rows val@6', 'val e2 @6 [train@2 train@3 val@3 train@4 train@6 val@6]',
      'save epoch epoch-002.safetensors exists', 'epoch 2 checkpointed',
      'end',
    ]);
  });

  it('a run cut by --max-steps keeps its last state inside the epoch; a resume starts there', async () => {
    const first = recorder();
    await train({ config: config('cut', { maxSteps: 4 }), quiet: true, stream: silent(), hooks: [first.hooks] });
    expect(first.events.slice(-4)).to.deep.equal(['rows val@4', 'val e2 inside @4 [train@2 train@3 val@3 train@4 val@4]', `save end ${stepCheckpointName(4)} exists`, 'end']);
    const second = recorder();
    await train({ config: config('cut'), resume: true, quiet: true, stream: silent(), hooks: [second.hooks] });
    expect(second.events[0]).to.equal('start resumed @4');
    expect(second.events).to.include(`save epoch ${epochCheckpointName(2)} exists`);
  });

  it('a hook that throws fails the run; every onEnd still runs and metrics.csv keeps the rows logged', async () => {
    const r = recorder();
    const failing: TrainHooks = {
      onStep: (_run, e) => {
        if (e.globalStep === 5) throw new Error('the hook failed');
      },
    };
    const cfg = config('throws');
    await train({ config: cfg, quiet: true, stream: silent(), hooks: [failing, r.hooks] }).then(
      () => expect.fail('the run should fail'),
      (e: Error) => expect(e.message).to.equal('the hook failed'),
    );
    expect(r.events.at(-1)).to.equal('end');
    expect(r.events).to.not.include('step 5');
    expect(readMetrics(cfg.out).map((row) => `${row.kind}@${row.step}`)).to.deep.equal(['train@2', 'train@3', 'val@3', 'train@4']);
  });
});
