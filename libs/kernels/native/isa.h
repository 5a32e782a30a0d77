// The contract between the N-API glue (addon.cc, compiled for the baseline ISA) and the kernels (kernel.inc,
// compiled once per instruction-set tier: avx512, avx2, generic). Only plain structs and function pointers
// cross this line, so no inline function or template is shared between translation units built with different
// -m flags (a shared one could be merged by the linker into its AVX-512 copy and crash an older CPU).
#ifndef NBM_KERNELS_ISA_H
#define NBM_KERNELS_ISA_H

#include <cstddef>
#include <cstdint>

namespace nbm {

/** Lanes of one vector in every tier: the kernels are written for 16 floats; narrower hardware splits them. */
constexpr int kLanes = 16;

/** Largest magnitude of a fixed-point value or partial sum, 2^47 − 1: @nbm/collective's FIXED_MAX. */
constexpr double kFixedMax = 140737488355327.0;

/** Visible rows per work item of a fold (KernelOps::foldRows): their sums stay in L1 across the blocks. */
constexpr int kFoldRows = 4;

/** Model sizes and their padded forms (multiples of kLanes). */
struct Dims {
  int nx, ny, nh, width;
  int ising;     // 1: Ising visible units, 0: Gaussian
  int nyp;       // ny rounded up to kLanes
  int nhp;       // nh rounded up to kLanes
  int wp;        // width rounded up to kLanes
  int np;        // panels of W: nyp / kLanes
  int ps;        // floats from one panel to the next (nh·16)
};

/** Doubles of one row's sums in a fold: the weights net's (nx+1)·nhp, both second layers' wp, both biases (16). */
inline size_t foldRowDoubles(const Dims& d) { return (size_t)(d.nx + 1) * d.nhp + 2 * (size_t)d.wp + kLanes; }

/** One two-layer network (bias or precision) with the layouts the kernels read. */
struct Net {
  const float* W1;    // (width, nx) row-major: PyTorch's (out, in)
  const float* b1;    // (width)
  const float* W2;    // (ny, width): unpadded, as given
  const float* W2p;   // (ny, wp): rows padded with zeros, for reading by whole vectors
  const float* W2T;   // (width, nyp): transposed, rows padded with zeros
  const float* b2p;   // (nyp): padded with zeros
};

/**
 * Everything that is the same for all examples of one call.
 * W(x) for example e is in panel layout: panel p (rows 16p..16p+15) is nh vectors of 16 rows, so element
 * (row i, hidden j) sits at (i/16)·ps + j·16 + i%16. Rows past ny are zero.
 */
struct CallCtx {
  Dims d;
  Net bias, prec;
  const float* Ww;               // (ny·nh, nx)
  const float* bw;               // (ny·nh)
  float norm;                    // √ny in float32
  float lo, hi;                  // log-precision clip bounds in float32
  uint32_t seed, step;           // chain key: Philox key (seed, stream), counter (step, example index, Gibbs step, ·)
  uint32_t hiddenStream, visibleStream;
  int k;                         // Gibbs steps (≥ 1)
  float* const* classPanel;      // per class c: (W_c + bw)/√ny in panel layout, or null where no example is class c
  const float* rawPanels;        // nx+1 panels of np·nh·16: Ww[:, c] for c < nx, then bw; null if no dense example
  const int32_t* tidx;           // nh·nx: for output p = j·nx + c of a weights-net gradient row, c·nhp + j
};

/** Per-thread working memory for one example; the glue sizes it with scratchFloats(). */
struct Scratch {
  float* W;      // np·nh·16: W(x) of a dense example
  float* mu;     // nyp
  float* P;      // nyp
  float* invP;   // nyp
  float* isp;    // nyp: 1/√P
  float* pmu;    // nyp: P∘μ (Ising)
  float* op;     // nyp: raw precision-net output (before the clip)
  float* ob;     // nyp: raw bias-net output (before tanh)
  float* rnd;    // nyp: this step's visible noise or uniforms
  float* y;      // nyp: visible state
  float* d;      // nyp: y − μ of the chain
  float* yd;     // nyp: data y, padded
  float* zacc;   // nhp·16: lane-wise partial sums of Wᵀd
  float* z;      // nhp
  float* h;      // nhp: ±1, zero past nh
  float* u;      // nhp: t − t̃
  float* ab;     // wp: pre-activation of the bias net's hidden layer
  float* ap;     // wp: same, precision net
  float* rb;     // wp: activations of the bias net's hidden layer (chain-only calls)
  float* rp;     // wp: same, precision net
  float* S;      // (nx+1)·nhp: per-row accumulators of the weights-net gradient
  float* row;    // wp: one row of a second layer's gradient
  double* fold;  // kFoldRows · foldRowDoubles(d): a fold's sums of its rows over the blocks
  float* rowsum; // nyp: Σ_j W_ij of the example's W
  int* hidx;     // nhp ints: offsets of the listed hidden units (HiddenSet)
  double* tmp;   // nhp doubles
  double* prof;  // null, or seconds spent per part of an example: [networks, positive phase, chain, gradients]
};

/** What the training path keeps of one example for the gradient accumulation (arena memory, padded). */
struct ExampleOut {
  float* d;      // nyp: y − μ (data)
  float* dm;     // nyp: ỹ − μ (model)
  float* go_b;   // nyp: ∂L/∂(bias-net output)
  float* go_p;   // nyp: ∂L/∂(precision-net output)
  float* t;      // nhp: tanh(Wᵀd)
  float* tm;     // nhp: tanh(Wᵀd̃)
  float* rb;     // wp: bias-net hidden activations
  float* rp;     // wp: precision-net hidden activations
  float* gab;    // wp: ∂L/∂(bias-net pre-activation)
  float* gap;    // wp: same, precision net
  double stats[11];  // F data, F model, Σ(y−μ)², Σy, Σy², Σy³, Σy⁴, Σv, Σvy, Σvy², Σv²
  int finite;
  float maxAbs[4];   // max |t|, |t̃|, r_b, r_p (NaN as +∞): what the gradient bounds of a shard scale by
};

/** One example's inputs and where its results go. */
struct ExampleJob {
  const float* x;        // nx
  const float* y;        // ny data (training) or null (chain only)
  uint32_t g;            // global example index
  int cls;               // one-hot class, or −1 for a dense context
  ExampleOut* out;       // training results, or null
  float* yOut;           // chain only: final (or denoised) y, ny
  int denoise;           // chain only
  int8_t* hTrace;        // optional: k·nh hidden states
  float* yTrace;         // optional: k·ny visible states
};

/** One block's gradient accumulation over rows [i0, i1) of the visible units. */
struct BlockJob {
  int m;
  const ExampleOut* const* ex;   // m examples in block order
  const float* x;                // (m, nx)
  const int* colStart;           // nx+1: the examples with x_c ≠ 0 are colEx[colStart[c] .. colStart[c+1])
  const int* colEx;              //       in block order,
  const float* colX;             //       with their x_c
  float* g[10];                  // gradient arrays in parameterSpecs order
};

/** The kernels of one instruction-set tier. */
struct KernelOps {
  const char* name;
  void (*fillBits)(uint32_t* out, size_t n, uint32_t seed, uint32_t stream, uint32_t a, uint32_t b, uint32_t c);
  void (*fillUniform)(float* out, size_t n, uint32_t seed, uint32_t stream, uint32_t a, uint32_t b, uint32_t c);
  void (*fillNormal)(float* out, size_t n, uint32_t seed, uint32_t stream, uint32_t a, uint32_t b, uint32_t c);
  /** fillNormal, listing in `ties` (capacity n) the indices near a float32 rounding boundary; returns their count */
  size_t (*fillNormalTies)(float* out, size_t n, uint32_t seed, uint32_t stream, uint32_t a, uint32_t b, uint32_t c,
                           uint32_t* ties);
  /** Builds panels p0..p1 of every listed class panel and (if rawPanels) of the raw panels. */
  void (*buildPanels)(const CallCtx* c, const int* classes, int nclasses, float* rawPanels, int p0, int p1,
                      Scratch* s);
  /**
   * Runs n = 1 or 2 examples (two only if they share W(x): one-hot, same class; each in its own scratch):
   * networks, chain, and (training) energies, gradients and statistics.
   */
  void (*examples)(const CallCtx* c, const ExampleJob* const* job, Scratch* const* s, int n);
  /**
   * Accumulates one block's gradients for visible rows [i0, i1); returns 0 if any value is not finite. maxAbs[t]:
   * the largest |g| it wrote into tensor t (NaN as +∞; tensors it does not write are left alone).
   */
  int (*blockRows)(const CallCtx* c, const BlockJob* b, Scratch* s, int i0, int i1, float maxAbs[10]);
  /** The first layers' gradients of one block; returns 0 if any value is not finite. maxAbs as blockRows. */
  int (*blockFirstLayers)(const CallCtx* c, const BlockJob* b, float maxAbs[10]);
  /**
   * Upper bounds (to float rounding) on |g| of tensors 2, 3, 6, 7, 8, 9 of one block, from its examples alone
   * (written into bound[t]; NaN anywhere gives +∞). What a shard's exponents are chosen from before its rows are
   * summed (see kernel.inc).
   */
  void (*blockBounds)(const CallCtx* c, const BlockJob* b, float bound[10]);
  /**
   * Rows [i0, i1) (at most kFoldRows) of tensors 2, 3, 6, 7, 8, 9 summed over nb blocks without writing any
   * block's gradient: with scale (10 powers of two), Σ_b round(g·scale[t]) into the double arrays out[t] (each
   * the whole tensor); without, the float32 sum in block order into the float arrays out[t]. Every element gets
   * what blockRows' arrays reduced by redFixed (or redFloat) would hold. Returns −1, or (fixed point) the first
   * row where a gradient is not finite or beyond what the scale allows for nb blocks.
   */
  int (*foldRows)(const CallCtx* c, const BlockJob* blocks, int nb, Scratch* s, int i0, int i1, const double* scale,
                  void* const* out);
  /** AdamW on n elements in place (see kernel.inc for the constants k[7]). */
  void (*adamw)(float* p, const float* g, float* m, float* v, size_t n, const float* k);
  /** Block reductions on n elements (see kernel.inc); the size_t results are the first bad index, or n. */
  double (*redMaxAbs)(const float* g, size_t n, double m);
  size_t (*redFixed)(const float* const* g, int nb, size_t n, double scale, double* dst, int* badBlock);
  size_t (*redFromFixed)(const double* s, size_t n, double inv, double scale, float* out);
  void (*redFloat)(const float* g, size_t n, float* dst);
  void (*redFromFloat)(const float* s, size_t n, double examples, float* out);
  /** @nbm/collective's fixed-point wire (6 bytes a value): pack, unpack, and add into dst (0 if any overflowed). */
  void (*packFixed)(const double* src, size_t n, uint8_t* dst);
  void (*unpackFixed)(const uint8_t* src, size_t n, double* dst);
  int (*addPacked)(double* dst, const uint8_t* src, size_t n);
};

namespace isa_avx512 { extern const KernelOps ops; }
namespace isa_avx2 { extern const KernelOps ops; }
namespace isa_generic { extern const KernelOps ops; }

}  // namespace nbm

#endif
