/**
 * The frame of a report page: one self-contained HTML document (inline style and script, pictures as data: URIs)
 * whose Content-Security-Policy forbids every request a page could make on its own, so it opens from file://
 * anywhere, offline, and shows the same thing everywhere.
 */
import { esc } from './html.ts';
import { PAGE_SCRIPT } from './page-script.ts';

/** Nothing may load except inline style and script and data: pictures. */
export const PAGE_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const STYLE = `
:root { color-scheme: light; --ink: #222; --muted: #666; --line: #ddd; --band: #f6f7f9; --accent: #1f77b4; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: #fff; }
header { padding: 16px 24px 12px; border-bottom: 1px solid var(--line); background: var(--band); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .path { color: var(--muted); font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; word-break: break-all; }
.status { margin-top: 8px; display: flex; flex-wrap: wrap; gap: 6px 18px; }
.status span b { font-weight: 600; }
nav { margin-top: 8px; font-size: 13px; }
nav a { margin-right: 14px; }
main { padding: 8px 24px 32px; max-width: 1200px; }
section { margin-top: 20px; }
h2 { font-size: 17px; margin: 0 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 12px 0 6px; }
a { color: var(--accent); }
table { border-collapse: collapse; font-size: 13px; margin: 4px 0 8px; }
th, td { padding: 3px 10px 3px 6px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--band); font-weight: 600; white-space: nowrap; }
td { font-variant-numeric: tabular-nums; }
table.kv th { font-weight: 500; color: #444; white-space: nowrap; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
table.kv td { word-break: break-word; max-width: 880px; }
table.sortable thead th { cursor: pointer; user-select: none; }
table.sortable thead th::after { content: " \\2195"; color: #aaa; }
table.sortable thead th[aria-sort="ascending"]::after { content: " \\2191"; color: var(--ink); }
table.sortable thead th[aria-sort="descending"]::after { content: " \\2193"; color: var(--ink); }
tr.best td { background: #eef7ee; }
.scroll { overflow-x: auto; }
.note { color: var(--muted); margin: 4px 0; }
.error { color: #b00020; }
.state { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; background: #eee; }
.state-completed { background: #dff0d8; } .state-running { background: #d9ecff; } .state-stopped { background: #f0f0f0; }
.state-diverged, .state-failed { background: #fbdada; } .state-paused, .state-queued, .state-pending { background: #fff3cd; }
.reason { color: var(--muted); font-size: 12px; }
svg.plot { display: block; width: 100%; max-width: 1100px; height: auto; background: #fff; margin: 4px 0 12px; }
svg.plot text { fill: #333; font-family: system-ui, "DejaVu Sans", sans-serif; }
svg.plot text.title { font-size: 14px; font-weight: 600; }
svg.plot text.label { fill: #000; }
svg.plot text.empty { font-size: 18px; fill: #888; }
svg.plot .frame { fill: none; stroke: #444; stroke-width: 1; }
svg.plot .grid { stroke: #e4e4e4; stroke-width: 1; }
svg.plot .minor { stroke: #f2f2f2; stroke-width: 1; }
svg.plot .tick { stroke: #444; stroke-width: 1; }
svg.plot polyline { fill: none; stroke-width: 1.6; stroke-linejoin: round; }
svg.plot circle.hover { fill: none; stroke-width: 2; pointer-events: none; }
.tip { position: absolute; pointer-events: none; background: #fff; border: 2px solid #888; border-radius: 4px; padding: 2px 6px; font-size: 12px; white-space: nowrap; box-shadow: 0 1px 4px rgba(0,0,0,.2); }
dl.settings { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: 0 24px; margin: 4px 0 8px; font-size: 13px; }
dl.settings div { display: flex; gap: 10px; border-bottom: 1px solid var(--line); padding: 3px 0; min-width: 0; }
dl.settings dt { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; color: #444; min-width: 110px; }
dl.settings dd { margin: 0; word-break: break-word; min-width: 0; }
.cols { display: flex; flex-wrap: wrap; gap: 0 40px; align-items: flex-start; }
pre { white-space: pre-wrap; word-break: break-all; background: var(--band); padding: 6px 8px; font-size: 12px; }
details summary { cursor: pointer; color: var(--accent); margin: 6px 0; }
.gallery { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
figure { margin: 0; }
figure img { display: block; image-rendering: pixelated; border: 1px solid var(--line); }
figcaption { font-size: 12px; color: var(--muted); margin-top: 2px; }
footer { padding: 12px 24px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); }
`;

export interface PageParts {
  /** The document title (text). */
  title: string;
  /** Header markup: heading, path, status line, navigation. */
  header: string;
  /** Body markup: the sections. */
  main: string;
  /** Footer text. */
  footer: string;
}

/** A whole HTML document from its parts (markup except `title` and `footer`, which are escaped). */
export function page(parts: PageParts): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(PAGE_CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(parts.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
${parts.header}
</header>
<main>
${parts.main}
</main>
<footer>${esc(parts.footer)}</footer>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
