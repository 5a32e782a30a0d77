import { PHILOX_WGSL } from '../philox.wgsl.ts';

/**
 * The NBM step in WGSL: the three networks, W(x), the fused k-step Gibbs chain with both free energies and the
 * per-example output gradients, the backward pass into every parameter summed per block, and the reductions of
 * those block sums (max |g| per tensor, exact 64-bit fixed point, float32) on the device.
 *
 * Math (docs/model.md): d = y − μ, z = Wᵀd, F = ½ Σ P d² − Σ logcosh z; ∂(F(y) − F(ỹ))/∂μ = W(t − t̃) − P(d − d̃),
 * ∂/∂s = ½ P (d² − d̃²) where the clip of s = log P passes, ∂/∂W_ij = −d_i t_j + d̃_i t̃_j (t = tanh z).
 *
 * Every entry point shares one bind-group layout ({@link STEP_BINDINGS}) and one uniform ({@link DIMS_FIELDS}).
 * Every sum runs in a fixed order (no float atomics), so a block's result depends only on its inputs: any worker
 * on the same kind of adapter computes it bit for bit the same.
 *
 * Layout of the buffers (f32 unless said; `E` examples of the call, `nb` blocks):
 * - params: the ten parameter tensors back to back (offsets `t0`..`t9`, then `total`)
 * - inputs: x (E, nx) at 0, data y (E, ny) at `inY`
 * - indices (u32): example index (E,) at 0, block starts (nb + 1) at `inBlocks`, fixed-point exponents (10, i32
 *   bits) at `inExp`
 * - work: the per-example vectors at the `w*` offsets (hidden layers (E, width), μ/P/s/y/d/d̃/gradients (E, ny),
 *   W(x) (E, ny, nh) and its transpose (E, nh, ny), t/t̃/last h (E, nh), statistics (E, 12)); max |g| per tensor
 *   at `wMax` (u32 bits)
 * - grads: the block sums (allBlocks, total); a pass writes its `blocks` at rows `blockBase`… (a step whose
 *   examples do not fit one pass runs several, each on whole blocks; the reductions run once, over all rows)
 * - fixed (vec2<u32>): the fixed-point sum over blocks (total,), two's complement (lo, hi)
 */

/** The uniform's u32/f32 fields, in order (the engine fills them by name). */
export const DIMS_FIELDS = [
  'nx', 'ny', 'nh', 'width', 'examples', 'blocks', 'k', 'ising',
  'seed', 'step', 'hiddenStream', 'visibleStream', 'mode', 'total', 'inY', 'inBlocks',
  'inExp', 'wAb', 'wAp', 'wMu', 'wP', 'wS', 'wW', 'wY',
  'wD', 'wDm', 'wT', 'wTm', 'wH', 'wGob', 'wGop', 'wGab',
  'wGap', 'wStats', 'wMax', 't0', 't1', 't2', 't3', 't4',
  't5', 't6', 't7', 't8', 't9', 'norm', 'lo', 'hi', 'wWt',
  'blockBase', 'allBlocks',
] as const;
export type DimsField = (typeof DIMS_FIELDS)[number];
/** Fields stored as f32 (the rest are u32). */
export const DIMS_FLOATS: ReadonlySet<DimsField> = new Set(['norm', 'lo', 'hi']);

/** The chain kernel's modes. */
export const Mode = { train: 0, sample: 1, sampleDenoised: 2 } as const;

/** Bindings of group 0, in order: 0 is the uniform, the rest storage buffers. */
export const STEP_BINDINGS = ['dims', 'params', 'inputs', 'indices', 'work', 'grads', 'fixed'] as const;
/** Which bindings each entry point may write (the layout marks the others read-only). */
export const WRITABLE: ReadonlySet<(typeof STEP_BINDINGS)[number]> = new Set(['work', 'grads', 'fixed']);

/** Most threads of a chain or reduction workgroup; the elementwise kernels use 64. */
export const MAX_CHAIN_THREADS = 256;

/**
 * Threads of the chain and reduction workgroups for a model: the power of two from 32 (a warp) to 256 that covers
 * its longest vector (ny or nh), so that a small model does not idle most of its threads at every barrier. It
 * depends on the model alone, so every worker's blocks sum in the same order.
 */
