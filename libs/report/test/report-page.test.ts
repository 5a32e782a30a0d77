import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAtomicTempName } from '@nbm/checkpoint';
import { writeRunReport, writeSweepReport } from '@nbm/report';
import { esc, flatten, formatValue } from '../src/html.ts';
import { PAGE_CSP } from '../src/page.ts';
import { EMBED_ALL_BYTES, EMBED_LATEST, runReportHtml } from '../src/run-report.ts';
import { sweepReportHtml } from '../src/sweep-report.ts';
import { HOSTILE, runConfig, writeRun, writeSweep } from './report-fixtures.ts';

/** The `data-points` of the plot with id `id`: its series' names and points. */
function plotPoints(html: string, id: string): Array<{ n: string; p: number[][] }> {
  const m = new RegExp(`<svg class="plot" id="${id}"[^>]*data-points="([^"]*)"`).exec(html);
  if (!m) throw new Error(`no plot ${id} with points`);
  const json = m[1].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return JSON.parse(json);
}

/** Every src/href value of the page. */
function urls(html: string): string[] {
  return [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
}

function expectSelfContained(html: string): void {
  expect(html).to.include(`<meta http-equiv="Content-Security-Policy" content="${esc(PAGE_CSP)}">`);
  for (const u of urls(html)) expect(u, u.slice(0, 40)).to.match(/^(data:|#|[\w.-]+(\/[\w.-]+)*$)/);
  // the script names the SVG namespace, which is not a request
  expect(html.replaceAll("'http://www.w3.org/2000/svg'", '')).not.to.match(/https?:\/\//);
  expect(html).not.to.match(/@import|url\((?!#)/);
}

describe('run report page', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'nbm-report-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('shows every setting of config.json, escaped', () => {
    const dir = join(root, 'run-a');
    writeRun(dir, { pictures: 2 });
    const html = runReportHtml(dir);
    const { runtime: _runtime, ...config } = runConfig(dir);
    for (const [k, v] of flatten(config)) expect(html).to.include(`<dt>${esc(k)}</dt><dd>${esc(formatValue(v))}</dd>`);
    expect(html).to.include('<h1>Run run-a</h1>');
    expect(html).to.include(esc(HOSTILE));
    expect(html).not.to.include(HOSTILE);
    expect(html.match(/<script/g)).to.have.length(1);
  });

  it('shows the engine: backend, kernel and their reasons, the model and the data counts', () => {
    const dir = join(root, 'run');
    writeRun(dir);
    const html = runReportHtml(dir);
    for (const text of ['wasm', 'auto: wasm was faster (probe 10.9 ms wasm vs 13.9 ms cpu)', 'native (engine native-avx512)', 'auto: native CPU kernel, avx512, 2 threads', '121440', 'MNIST train: the first 256 rows']) {
      expect(html).to.include(esc(text));
    }
    expect(html).to.match(/training examples<\/th><td>256</);
    expect(html).to.match(/validation split<\/th><td>5000</);
    expect(html).to.match(/validated at each epoch end<\/th><td>128</);
  });

  it('plots cd_loss, mse_bias and mse_var of the train and val rows against step', () => {
    const dir = join(root, 'run');
    writeRun(dir, { steps: 12, epochs: 3 });
    const html = runReportHtml(dir);
    for (const [id, col] of [['plot-cd_loss', 3], ['plot-mse_bias', 4], ['plot-mse_var', 5]] as const) {
      const [train, val] = plotPoints(html, id);
      expect(train.n).to.equal('train');
      expect(train.p.map((q) => q[2])).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(val.n).to.equal('val');
      expect(val.p.map((q) => q[2])).to.deep.equal([4, 8, 12]);
      const csv = readFileSync(join(dir, 'metrics.csv'), 'utf8').split('\n').filter((l) => l.startsWith('val,'));
      expect(val.p.map((q) => q[3])).to.deep.equal(csv.map((l) => Number(l.split(',')[col])));
    }
    expect(html).to.match(/<b>last step<\/b> 12, epoch 3 of 2/);
    expect(html).to.include('<b>last validation</b> epoch 3, step 12');
    expect(html).to.include('<b>wall time</b> 1.25 s');
  });

  it('the eval rows get a table and a plot; a run without them gets neither', () => {
    const dir = join(root, 'run');
    writeRun(dir, { evalRows: true });
    const html = runReportHtml(dir);
    expect(html).to.include('<section id="eval">');
    const [ll] = plotPoints(html, 'plot-loglik');
    expect(ll.p.map((q) => [q[2], q[3]])).to.deep.equal([[1, -1085], [2, -1080]]);
    expect(html).to.match(/<td data-v="-1085">-1085<\/td>/);
    const plain = join(root, 'plain');
    writeRun(plain);
    expect(runReportHtml(plain)).not.to.include('<section id="eval">');
  });

  it('embeds every picture when they are small, newest first, as data: URIs', () => {
    const dir = join(root, 'run');
    writeRun(dir, { pictures: 3 });
    const html = runReportHtml(dir);
    const srcs = [...html.matchAll(/<img src="data:image\/png;base64,([^"]+)" alt="([^"]+)"/g)];
    expect(srcs.map((m) => m[2])).to.deep.equal([
      'samples/epoch-003.png', 'samples/epoch-002.png', 'samples/epoch-001.png',
      'components/epoch-003.png', 'components/epoch-002.png', 'components/epoch-001.png',
    ]);
    for (const m of srcs) expect(Buffer.from(m[1], 'base64').equals(readFileSync(join(dir, m[2])))).to.equal(true);
    expect(html).to.include('epoch 2 (step 8)');
    expectSelfContained(html);
  });

  it('orders a picture drawn inside an epoch by its step, and embeds only the latest few of large ones', () => {
    const dir = join(root, 'run');
    writeRun(dir, { steps: 6, epochs: 2 });
    const big = Math.ceil(EMBED_ALL_BYTES / 3);
    for (const name of ['epoch-001.png', 'epoch-002.png', 'step-00000007.png', 'epoch-003.png']) {
      writeFileSync(join(dir, 'samples', name), randomBytes(big));
    }
    // epoch 3's val row is at step 9, after the picture of step 7
    writeFileSync(join(dir, 'metrics.csv'), readFileSync(join(dir, 'metrics.csv'), 'utf8') + 'val,3,9,-1,0.5,1.1,0,128,0,0,0,0,2,\n');
    const html = runReportHtml(dir);
    const alts = [...html.matchAll(/<img src="data:[^"]+" alt="([^"]+)"/g)].map((m) => m[1]);
    expect(alts).to.deep.equal(['samples/epoch-003.png', 'samples/step-00000007.png', 'samples/epoch-002.png'].slice(0, EMBED_LATEST));
    expect(html).to.include('Older, not embedded: <a href="samples/epoch-001.png">epoch 1 (step 3)</a>');
  });

  it('renders a run that has just started: no metrics rows, no pictures', () => {
    const dir = join(root, 'fresh');
    writeRun(dir, { steps: 0 });
    const html = runReportHtml(dir);
    expect(html).to.include('no step logged yet');
    expect(html).to.include('no pictures yet');
    expect(html.match(/no data yet/g)).to.have.length(3);
    expect(html).not.to.include('data-points=');
    expectSelfContained(html);
  });

  it('renders a directory with nothing in it yet, saying what is missing', () => {
    const dir = join(root, 'bare');
    mkdirSync(dir);
    const html = runReportHtml(dir);
    expect(html).to.include('no config.json yet');
    expect(html).to.include('no metrics.csv yet');
    writeFileSync(join(dir, 'config.json'), '{"half": ');
    expect(runReportHtml(dir)).to.include('config.json does not parse');
  });

  it('skips a half-written last line of metrics.csv', () => {
    const dir = join(root, 'run');
    writeRun(dir, { steps: 4, epochs: 1 });
    writeFileSync(join(dir, 'metrics.csv'), readFileSync(join(dir, 'metrics.csv'), 'utf8') + 'train,2,5,-3');
    const [train] = plotPoints(runReportHtml(dir), 'plot-cd_loss');
    expect(train.p).to.have.length(4);
  });

  it('writeRunReport replaces report.html atomically and leaves no temporary file', () => {
    const dir = join(root, 'run');
    writeRun(dir, { pictures: 1 });
    writeFileSync(join(dir, 'report.html'), 'old');
    const before = statSync(join(dir, 'report.html')).ino;
    writeRunReport(dir);
    const after = statSync(join(dir, 'report.html'));
    expect(after.ino).not.to.equal(before);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).to.equal(true);
    expect(html.trimEnd().endsWith('</html>')).to.equal(true);
    expect(readdirSync(dir).filter(isAtomicTempName)).to.deep.equal([]);
  });
});

describe('sweep report page', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'nbm-sweep-report-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('shows the settings: metric, scheduler, search space and the shared training settings', () => {
    const dir = join(root, 'sweep');
    writeSweep(dir);
    const html = sweepReportHtml(dir);
    expect(html).to.include('<h1>Sweep lr-&lt;hidden&gt;</h1>');
    expect(html).to.match(/metric \(minimised\)<\/th><td>val_mse_bias</);
    for (const [k, v] of [['scheduler.kind', 'asha'], ['scheduler.reductionFactor', 3], ['scheduler.gracePeriod', 1], ['scheduler.maxEpochs', 3], ['diverge above', '1e10']]) {
      expect(html).to.include(`<th>${k}</th><td>${v}</td>`);
    }
    expect(html).to.include('<td data-v="--lr">--lr</td><td data-v="number">number</td><td data-v="1e-4,1e-2">1e-4,1e-2</td>');
    expect(html).to.include('nbm sweep --lr 1e-4,1e-2 --hidden 8,16 --epochs 3');
    expect(html).to.include('<dt>batchSize</dt><dd>32</dd>');
    expect(html).to.include(`<dt>note</dt><dd>${esc(HOSTILE)}</dd>`);
    expect(html).not.to.include('<dt>lr</dt><dd>0.0001</dd>');
    expectSelfContained(html);
  });

  it('has a sortable trial table: id linked to its report, every swept setting, state, epochs, metric, error', () => {
    const dir = join(root, 'sweep');
    writeSweep(dir);
    mkdirSync(join(dir, 'trials', 't001'), { recursive: true });
    writeFileSync(join(dir, 'trials', 't001', 'report.html'), 'x');
    const html = sweepReportHtml(dir);
    const table = /<table id="trials" class="sortable">([\s\S]*?)<\/table>/.exec(html)![1];
    const headers = [...table.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]);
    expect(headers.slice(0, 6)).to.deep.equal(['trial', 'lr', 'hidden', 'state', 'epochs', 'val_mse_bias (last val)']);
    expect(headers).to.include.members(['val_cd', 'val_mse_var', 'attempts', 'error']);
    const rows = [...table.matchAll(/<tr( class="best")?>(.*?)<\/tr>/g)].slice(1);
    expect(rows).to.have.length(4);
    expect(rows[1][2]).to.include('<a href="trials/t001/report.html">t001</a></td>');
    expect(rows[0][2]).to.include('<a href="trials/t000/report.html">t000</a> <span class="note">(no report yet)</span>');
    expect(rows[3][1]).to.equal(' class="best"');
    expect(rows[3][2]).to.include('<td data-v="0.42"><b>0.42</b></td>');
    expect(rows[2][2]).to.include('state-diverged');
    expect(rows[2][2]).to.include(esc('val_mse_bias 1e12 is above <b>1e10</b>'));
    expect(rows[0][2]).to.include('<td data-v="0.0001">0.0001</td><td data-v="8">8</td>');
  });

  it('plots every trial but the diverged one over epochs, and the metric against lr', () => {
    const dir = join(root, 'sweep');
    writeSweep(dir);
    const html = sweepReportHtml(dir);
    const curves = plotPoints(html, 'plot-curves');
    expect(curves.map((s) => s.n)).to.deep.equal(['t000 lr=0.0001 hidden=8', 't001 lr=0.0001 hidden=16', 't003 lr=0.01 hidden=16']);
    expect(curves[1].p.map((q) => [q[2], q[3]])).to.deep.equal([[1, 0.9], [2, 0.7], [3, 0.5]]);
    expect(html).to.include('1 diverged trial(s) left out');
    const [against] = plotPoints(html, 'plot-against');
    expect(against.p.map((q) => q[2])).to.deep.equal([1e-4, 1e-4, 1e-2]);
  });

  it('names the best configuration from best.json, or the best so far without it', () => {
    const dir = join(root, 'sweep');
    writeSweep(dir);
    let html = sweepReportHtml(dir);
    expect(html).to.include(`<a href="trials/t003/report.html">t003's report</a>`);
    expect(html).to.include('<th>how</th><td>nbm train --config best.json</td>');
    const running = join(root, 'running');
    writeSweep(running, { best: false, finished: false });
    html = sweepReportHtml(running);
    expect(html).to.include(`t003's report</a> <span class="note">(best so far`);
    expect(html).to.include('<b>in progress</b>');
  });

  it('writeSweepReport writes report.html atomically; a directory without sweep.json is refused', () => {
    const dir = join(root, 'sweep');
    writeSweep(dir);
    writeSweepReport(dir);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).to.include('<section id="trials">');
    expect(readdirSync(dir).filter(isAtomicTempName)).to.deep.equal([]);
    expect(() => writeSweepReport(join(root, 'nothing'))).to.throw(/not a sweep directory \(no sweep\.json\)/);
  });
});
