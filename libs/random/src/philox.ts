/**
 * Philox4x32-10, the counter-based generator of Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"
 * (SC'11). A draw is a pure function of a 128-bit counter and a 64-bit key, so any worker can reproduce any
 * example's random numbers without sharing generator state: the foundation of world-size independence.
 *
 * Constants are the paper's (and Random123's): multipliers 0xD2511F53 / 0xCD9E8D57, Weyl key increments
 * 0x9E3779B9 / 0xBB67AE85.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const M0_LO = M0 & 0xffff;
const M0_HI = M0 >>> 16;
const M1_LO = M1 & 0xffff;
const M1_HI = M1 >>> 16;

/** High 32 bits of the 64-bit product of a u32 with a constant given as 16-bit halves (exact in float64). */
function mulHi(a: number, bLo: number, bHi: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const mid = aHi * bLo + aLo * bHi + ((aLo * bLo) >>> 16);
  return (aHi * bHi + Math.floor(mid / 65536)) >>> 0;
}

/**
 * One Philox4x32-10 block: writes 4 u32 outputs for counter (c0..c3) and key (k0, k1) into out[offset..offset+3].
 */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
  offset = 0,
): void {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = c2 >>> 0;
  let x3 = c3 >>> 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulHi(x0, M0_LO, M0_HI);
    const lo0 = Math.imul(x0, M0) >>> 0;
    const hi1 = mulHi(x2, M1_LO, M1_HI);
    const lo1 = Math.imul(x2, M1) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[offset] = x0;
  out[offset + 1] = x1;
  out[offset + 2] = x2;
  out[offset + 3] = x3;
}
