/**
 * The HTML report pages end to end: a real tiny run and a real tiny sweep (`nbm train`, `nbm sweep`), their pages
 * written by writeRunReport / writeSweepReport, then opened from file:// in headless Chromium (test/chromium.ts):
 * each loads with no console error and no request but file: and data:, draws something (its screenshot has many
 * colours), and its script works (the hover read-out, sorting the trial table).
 *
 * NBM_SCREENSHOTS=DIR (or =1 for the temporary directory) saves report-run.png and report-sweep.png there.
 * Without /usr/bin/chromium the tests are skipped, saying why, except under CI=true, where they fail.
 */
import { existsSync, mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { PNG } from 'pngjs';
import { writeRunReport, writeSweepReport } from '@nbm/report';
import { CHROMIUM_PATH, findChromium, launchChromium, type Chromium, type ChromiumPage } from './chromium.ts';
import { runNbm, scratchDir } from './helpers.ts';

const TINY = ['--train-examples', '256', '--val-examples', '128', '--batch-size', '32', '--hidden', '8', '--gibbs-steps', '4', '--log-every', '1', '--quiet'];

/** Distinct colours and the share of pixels that are not white (nor near it). */
function inkOf(png: Buffer): { width: number; height: number; colours: number; inked: number } {
  const img = PNG.sync.read(png);
  const colours = new Set<number>();
  let inked = 0;
  for (let i = 0; i < img.width * img.height; i++) {
    const [r, g, b] = [img.data[4 * i], img.data[4 * i + 1], img.data[4 * i + 2]];
    colours.add((r << 16) | (g << 8) | b);
    if (r + g + b < 3 * 240) inked++;
  }
  return { width: img.width, height: img.height, colours: colours.size, inked: inked / (img.width * img.height) };
}

function screenshotsDir(): string | undefined {
  const v = process.env.NBM_SCREENSHOTS;
  if (!v || v === '0') return undefined;
  return v === '1' || v === 'true' ? tmpdir() : v;
}

/** Opens `file` and checks what every page must do: load, no errors, only file: and data: requests, a non-blank picture. */
async function openPage(browser: Chromium, file: string, shotName: string): Promise<ChromiumPage> {
  const tab = await browser.newPage();
  const url = pathToFileURL(file).href;
  await tab.navigate(url);
  expect(await tab.evaluate('document.readyState')).to.equal('complete');
  // let any late error of the page's script surface
  await tab.evaluate('new Promise((r) => setTimeout(r, 100))');
  expect(tab.errors, tab.errors.join('\n')).to.deep.equal([]);
  expect(tab.requests[0]).to.equal(url);
  for (const u of tab.requests) expect(u.slice(0, 60)).to.match(/^(file|data):/);
  const png = await tab.screenshot();
  const ink = inkOf(png);
  expect(ink.width).to.be.at.least(800);
  expect(ink.colours, 'distinct colours').to.be.greaterThan(40);
  expect(ink.inked, 'share of non-white pixels').to.be.greaterThan(0.03);
  const dir = screenshotsDir();
  if (dir) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, shotName), png);
  }
  return tab;
}

