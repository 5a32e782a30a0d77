import { expect } from 'chai';
import { esc, formatValue } from '../src/html.ts';
import { svgLinePlot } from '../src/svg-plot.ts';

const points = (svg: string): Array<{ n: string; c: string; p: number[][] }> =>
  JSON.parse(/data-points="([^"]*)"/.exec(svg)![1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;/g, "'").replace(/&amp;/g, '&'));

const tickLabels = (svg: string): string[] => [...svg.matchAll(/<text x="[\d.]+" y="[\d.]+" text-anchor="middle">([^<]*)<\/text>/g)].map((m) => m[1]);

describe('svgLinePlot', () => {
  it('draws each series as a polyline inside a framed, ticked area, with its points for the read-out', () => {
    const svg = svgLinePlot({ id: 'p', title: 'T', xLabel: 'step', yLabel: 'loss', series: [{ name: 'a', x: [0, 1, 2], y: [3, 1, 2] }] });
    expect(svg).to.match(/^<svg class="plot" id="p" viewBox="0 0 960 320"/);
    expect(svg.match(/<polyline /g)).to.have.length(1);
    expect(svg).to.include('data-x="step" data-y="loss"');
    const [a] = points(svg);
    expect(a.n).to.equal('a');
    expect(a.p.map((q) => [q[2], q[3]])).to.deep.equal([[0, 3], [1, 1], [2, 2]]);
    // larger y is higher up: smaller picture y
    expect(a.p[0][1]).to.be.lessThan(a.p[1][1]);
    expect(svg).to.include('<text class="title"');
  });

  it('leaves gaps at non-finite points and keeps a lone point as a dot', () => {
    const svg = svgLinePlot({ id: 'g', series: [{ name: 'a', x: [0, 1, 2, 3, 4], y: [1, 2, NaN, 3, Infinity], markers: false }] });
    expect(svg.match(/<polyline /g)).to.have.length(1);
    expect(svg.match(/<circle /g)).to.have.length(1);
    expect(points(svg)[0].p).to.have.length(3);
  });

  it('says "no data yet" (or its own text) when nothing is plottable, with no read-out', () => {
    const svg = svgLinePlot({ id: 'e', series: [{ name: 'a', x: [], y: [] }] });
    expect(svg).to.include('>no data yet</text>');
    expect(svg).not.to.include('data-points');
    expect(svgLinePlot({ id: 'e', series: [], empty: 'nothing <here>' })).to.include('>nothing &lt;here&gt;</text>');
  });

  it('ticks a whole-number axis only at whole numbers, even for one value', () => {
    expect(tickLabels(svgLinePlot({ id: 'i', integerX: true, series: [{ name: '', x: [1, 2], y: [1, 0] }] }))).to.deep.equal(['1', '2']);
    const one = tickLabels(svgLinePlot({ id: 'i', integerX: true, series: [{ name: '', x: [3], y: [1] }] }));
    expect(one.every((t) => /^\d+$/.test(t))).to.equal(true);
    expect(one).to.include('3');
  });

  it('thins a long series to a few points per pixel column, keeping its extremes', () => {
    const n = 100_000;
    const x = Array.from({ length: n }, (_, i) => i);
    const y = x.map((i) => (i === 54_321 ? 50 : Math.sin(i / 100)));
    const [s] = points(svgLinePlot({ id: 't', series: [{ name: 'long', x, y }] }));
    expect(s.p.length).to.be.lessThan(4 * 960);
    expect(Math.max(...s.p.map((q) => q[3]))).to.equal(50);
  });

  it('escapes series names, titles and labels', () => {
    const svg = svgLinePlot({ id: 'x', title: '<t>', xLabel: 'a&b', series: [{ name: '"q"<s>', x: [0, 1], y: [0, 1] }] });
    expect(svg).to.include(`>${esc('<t>')}</text>`);
    expect(svg).to.include(`>${esc('"q"<s>')}</text>`);
    expect(svg).not.to.include('<t>');
    expect(points(svg)[0].n).to.equal('"q"<s>');
  });

  it('formatValue writes numbers short', () => {
    expect([0.0005, 1e-4, 1e-5, 1e10, 42, 0.123456789, -38.6824989, 1234567.8].map(formatValue)).to.deep.equal([
      '0.0005', '0.0001', '1e-5', '1e10', '42', '0.123457', '-38.6825', '1234570',
    ]);
  });
});
