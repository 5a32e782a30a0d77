import { SampleError } from './errors.ts';

/**
 * Parses a class list: comma-separated class indices and inclusive ranges, e.g. `0-9`, `1,3,5`, `0-2,7`.
 * Order is kept as written (it is the order of the rows in samples.npy); a class may not appear twice.
 * @param nx the model's context size: classes are one-hot positions, so each must be in [0, nx)
 * @throws SampleError naming the bad part, e.g. `--classes '3-1': a range must go upwards`
 */
export function parseClasses(spec: string, nx: number): number[] {
  const text = spec.trim();
  if (text === '') throw new SampleError(`--classes is empty: give class indices such as 0-9 or 1,3,5`);
  const out: number[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) throw new SampleError(`--classes '${spec}': '${part}' is not a class index or a range such as 0-9`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new SampleError(`--classes '${spec}': the range '${part}' must go upwards`);
    if (hi >= nx) {
      throw new SampleError(`--classes '${spec}': class ${hi} is out of range: the model's contexts have nx = ${nx}, so classes are 0-${nx - 1}`);
    }
    for (let c = lo; c <= hi; c++) {
      if (out.includes(c)) throw new SampleError(`--classes '${spec}': class ${c} appears twice`);
      out.push(c);
    }
  }
  return out;
}

/** The canonical text of a class list: runs of consecutive classes as ranges (`[0,1,2,5]` → `0-2,5`). */
export function formatClasses(classes: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < classes.length; ) {
    let j = i;
    while (j + 1 < classes.length && classes[j + 1] === classes[j] + 1) j++;
    parts.push(j > i ? `${classes[i]}-${classes[j]}` : String(classes[i]));
    i = j + 1;
  }
  return parts.join(',');
}
