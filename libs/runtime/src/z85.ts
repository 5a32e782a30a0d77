/**
 * Z85 (ZeroMQ RFC 32), the printable encoding of CURVE keys: 4 bytes ↔ 5 characters of an
 * 85-character alphabet. A 32-byte key is 40 characters.
 */

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const VALUE = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));

/** Length of a Z85-encoded CURVE key. */
export const Z85_KEY_LENGTH = 40;

/** Encodes bytes (a multiple of 4 long) as Z85. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new RangeError(`Z85 encodes multiples of 4 bytes, got ${bytes.length}`);
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let v = ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
    const group: string[] = [];
    for (let k = 0; k < 5; k++) {
      group.push(ALPHABET[v % 85]);
      v = Math.floor(v / 85);
    }
    out += group.reverse().join('');
  }
  return out;
}

/** Decodes Z85 text (a multiple of 5 long); throws a RangeError naming the first bad character. */
export function z85Decode(text: string): Uint8Array {
  if (text.length % 5 !== 0) throw new RangeError(`Z85 text must be a multiple of 5 characters long, got ${text.length}`);
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0; i < text.length; i += 5) {
    let v = 0;
    for (let k = 0; k < 5; k++) {
      const d = VALUE.get(text[i + k]);
      if (d === undefined) throw new RangeError(`${JSON.stringify(text[i + k])} at position ${i + k} is not a Z85 character`);
      v = v * 85 + d;
    }
    if (v > 0xffff_ffff) throw new RangeError(`Z85 group at position ${i} is out of range`);
    const j = (i / 5) * 4;
    out[j] = v >>> 24;
    out[j + 1] = (v >>> 16) & 0xff;
    out[j + 2] = (v >>> 8) & 0xff;
    out[j + 3] = v & 0xff;
  }
  return out;
}

/** Returns why `key` is not a Z85 CURVE key (40 characters decoding to 32 bytes), or `undefined` if it is one. */
export function curveKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return `expected a 40-character Z85 key, got ${key === null ? 'null' : typeof key}`;
  if (key.length !== Z85_KEY_LENGTH) return `expected a 40-character Z85 key, got ${key.length} characters`;
  try {
    z85Decode(key);
  } catch (err) {
    return `not a Z85 key: ${(err as Error).message}`;
  }
  return undefined;
}