export function chainThreads(c: { readonly ny: number; readonly nh: number }): number {
  let t = 32;
  while (t < MAX_CHAIN_THREADS && t < Math.max(c.ny, c.nh)) t *= 2;
  return t;
}
/** Largest nh the chain's workgroup arrays hold. */
export const MAX_HIDDEN = 1024;
/** Statistics per example: F(y), F(ỹ), Σd², Σy, Σy², Σy³, Σy⁴, Σv, Σvy, Σvy², Σv² (v = 1/P), padding. */
export const STATS_PER_EXAMPLE = 12;

const dimsStruct = `struct Dims {\n${DIMS_FIELDS.map((f) => `  ${f}: ${DIMS_FLOATS.has(f) ? 'f32' : 'u32'},`).join('\n')}\n}`;

export const STEP_WGSL = /* wgsl */ `${PHILOX_WGSL}
${dimsStruct}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read> inputs: array<f32>;
@group(0) @binding(3) var<storage, read> indices: array<u32>;
@group(0) @binding(4) var<storage, read_write> work: array<f32>;
@group(0) @binding(5) var<storage, read_write> grads: array<f32>;
@group(0) @binding(6) var<storage, read_write> fixed: array<vec2<u32>>;

// set per model when the pipelines are made (chainThreads); a power of two
override CHAIN_THREADS: u32 = ${256}u;
const MAX_HIDDEN: u32 = ${MAX_HIDDEN}u;
const STATS: u32 = ${STATS_PER_EXAMPLE}u;

// The flat invocation index of a 1-D grid of 64-wide workgroups spread over x and y.
fn flat(wg: vec3<u32>, nwg: vec3<u32>, local: u32) -> u32 {
  return (wg.y * nwg.x + wg.x) * 64u + local;
}

fn tensor_offset(t: u32) -> u32 {
  switch t {
    case 0u: { return dims.t0; }
    case 1u: { return dims.t1; }
    case 2u: { return dims.t2; }
    case 3u: { return dims.t3; }
    case 4u: { return dims.t4; }
    case 5u: { return dims.t5; }
    case 6u: { return dims.t6; }
    case 7u: { return dims.t7; }
    case 8u: { return dims.t8; }
    case 9u: { return dims.t9; }
    default: { return dims.total; }
  }
}

fn sigmoid(a: f32) -> f32 {
  return 1.0 / (1.0 + exp(-a));
}

// tanh is exactly ±1 in f32 past |a| = 10; clamping keeps implementations that form sinh/cosh from overflowing.
fn tanh_safe(a: f32) -> f32 {
  return tanh(clamp(a, -10.0, 10.0));
}

// logcosh z = |z| − ln 2 + log(1 + e^(−2|z|)), stable for any z.
fn logcosh(z: f32) -> f32 {
  let a = abs(z);
  return a - 0.6931471805599453 + log(1.0 + exp(-2.0 * a));
}

// ---------------------------------------------------------------------------------------------------------
// Networks: hidden layers, outputs (μ, P, s), W(x)
// ---------------------------------------------------------------------------------------------------------

// Invocation g of a (2, E, width) grid over the hidden units of both networks: net 0 (bias) or 1 (precision),
// example e, unit kk, and r = e·width + kk (the unit's place in a (E, width) array).
struct HiddenUnit {
  net: u32,
  r: u32,
  e: u32,
  kk: u32,
}

fn hidden_unit(g: u32) -> HiddenUnit {
  let per = dims.examples * dims.width;
  let r = g % per;
  return HiddenUnit(g / per, r, r / dims.width, r % dims.width);
}

// (2, E, width): relu(W1 x + b1) of the bias net (0) and the precision net (1).
@compute @workgroup_size(64)
fn hidden_layers(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) local: u32) {
  let g = flat(wg, nwg, local);
  if (g >= 2u * dims.examples * dims.width) { return; }
  let u = hidden_unit(g);
  let net = u.net;
  let e = u.e;
  let kk = u.kk;
  let w1 = select(dims.t0, dims.t4, net == 1u);
  let b1 = select(dims.t1, dims.t5, net == 1u);
  var acc = 0.0;
  for (var c = 0u; c < dims.nx; c++) {
    acc = fma(params[w1 + kk * dims.nx + c], inputs[e * dims.nx + c], acc);
  }
  work[select(dims.wAb, dims.wAp, net == 1u) + u.r] = max(acc + params[b1 + kk], 0.0);
}

// (E, ny): μ (tanh for Ising), s = log P before the clip, P = exp(clip(s)).
@compute @workgroup_size(64)
fn outputs(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) local: u32) {
  let g = flat(wg, nwg, local);
  if (g >= dims.examples * dims.ny) { return; }
  let e = g / dims.ny;
  let i = g % dims.ny;
  var ob = 0.0;
  var op = 0.0;
  for (var kk = 0u; kk < dims.width; kk++) {
    ob = fma(params[dims.t2 + i * dims.width + kk], work[dims.wAb + e * dims.width + kk], ob);
    op = fma(params[dims.t6 + i * dims.width + kk], work[dims.wAp + e * dims.width + kk], op);
  }
  ob = ob + params[dims.t3 + i];
  op = op + params[dims.t7 + i];
  work[dims.wMu + g] = select(ob, tanh_safe(ob), dims.ising == 1u);
  work[dims.wS + g] = op;
  work[dims.wP + g] = exp(clamp(op, dims.lo, dims.hi));
}

// (E, ny·nh): W(x) = (Ww x + bw) / √ny, row-major (ny, nh) per example, and its transpose (nh, ny): the chain
// reads W by columns for Wᵀd and by rows for W h, each coalesced (consecutive threads, consecutive addresses).
@compute @workgroup_size(64)
fn weights(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) local: u32) {
  let g = flat(wg, nwg, local);
  let per = dims.ny * dims.nh;
  if (g >= dims.examples * per) { return; }
  let e = g / per;
  let r = g % per;
  var acc = 0.0;
  for (var c = 0u; c < dims.nx; c++) {
    acc = fma(params[dims.t8 + r * dims.nx + c], inputs[e * dims.nx + c], acc);
  }
  let w = (acc + params[dims.t9 + r]) / dims.norm;
  work[dims.wW + g] = w;
  work[dims.wWt + e * per + (r % dims.nh) * dims.ny + r / dims.nh] = w;
}

// ---------------------------------------------------------------------------------------------------------
// The chain: one workgroup per example, all k steps in one dispatch
// ---------------------------------------------------------------------------------------------------------

var<workgroup> zpart: array<f32, MAX_HIDDEN>;
var<workgroup> zsum: array<f32, MAX_HIDDEN>;
var<workgroup> hid: array<f32, MAX_HIDDEN>;
var<workgroup> red: array<f32, CHAIN_THREADS>;

// zsum = Wᵀ v for v = work[src + e·ny ..]: each thread sums a residue class of rows for one j, then the classes
// are added in order. Ends with a barrier.
fn z_pass(e: u32, src: u32, lid: u32) {
  let slices = max(1u, CHAIN_THREADS / dims.nh);
  let wbase = dims.wW + e * dims.ny * dims.nh;
  let vbase = src + e * dims.ny;
  for (var q = lid; q < dims.nh * slices; q += CHAIN_THREADS) {
    let j = q % dims.nh;
    let s = q / dims.nh;
    var acc = 0.0;
    for (var i = s; i < dims.ny; i += slices) {
      acc = fma(work[wbase + i * dims.nh + j], work[vbase + i], acc);
    }
    zpart[q] = acc;
  }
  workgroupBarrier();
  for (var j = lid; j < dims.nh; j += CHAIN_THREADS) {
    var z = 0.0;
    for (var s = 0u; s < slices; s++) { z += zpart[s * dims.nh + j]; }
    zsum[j] = z;
  }
  workgroupBarrier();
}

// (W c)_i for c = hid, from the transpose: thread i reads column i of Wᵀ, so a warp's loads are contiguous.
fn field(e: u32, i: u32) -> f32 {
  let base = dims.wWt + e * dims.ny * dims.nh + i;
  var f = 0.0;
  for (var j = 0u; j < dims.nh; j++) { f = fma(work[base + j * dims.ny], hid[j], f); }
  return f;
}

// Σ over the workgroup of each thread's value, in a fixed tree order; every thread gets the total.
fn reduce_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var half = CHAIN_THREADS / 2u; half > 0u; half >>= 1u) {
    if (lid < half) { red[lid] = red[lid] + red[lid + half]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

// ½ Σ_i P_i v_i² − Σ_j logcosh(zsum_j), v = work[src + e·ny ..]; also stores tanh(zsum) at dst.
fn free_energy(e: u32, src: u32, dst: u32, lid: u32) -> f32 {
  var self_e = 0.0;
  for (var i = lid; i < dims.ny; i += CHAIN_THREADS) {
    let v = work[src + e * dims.ny + i];
    self_e = fma(work[dims.wP + e * dims.ny + i] * v, v, self_e);
  }
  var lc = 0.0;
  for (var j = lid; j < dims.nh; j += CHAIN_THREADS) {
    lc += logcosh(zsum[j]);
    work[dst + e * dims.nh + j] = tanh_safe(zsum[j]);
  }
  return 0.5 * reduce_sum(self_e, lid) - reduce_sum(lc, lid);
}

@compute @workgroup_size(CHAIN_THREADS)
fn chain(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let e = wg.y * nwg.x + wg.x; // uniform across the workgroup: every barrier below is reached by all
  if (e >= dims.examples) { return; }
  let ny = dims.ny;
  let nh = dims.nh;
  let vb = e * ny;
  let index = indices[e];
  let train = dims.mode == ${0}u;

  var fData = 0.0;
  if (train) {
    for (var i = lid; i < ny; i += CHAIN_THREADS) {
      work[dims.wD + vb + i] = inputs[dims.inY + vb + i] - work[dims.wMu + vb + i];
    }
    storageBarrier();
    workgroupBarrier();
    z_pass(e, dims.wD, lid);
    fData = free_energy(e, dims.wD, dims.wT, lid);
  }

  // from y = μ: d̃ = 0, so the first hidden field is 0
  for (var j = lid; j < nh; j += CHAIN_THREADS) { zsum[j] = 0.0; }
  workgroupBarrier();
  for (var t = 0u; t < dims.k; t++) {
    for (var j = lid; j < nh; j += CHAIN_THREADS) {
      let u = nbm_draw_block(dims.seed, dims.hiddenStream, dims.step, index, t, j / 4u)[j % 4u];
      hid[j] = nbm_spin(u, sigmoid(2.0 * zsum[j]));
    }
    workgroupBarrier();
    for (var i = lid; i < ny; i += CHAIN_THREADS) {
      let bits = nbm_draw_block(dims.seed, dims.visibleStream, dims.step, index, t, i / 4u);
      let mu = work[dims.wMu + vb + i];
      let P = work[dims.wP + vb + i];
      let f = field(e, i);
      var y: f32;
      if (dims.ising == 1u) {
        y = nbm_spin(bits[i % 4u], sigmoid(2.0 * fma(P, mu, f)));
      } else {
        // Box–Muller on the pair (2m, 2m + 1) = lanes (i & 2, (i & 2) + 1), as @nbm/random's fillNormal pairs them
        let lane = i % 4u;
        let r = sqrt(-2.0 * log(nbm_open_unit(bits[lane & 2u])));
        let theta = 6.283185307179586 * nbm_unit(bits[(lane & 2u) + 1u]);
        let eps = select(r * sin(theta), r * cos(theta), (lane & 1u) == 0u);
        y = mu + f / P + eps * inverseSqrt(P);
      }
      work[dims.wY + vb + i] = y;
      work[dims.wDm + vb + i] = y - mu;
    }
    storageBarrier();
    workgroupBarrier();
    z_pass(e, dims.wDm, lid);
  }

  if (!train) {
    if (dims.mode == ${2}u) {
      for (var i = lid; i < ny; i += CHAIN_THREADS) {
        let mu = work[dims.wMu + vb + i];
        let P = work[dims.wP + vb + i];
        let f = field(e, i);
        work[dims.wY + vb + i] = select(mu + f / P, tanh_safe(sigmoid(2.0 * fma(P, mu, f))), dims.ising == 1u);
      }
    }
    return;
  }

  let fModel = free_energy(e, dims.wDm, dims.wTm, lid);
  storageBarrier();
  workgroupBarrier();
  for (var j = lid; j < nh; j += CHAIN_THREADS) {
    hid[j] = work[dims.wT + e * nh + j] - work[dims.wTm + e * nh + j];
  }
  workgroupBarrier();
  var s = array<f32, 9>();
  for (var i = lid; i < ny; i += CHAIN_THREADS) {
    let P = work[dims.wP + vb + i];
    let mu = work[dims.wMu + vb + i];
    let d = work[dims.wD + vb + i];
    let dm = work[dims.wDm + vb + i];
    var gmu = field(e, i) - P * (d - dm);
    if (dims.ising == 1u) { gmu = gmu * (1.0 - mu * mu); }
    work[dims.wGob + vb + i] = gmu;
    let sp = work[dims.wS + vb + i];
    let inside = sp >= dims.lo && sp <= dims.hi;
    work[dims.wGop + vb + i] = select(0.0, 0.5 * P * (d * d - dm * dm), inside);
    let y = inputs[dims.inY + vb + i];
    let v = 1.0 / P;
    let yy = y * y;
    s[0] += d * d;
    s[1] += y;
    s[2] += yy;
    s[3] += yy * y;
    s[4] += yy * yy;
    s[5] += v;
    s[6] += v * y;
    s[7] += v * yy;
    s[8] += v * v;
  }
  let base = dims.wStats + e * STATS;
  if (lid == 0u) {
    work[base] = fData;
    work[base + 1u] = fModel;
  }
  for (var q = 0u; q < 9u; q++) {
    let total = reduce_sum(s[q], lid);
    if (lid == 0u) { work[base + 2u + q] = total; }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Backward: hidden-layer gradients per example, then every parameter's gradient summed per block
// ---------------------------------------------------------------------------------------------------------

// (2, E, width): ga = (W2ᵀ go) ∘ [a > 0] of the bias net (0) and the precision net (1).
@compute @workgroup_size(64)
fn hidden_grads(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) local: u32) {
  let g = flat(wg, nwg, local);
  if (g >= 2u * dims.examples * dims.width) { return; }
  let u = hidden_unit(g);
  let w2 = select(dims.t2, dims.t6, u.net == 1u);
  let go = select(dims.wGob, dims.wGop, u.net == 1u);
  var acc = 0.0;
  for (var i = 0u; i < dims.ny; i++) {
    acc = fma(params[w2 + i * dims.width + u.kk], work[go + u.e * dims.ny + i], acc);
  }
  let a = work[select(dims.wAb, dims.wAp, u.net == 1u) + u.r];
  work[select(dims.wGab, dims.wGap, u.net == 1u) + u.r] = select(0.0, acc, a > 0.0);
}

// The tensor that flat parameter element p belongs to.
fn tensor_of(p: u32) -> u32 {
  var t = 0u;
  for (var q = 1u; q < 10u; q++) {
    if (p >= tensor_offset(q)) { t = q; }
  }
  return t;
}

// (nb, total): the block's sum over its examples (in order) of each parameter's gradient.
@compute @workgroup_size(64)
fn block_grads(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) local: u32) {
  let g = flat(wg, nwg, local);
  if (g >= dims.blocks * dims.total) { return; }
  let b = g / dims.total;
  let p = g % dims.total;
  let t = tensor_of(p);
  let q = p - tensor_offset(t);
  let first = indices[dims.inBlocks + b];
  let last = indices[dims.inBlocks + b + 1u];
  let nx = dims.nx;
  let ny = dims.ny;
  let width = dims.width;
  var acc = 0.0;
  switch t {
    case 0u, 4u: { // first-layer weight (width, nx)
      let ga = select(dims.wGab, dims.wGap, t == 4u);
      for (var e = first; e < last; e++) { acc = fma(work[ga + e * width + q / nx], inputs[e * nx + q % nx], acc); }
    }
    case 1u, 5u: { // first-layer bias (width)
      let ga = select(dims.wGab, dims.wGap, t == 5u);
      for (var e = first; e < last; e++) { acc += work[ga + e * width + q]; }
    }
    case 2u, 6u: { // second-layer weight (ny, width)
      let go = select(dims.wGob, dims.wGop, t == 6u);
      let a = select(dims.wAb, dims.wAp, t == 6u);
      for (var e = first; e < last; e++) { acc = fma(work[go + e * ny + q / width], work[a + e * width + q % width], acc); }
    }
    case 3u, 7u: { // second-layer bias (ny)
      let go = select(dims.wGob, dims.wGop, t == 7u);
      for (var e = first; e < last; e++) { acc += work[go + e * ny + q]; }
    }
    case 8u: { // weights net weight (ny·nh, nx): Σ_e (−d_i t_j + d̃_i t̃_j) x_c, then ÷ √ny
      let r = q / nx;
      let c = q % nx;
      let i = r / dims.nh;
      let j = r % dims.nh;
      for (var e = first; e < last; e++) {
        let gw = fma(work[dims.wDm + e * ny + i], work[dims.wTm + e * dims.nh + j], -work[dims.wD + e * ny + i] * work[dims.wT + e * dims.nh + j]);
        acc = fma(gw, inputs[e * nx + c], acc);
      }
      acc = acc / dims.norm;
    }
    default: { // weights net bias (ny·nh)
      let i = q / dims.nh;
      let j = q % dims.nh;
      for (var e = first; e < last; e++) {
        acc += fma(work[dims.wDm + e * ny + i], work[dims.wTm + e * dims.nh + j], -work[dims.wD + e * ny + i] * work[dims.wT + e * dims.nh + j]);
      }
      acc = acc / dims.norm;
    }
  }
  grads[(dims.blockBase + b) * dims.total + p] = acc;
}

// ---------------------------------------------------------------------------------------------------------
// Reductions over the blocks
// ---------------------------------------------------------------------------------------------------------

var<workgroup> redu: array<u32, CHAIN_THREADS>;

// One workgroup per tensor: the largest |g| over all blocks, as f32 bits. On the bits, so that no compiler
// assumption about NaN can interfere: |g|'s bits order like |g|, and a NaN (bits past +Inf's) counts as +Inf.
@compute @workgroup_size(CHAIN_THREADS)
fn max_abs(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wg.x;
  let start = tensor_offset(t);
  let n = tensor_offset(t + 1u) - start;
  var m = 0u;
  for (var b = 0u; b < dims.allBlocks; b++) {
    for (var q = lid; q < n; q += CHAIN_THREADS) {
      m = max(m, min(bitcast<u32>(grads[b * dims.total + start + q]) & 0x7fffffffu, 0x7f800000u));
    }
  }
  redu[lid] = m;
  workgroupBarrier();
  for (var half = CHAIN_THREADS / 2u; half > 0u; half >>= 1u) {
    if (lid < half) { redu[lid] = max(redu[lid], redu[lid + half]); }
    workgroupBarrier();
  }
  if (lid == 0u) { work[dims.wMax + t] = bitcast<f32>(redu[0]); }
}

// 2^e for e in [−126, 127], exactly.
fn pow2(e: i32) -> f32 {
  return bitcast<f32>(u32(e + 127) << 23u);
}

// Math.round(g · 2^e) (halves toward +∞) as a 64-bit two's complement (lo, hi). The exponent keeps |g · 2^e| below
// 2^46 (@nbm/collective's chooseExponent), so g · 2^e is exact in f32 (a power-of-two scaling, in two halves to
// stay inside f32's exponent range), and so are floor, the fraction and the split at 2^32.
fn to_fixed(g: f32, e: i32) -> vec2<u32> {
  let h = e / 2;
  let v = (g * pow2(h)) * pow2(e - h);
  let r = floor(v);
  let q = r + select(0.0, 1.0, v - r >= 0.5);
  let a = abs(q);
  let hi = floor(a * 0x1p-32f);
  var lo = u32(a - hi * 0x1p32f);
  var hu = u32(hi);
  if (q < 0.0) { // negate: ~x + 1 across the two words
    lo = ~lo + 1u;
    hu = ~hu + select(0u, 1u, lo == 0u);
  }
  return vec2<u32>(lo, hu);
}

fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

// (total): Σ over blocks of round(g · 2^e[t]), exact in 64 bits.
@compute @workgroup_size(64)
fn fixed_sum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) local: u32) {
  let p = flat(wg, nwg, local);
  if (p >= dims.total) { return; }
  let e = bitcast<i32>(indices[dims.inExp + tensor_of(p)]);
  var acc = vec2<u32>(0u, 0u);
  for (var b = 0u; b < dims.allBlocks; b++) { acc = add64(acc, to_fixed(grads[b * dims.total + p], e)); }
  fixed[p] = acc;
}

// (total): the float32 sum over blocks in block order (\`--reduce fast\`), written over block 0's sums.
@compute @workgroup_size(64)
fn float_sum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) local: u32) {
  let p = flat(wg, nwg, local);
  if (p >= dims.total) { return; }
  var acc = 0.0;
  for (var b = 0u; b < dims.allBlocks; b++) { acc += grads[b * dims.total + p]; }
  grads[p] = acc;
}
`;

/** Entry points of {@link STEP_WGSL}. */
export const STEP_ENTRY_POINTS = ['hidden_layers', 'outputs', 'weights', 'chain', 'hidden_grads', 'block_grads', 'max_abs', 'fixed_sum', 'float_sum'] as const;
export type StepEntryPoint = (typeof STEP_ENTRY_POINTS)[number];
