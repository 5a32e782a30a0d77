/**
 * What a run directory holds, read for its report page without trusting it to be complete: a run that has just
 * started has no metrics rows and no pictures, a crashed one may have a half-written last line, and a broken
 * config.json is reported rather than thrown. (The layout is @nbm/train's run-dir.ts, read here as plain files
 * so that this library stays below train.)
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

/** One metrics.csv row: `kind` (train, val or eval) and every other column as a number (NaN when empty). */
export interface MetricsRow {
  kind: string;
  [column: string]: number | string;
}

/** A picture of samples/ or components/: `epoch-NNN.png` or `step-NNNNNNNN.png`. */
export interface Picture {
  /** Path relative to the run directory, e.g. `samples/epoch-003.png`. */
  file: string;
  bytes: number;
  epoch?: number;
  step?: number;
  mtimeMs: number;
}

export interface RunData {
  dir: string;
  /** The run's name: its directory's base name. */
  name: string;
  /** config.json without its `runtime` record; undefined when absent or unreadable. */
  config?: Record<string, unknown>;
  runtime?: Record<string, unknown>;
  /** Why config.json could not be read, when it could not. */
  configProblem?: string;
  rows: MetricsRow[];
  /** Why metrics.csv could not be read (absent, empty header), when it could not. */
  metricsProblem?: string;
  /** Oldest first. */
  samples: Picture[];
  components: Picture[];
  /** status.json of a distributed run, when present and readable. */
  status?: Record<string, unknown>;
}

function readJson(file: string): { value?: Record<string, unknown>; problem?: string } {
  if (!existsSync(file)) return { problem: `no ${basename(file)} yet` };
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { problem: `${basename(file)} is not a JSON object` };
    return { value: v as Record<string, unknown> };
  } catch (e) {
    return { problem: `${basename(file)} does not parse (${(e as Error).message})` };
  }
}

/** metrics.csv's rows; a line with the wrong number of cells (one being written) is left out. */
export function parseMetricsCsv(text: string): MetricsRow[] {
  const lines = text.split('\n').filter((l) => l.trim().length > 0);
  if (lines.length === 0) return [];
  const header = lines[0].split(',').map((h) => h.trim());
  const rows: MetricsRow[] = [];
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    if (cells.length !== header.length) continue;
    const row: MetricsRow = { kind: '' };
    header.forEach((h, i) => {
      const c = cells[i].trim();
      row[h] = h === 'kind' ? c : c === '' ? NaN : Number(c);
    });
    rows.push(row);
  }
  return rows;
}

const PICTURE = /^(?:epoch-(\d+)|step-(\d+))\.png$/;

/**
 * The pictures in `sub`, oldest first: by the step each was drawn at (an epoch picture at its epoch's last
 * validation row), or by modification time when some step is unknown.
 */
function listPictures(dir: string, sub: string, rows: readonly MetricsRow[]): Picture[] {
  const folder = join(dir, sub);
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const valStep = new Map<number, number>();
  for (const r of rows) {
    if (r.kind === 'val' && Number.isFinite(r.epoch) && Number.isFinite(r.step)) {
      valStep.set(r.epoch as number, Math.max(valStep.get(r.epoch as number) ?? -Infinity, r.step as number));
    }
  }
  const pictures: Picture[] = [];
  for (const name of names) {
    const m = PICTURE.exec(name);
    if (!m) continue;
    let st;
    try {
      st = statSync(join(folder, name));
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    const epoch = m[1] !== undefined ? Number(m[1]) : undefined;
    const step = m[2] !== undefined ? Number(m[2]) : valStep.get(epoch!);
    pictures.push({ file: `${sub}/${name}`, bytes: st.size, epoch, step, mtimeMs: st.mtimeMs });
  }
  const byStep = pictures.every((p) => p.step !== undefined);
  return pictures.sort((a, b) => (byStep ? a.step! - b.step! : a.mtimeMs - b.mtimeMs) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** Reads what there is of the run in `dir`. */
export function readRunData(dir: string): RunData {
  const abs = resolve(dir);
  const data: RunData = { dir: abs, name: basename(abs), rows: [], samples: [], components: [] };
  const cfg = readJson(join(abs, 'config.json'));
  if (cfg.value) {
    const { runtime, ...config } = cfg.value;
    data.config = config;
    if (runtime && typeof runtime === 'object' && !Array.isArray(runtime)) data.runtime = runtime as Record<string, unknown>;
  } else data.configProblem = cfg.problem;
  const metrics = join(abs, 'metrics.csv');
  if (existsSync(metrics)) {
    try {
      data.rows = parseMetricsCsv(readFileSync(metrics, 'utf8'));
    } catch (e) {
      data.metricsProblem = `metrics.csv cannot be read (${(e as Error).message})`;
    }
  } else data.metricsProblem = 'no metrics.csv yet';
  data.samples = listPictures(abs, 'samples', data.rows);
  data.components = listPictures(abs, 'components', data.rows);
  const status = readJson(join(abs, 'status.json'));
  if (status.value) data.status = status.value;
  return data;
}

/** A picture's contents as a `data:image/png;base64,…` URI. */
export function pictureDataUri(dir: string, picture: Picture): string {
  return `data:image/png;base64,${readFileSync(join(dir, picture.file)).toString('base64')}`;
}
