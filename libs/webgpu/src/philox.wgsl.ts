/**
 * Philox4x32-10 and the draws of @nbm/random, in WGSL (only 32-bit integers: the 32×32→64 products are built
 * from 16-bit halves).
 *
 * {@link PHILOX_WGSL} holds only functions and constants, to be prepended to any shader that draws:
 *
 * - `philox4x32_10(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32>`: one block, = `philox4x32` of @nbm/random.
 * - `nbm_draw_block(seed, stream, a, b, c, block) -> vec4<u32>`: block `block` of the keyed stream (seed, stream)
 *   at counter (a, b, c): element i of a vector drawn at (a, b, c) is lane i % 4 of block i / 4 (= `fillBits`).
 * - `nbm_unit(u) -> f32`: (u >> 8) · 2^-24 ∈ [0, 1), = `unitFromBits` (exact in f32, so bit for bit).
 * - `nbm_open_unit(u) -> f32`: ((u >> 8) + 1) · 2^-24 ∈ (0, 1], = `openUnitFromBits` (exact, bit for bit).
 * - `nbm_spin(u, p) -> f32`: +1 where nbm_unit(u) < p else −1: the model's h and Ising-y draws
 *   (`u < sigmoid(2a) ? +1 : −1` in @nbm/model and the native kernel), given the same f32 p.
 */
export const PHILOX_WGSL = /* wgsl */ `
const NBM_PHILOX_M0: u32 = 0xd2511f53u;
const NBM_PHILOX_M1: u32 = 0xcd9e8d57u;
const NBM_PHILOX_W0: u32 = 0x9e3779b9u;
const NBM_PHILOX_W1: u32 = 0xbb67ae85u;

// High word of the 64-bit product a·b. Four 16×16→32 partial products; the middle column sums three values
// below 2^16 each (no overflow), and the true high word is below 2^32.
fn nbm_mulhi(a: u32, b: u32) -> u32 {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
}

fn philox4x32_10(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var x = ctr;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    let hi0 = nbm_mulhi(x.x, NBM_PHILOX_M0);
    let lo0 = x.x * NBM_PHILOX_M0; // u32 multiplication wraps: the low word
    let hi1 = nbm_mulhi(x.z, NBM_PHILOX_M1);
    let lo1 = x.z * NBM_PHILOX_M1;
    x = vec4<u32>(hi1 ^ x.y ^ k.x, lo1, hi0 ^ x.w ^ k.y, lo0);
    k = k + vec2<u32>(NBM_PHILOX_W0, NBM_PHILOX_W1);
  }
  return x;
}

fn nbm_draw_block(seed: u32, stream: u32, a: u32, b: u32, c: u32, block: u32) -> vec4<u32> {
  return philox4x32_10(vec4<u32>(a, b, c, block), vec2<u32>(seed, stream));
}

// 24 random bits times a power of two: exact in f32.
fn nbm_unit(u: u32) -> f32 {
  return f32(u >> 8u) * 0x1p-24f;
}

fn nbm_open_unit(u: u32) -> f32 {
  return f32((u >> 8u) + 1u) * 0x1p-24f;
}

fn nbm_spin(u: u32, p: f32) -> f32 {
  return select(-1.0f, 1.0f, nbm_unit(u) < p);
}
`;

/** WGSL: the flat invocation index of a 1-D grid of 64-wide workgroups spread over x and y. */
const INVOCATION_WGSL = /* wgsl */ `
fn nbm_invocation(wg: vec3<u32>, nwg: vec3<u32>, local: u32) -> u32 {
  return (wg.y * nwg.x + wg.x) * 64u + local;
}
`;

/**
 * The table kernel over {@link PHILOX_WGSL} (workgroup size {@link PHILOX_WORKGROUP}; the 1-D grid of
 * workgroups may be spread over x and y: invocation index = (wg.y · num_workgroups.x + wg.x) · 64 + local).
 *
 * Entry point `philox_table`: binding 0 `counters: array<vec4<u32>>` (n), binding 1 `keys: array<vec2<u32>>`
 * (n), binding 2 `blocks: array<vec4<u32>>` (n): blocks[j] = philox4x32_10(counters[j], keys[j]).
 */
export const PHILOX_TABLE_WGSL = /* wgsl */ `${PHILOX_WGSL}${INVOCATION_WGSL}
@group(0) @binding(0) var<storage, read> table_counters: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> table_keys: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read_write> table_blocks: array<vec4<u32>>;

@compute @workgroup_size(64)
fn philox_table(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) local: u32) {
  let j = nbm_invocation(wg, nwg, local);
  if (j >= arrayLength(&table_blocks)) {
    return;
  }
  table_blocks[j] = philox4x32_10(table_counters[j], table_keys[j]);
}
`;

/**
 * The keyed-stream kernels over {@link PHILOX_WGSL} (workgroup size {@link PHILOX_WORKGROUP}, grid as
 * {@link PHILOX_TABLE_WGSL}).
 *
 * Entry points `keyed_bits`, `keyed_uniform`, `keyed_open_unit`: binding 0 uniform `KeyedParams`
 * (seed, stream, length, rows, blocksPerRow = ceil(length / 4), 3 × padding: 32 bytes), binding 1
 * `rows: array<vec4<u32>>` (rows; (a, b, c, unused) each), binding 2 `out: array<u32>` (rows · length,
 * row-major): out[r · length + i] = transform(lane i % 4 of nbm_draw_block(seed, stream, a_r, b_r, c_r, i / 4)),
 * floats stored as their bit patterns. One invocation per block (4 outputs).
 */
export const PHILOX_KEYED_WGSL = /* wgsl */ `${PHILOX_WGSL}${INVOCATION_WGSL}
struct KeyedParams {
  seed: u32,
  stream: u32,
  length: u32,
  rows: u32,
  blocksPerRow: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> keyed: KeyedParams;
@group(0) @binding(1) var<storage, read> keyed_rows: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> keyed_out: array<u32>;

fn keyed_transform(u: u32, mode: u32) -> u32 {
  switch mode {
    case 1u: { return bitcast<u32>(nbm_unit(u)); }
    case 2u: { return bitcast<u32>(nbm_open_unit(u)); }
    default: { return u; }
  }
}

fn keyed_fill(g: u32, mode: u32) {
  if (g >= keyed.rows * keyed.blocksPerRow) {
    return;
  }
  let r = g / keyed.blocksPerRow;
  let blk = g % keyed.blocksPerRow;
  let ctr = keyed_rows[r];
  let x = nbm_draw_block(keyed.seed, keyed.stream, ctr.x, ctr.y, ctr.z, blk);
  let base = r * keyed.length;
  for (var lane = 0u; lane < 4u; lane++) {
    let i = blk * 4u + lane;
    if (i < keyed.length) {
      keyed_out[base + i] = keyed_transform(x[lane], mode);
    }
  }
}

@compute @workgroup_size(64)
fn keyed_bits(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) local: u32) {
  keyed_fill(nbm_invocation(wg, nwg, local), 0u);
}

@compute @workgroup_size(64)
fn keyed_uniform(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) local: u32) {
  keyed_fill(nbm_invocation(wg, nwg, local), 1u);
}

@compute @workgroup_size(64)
fn keyed_open_unit(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) local: u32) {
  keyed_fill(nbm_invocation(wg, nwg, local), 2u);
}
`;

/** Workgroup size (x) of the entry points in {@link PHILOX_TABLE_WGSL} and {@link PHILOX_KEYED_WGSL}. */
export const PHILOX_WORKGROUP = 64;