describe('report pages in headless Chromium', function () {
  this.timeout(30_000);
  let scratch: ReturnType<typeof scratchDir>;
  let browser: Chromium | undefined;
  let run: string;
  let sweep: string;

  before(async function () {
    if (!findChromium()) {
      if (process.env.CI === 'true') throw new Error(`headless Chromium is needed for these tests and is not at ${CHROMIUM_PATH}`);
      console.log(`    (skipped: no Chromium at ${CHROMIUM_PATH}; install Debian's chromium, or set NBM_CHROMIUM)`);
      this.skip();
    }
    this.timeout(180_000);
    scratch = scratchDir('nbm-report-page-');
    run = join(scratch.dir, 'run');
    sweep = join(scratch.dir, 'sweep');
    const [trained, swept] = await Promise.all([
      runNbm(['train', ...TINY, '--epochs', '3', '--out', run]),
      runNbm(['sweep', ...TINY, '--epochs', '2', '--lr', '1e-4,1e-3,1e-2', '--workers', '1', '--out', sweep]),
    ]);
    expect(trained.code, trained.stderr).to.equal(0);
    expect(swept.code, swept.stderr).to.equal(0);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    scratch?.remove();
  });

  it('the driver sees console errors, uncaught exceptions and every request (so the checks below can fail)', async () => {
    const bad = join(scratch.dir, 'bad.html');
    writeFileSync(bad, `<!DOCTYPE html><title>bad</title><img src="http://127.0.0.1:9/x.png"><script>console.error('on purpose'); throw new Error('thrown on purpose');</script>`);
    const tab = await browser!.newPage();
    await tab.navigate(pathToFileURL(bad).href);
    await tab.evaluate('new Promise((r) => setTimeout(r, 100))');
    expect(tab.errors.join('\n')).to.include('console.error: on purpose').and.to.include('thrown on purpose');
    expect(tab.requests).to.include('http://127.0.0.1:9/x.png');
  });

  it('the run page loads offline, draws its plots and pictures, and reads out a point under the pointer', async () => {
    writeRunReport(run);
    const tab = await openPage(browser!, join(run, 'report.html'), 'report-run.png');
    expect(await tab.evaluate('document.title')).to.equal('nbm run run');
    expect(await tab.evaluate(`[...document.querySelectorAll('svg.plot')].map((s) => s.id)`)).to.include.members(['plot-cd_loss', 'plot-mse_bias', 'plot-mse_var']);
    expect(await tab.evaluate(`document.querySelectorAll('svg.plot polyline').length`)).to.be.at.least(6);
    const images = (await tab.evaluate(`[...document.images].map((i) => i.complete && i.naturalWidth > 0)`)) as boolean[];
    expect(images).to.have.length(6);
    expect(images.every(Boolean)).to.equal(true);

    const at = (await tab.evaluate(`(() => {
      const dot = document.querySelector('#plot-mse_bias g.series circle');
      dot.scrollIntoView({ block: 'center' });
      const r = dot.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    })()`)) as { x: number; y: number };
    await tab.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: at.x, y: at.y });
    const tip = (await tab.evaluate(`(() => { const t = document.querySelector('.tip:not([hidden])'); return t && t.textContent; })()`)) as string | null;
    expect(tip).to.match(/^(train|val): step \d+, MSE_bias [\d.]+$/);
    expect(tab.errors).to.deep.equal([]);
  });

  it('a run with no rows and no pictures yet renders without errors', async () => {
    const fresh = join(scratch.dir, 'fresh');
    mkdirSync(fresh);
    copyFileSync(join(run, 'config.json'), join(fresh, 'config.json'));
    writeFileSync(join(fresh, 'metrics.csv'), 'kind,epoch,step,cd_loss,mse_bias,mse_var,skipped,examples,samples_per_s,compute_ms,reduce_ms,world_size,wall_s,loglik_nats\n');
    writeRunReport(fresh);
    const tab = await browser!.newPage();
    await tab.navigate(pathToFileURL(join(fresh, 'report.html')).href);
    expect(await tab.evaluate(`document.getElementById('status').textContent`)).to.include('no step logged yet');
    expect(tab.errors).to.deep.equal([]);
  });

  it('the sweep page loads offline, links every trial report, and sorts its table by a clicked column', async () => {
    for (const t of ['t000', 't001', 't002']) writeRunReport(join(sweep, 'trials', t));
    writeSweepReport(sweep);
    const tab = await openPage(browser!, join(sweep, 'report.html'), 'report-sweep.png');
    const links = (await tab.evaluate(`[...document.querySelectorAll('#trials tbody a')].map((a) => a.href)`)) as string[];
    expect(links).to.have.length(3);
    for (const href of links) expect(existsSync(fileURLToPath(href)), href).to.equal(true);
    expect(await tab.evaluate(`document.querySelectorAll('#plot-curves g.series circle').length`)).to.be.at.least(3);

    const column = (c: number) => `[...document.querySelectorAll('#trials tbody tr')].map((r) => r.cells[${c}].textContent)`;
    const lrs = async () => ((await tab.evaluate(column(1))) as string[]).map(Number);
    await tab.evaluate(`document.querySelectorAll('#trials thead th')[1].click()`);
    expect(await lrs()).to.deep.equal([1e-4, 1e-3, 1e-2]);
    await tab.evaluate(`document.querySelectorAll('#trials thead th')[1].click()`);
    expect(await lrs()).to.deep.equal([1e-2, 1e-3, 1e-4]);
    expect(await tab.evaluate(`document.querySelectorAll('#trials thead th')[1].getAttribute('aria-sort')`)).to.equal('descending');

    // a trial's page opens from the sweep's link, offline too
    await tab.navigate(links[0]);
    expect(await tab.evaluate('document.title')).to.equal('nbm run t000');
    expect(tab.errors).to.deep.equal([]);
    for (const u of tab.requests) expect(u.slice(0, 60)).to.match(/^(file|data):/);
  });
});
