// N-API glue of the nbm kernels: argument checking, memory, the thread pool and the choice of instruction-set
// tier. The math is in kernel.inc. Exports (all synchronous; see src/addon.ts for the typed view):
//   info()                                   → { tiers: string[] }   (best first)
//   draw(kind, seed, stream, a, b, c, n, tier) → Uint32Array | Float32Array   kind: 'bits' | 'uniform' | 'normal'
//   chain(args)                              → { y, hTrace?, yTrace? }
//   blockGradients(args)                     → [{ grads: Float32Array[10], stats, maxAbs: Float64Array(10) }]
//   adamw(p, g, m, v, k, threads, tier)      → undefined (p, m, v updated in place)
//   reduce(kind, …)                          → block reductions of @nbm/train (see Reduce)
#include <node_api.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "isa.h"
#include "pool.h"

namespace nbm {
namespace {

// ---------------------------------------------------------------------------------------------------------
// Errors and N-API helpers
// ---------------------------------------------------------------------------------------------------------

/** An error for JavaScript: a RangeError or TypeError with a message that names the argument. */
struct ArgError {
  bool range;
  std::string message;
};

[[noreturn]] void typeError(const std::string& m) { throw ArgError{false, m}; }
[[noreturn]] void rangeError(const std::string& m) { throw ArgError{true, m}; }

void check(napi_env env, napi_status s, const char* what) {
  if (s != napi_ok) {
    const napi_extended_error_info* info = nullptr;
    napi_get_last_error_info(env, &info);
    throw std::runtime_error(std::string("N-API call failed (") + what +
                             "): " + (info && info->error_message ? info->error_message : "unknown"));
  }
}

napi_value prop(napi_env env, napi_value obj, const char* name) {
  napi_value v;
  check(env, napi_get_named_property(env, obj, name, &v), name);
  return v;
}

napi_valuetype typeOf(napi_env env, napi_value v) {
  napi_valuetype t;
  check(env, napi_typeof(env, v, &t), "typeof");
  return t;
}

double number(napi_env env, napi_value v, const std::string& name) {
  if (typeOf(env, v) != napi_number) typeError(name + " must be a number");
  double d;
  check(env, napi_get_value_double(env, v, &d), "number");
  return d;
}

uint32_t u32(napi_env env, napi_value v, const std::string& name) {
  double d = number(env, v, name);
  if (!(d >= 0 && d <= 4294967295.0 && std::floor(d) == d))
    rangeError(name + " must be an integer in [0, 4294967295], got " + std::to_string(d));
  return static_cast<uint32_t>(d);
}

int positiveInt(napi_env env, napi_value v, const std::string& name, int max = 1 << 30) {
  double d = number(env, v, name);
  if (!(d >= 1 && d <= max && std::floor(d) == d))
    rangeError(name + " must be an integer in [1, " + std::to_string(max) + "], got " + std::to_string(d));
  return static_cast<int>(d);
}

bool boolean(napi_env env, napi_value v, const std::string& name) {
  napi_valuetype t = typeOf(env, v);
  if (t == napi_undefined) return false;
  if (t != napi_boolean) typeError(name + " must be a boolean");
  bool b;
  check(env, napi_get_value_bool(env, v, &b), "bool");
  return b;
}

std::string str(napi_env env, napi_value v, const std::string& name) {
  if (typeOf(env, v) != napi_string) typeError(name + " must be a string");
  size_t len;
  check(env, napi_get_value_string_utf8(env, v, nullptr, 0, &len), "string");
  std::string s(len, '\0');
  check(env, napi_get_value_string_utf8(env, v, &s[0], len + 1, &len), "string");
  return s;
}

const char* typedArrayName(napi_typedarray_type type) {
  return type == napi_float32_array   ? "Float32Array"
         : type == napi_float64_array ? "Float64Array"
         : type == napi_int32_array   ? "Int32Array"
         : type == napi_uint8_array   ? "Uint8Array"
                                      : "Uint32Array";
}

template <typename T>
T* typedArray(napi_env env, napi_value v, napi_typedarray_type want, size_t length, const std::string& name) {
  bool is;
  check(env, napi_is_typedarray(env, v, &is), "is_typedarray");
  const char* wantName = typedArrayName(want);
  if (!is) typeError(name + " must be a " + wantName);
  napi_typedarray_type type;
  size_t len;
  void* data;
  check(env, napi_get_typedarray_info(env, v, &type, &len, &data, nullptr, nullptr), "typedarray_info");
  if (type != want) typeError(name + " must be a " + wantName);
  if (len != length)
    rangeError(name + " must have " + std::to_string(length) + " elements, got " + std::to_string(len));
  return static_cast<T*>(data);
}

/** A typed array of `want` of whatever length it has (written to *n). */
template <typename T>
T* typedArrayOfAnyLength(napi_env env, napi_value v, napi_typedarray_type want, const std::string& name, size_t* n) {
  bool is;
  napi_typedarray_type type;
  check(env, napi_is_typedarray(env, v, &is), "is_typedarray");
  if (!is) typeError(name + " must be a " + typedArrayName(want));
  check(env, napi_get_typedarray_info(env, v, &type, n, nullptr, nullptr, nullptr), "info");
  return typedArray<T>(env, v, want, *n, name);
}

template <typename T>
napi_value newTypedArray(napi_env env, napi_typedarray_type type, size_t n, T** data) {
  napi_value buf, arr;
  void* raw;
  check(env, napi_create_arraybuffer(env, n * sizeof(T), &raw, &buf), "create_arraybuffer");
  check(env, napi_create_typedarray(env, type, n, buf, 0, &arr), "create_typedarray");
  *data = static_cast<T*>(raw);
  return arr;
}

/** `v` as the result array of n elements when the caller passed one (written in place), else a new one. */
template <typename T>
napi_value outputArray(napi_env env, napi_value v, napi_typedarray_type type, size_t n, const char* name, T** data) {
  if (typeOf(env, v) == napi_undefined) return newTypedArray(env, type, n, data);
  *data = typedArray<T>(env, v, type, n, name);
  return v;
}

napi_value num(napi_env env, double d) {
  napi_value v;
  check(env, napi_create_double(env, d, &v), "create_double");
  return v;
}

void setProp(napi_env env, napi_value obj, const char* name, napi_value v) {
  check(env, napi_set_named_property(env, obj, name, v), name);
}

// ---------------------------------------------------------------------------------------------------------
// Tiers
// ---------------------------------------------------------------------------------------------------------

std::vector<const KernelOps*> availableTiers() {
  std::vector<const KernelOps*> t;
#if defined(NBM_X86_TIERS)
  __builtin_cpu_init();
  const bool fma = __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2");
  if (fma && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    t.push_back(&isa_avx512::ops);
  if (fma) t.push_back(&isa_avx2::ops);
#endif
  t.push_back(&isa_generic::ops);
  return t;
}

const KernelOps* tierByName(napi_env env, napi_value v) {
  static const std::vector<const KernelOps*> tiers = availableTiers();
  if (typeOf(env, v) == napi_undefined) return tiers[0];
  std::string name = str(env, v, "tier");
  for (const KernelOps* t : tiers)
    if (name == t->name) return t;
  std::string names;
  for (const KernelOps* t : tiers) names += (names.empty() ? "" : ", ") + std::string(t->name);
  rangeError("tier '" + name + "' is not available on this CPU (available: " + names + ")");
}

// ---------------------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------------------

/** A growable buffer of floats aligned to 64 bytes, kept between calls so pages are not faulted in again. */
class Buffer {
 public:
  ~Buffer() { std::free(data_); }
  float* get(size_t n) {
    if (n > cap_) {
      std::free(data_);
      const size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data_) {
        cap_ = 0;
        throw std::bad_alloc();
      }
      cap_ = n;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t cap_ = 0;
};

/** Hands out 64-byte-aligned pieces of a buffer (sizes in floats). */
struct Carver {
  float* base;
  size_t used = 0;
  float* take(size_t n) {
    float* p = base ? base + used : nullptr;
    used += (n + 15) & ~size_t(15);
    return p;
  }
};

/** A call's blocks of examples: the inputs as read, each example's results, and the per-block jobs. */
struct BlockSet {
  struct Block {
    int m;
    const float* x;
    const float* y;
    const uint32_t* index;
    int first;  // index of its first example in the call
  };
  std::vector<Block> blocks;
  std::vector<int> cls;  // each example's one-hot class, or −1
  std::vector<ExampleOut> outs;
  std::vector<ExampleJob> jobs;
  std::vector<BlockJob> bjobs;
  std::vector<std::vector<const ExampleOut*>> exPtrs;
  std::vector<std::vector<int>> colStart, colEx;
  std::vector<std::vector<float>> colX;
  int total = 0;
};

/**
 * The examples of the last shardBegin, kept for its shardSum calls: the context the rows need (sizes, √ny,
 * the transposition), the per-example results (in `results`) and each block's first layers (in `first`).
 */
struct Shard {
  uint64_t token = 0;  // 0: none
  CallCtx ctx;         // only d, norm and tidx are set
  std::vector<int32_t> tidx;
  BlockSet set;
  std::vector<float> first;  // per block, tensors 0, 1, 4, 5 one after the other
};

/** Per-environment state: the pool and the buffers reused from call to call. */
struct Instance {
  Pool pool;
  Buffer arena;
  Buffer results;  // the shard's per-example results
  std::vector<std::unique_ptr<Buffer>> scratch;
  Shard shard;
  uint64_t lastToken = 0;
};

Instance* instance(napi_env env) {
  void* data = nullptr;
  check(env, napi_get_instance_data(env, &data), "get_instance_data");
  return static_cast<Instance*>(data);
}

size_t layoutScratch(const Dims& d, Scratch* s, float* base) {
  Carver c{base};
  s->W = c.take((size_t)d.np * d.ps);
  float** ny[] = {&s->mu, &s->P, &s->invP, &s->isp, &s->pmu, &s->op, &s->ob, &s->rnd, &s->y, &s->d, &s->yd};
  for (float** p : ny) *p = c.take(d.nyp);
  s->zacc = c.take((size_t)d.nhp * 16);
  s->z = c.take(d.nhp);
  s->h = c.take(d.nhp);
  s->u = c.take(d.nhp);
  s->ab = c.take(d.wp);
  s->ap = c.take(d.wp);
  s->rb = c.take(d.wp);
  s->rp = c.take(d.wp);
  s->S = c.take((size_t)(d.nx + 1) * d.nhp);
  s->row = c.take(d.wp);
  s->fold = reinterpret_cast<double*>(c.take(2 * kFoldRows * foldRowDoubles(d)));
  s->rowsum = c.take(d.nyp);
  s->hidx = reinterpret_cast<int*>(c.take(d.nhp));
  s->tmp = reinterpret_cast<double*>(c.take((size_t)d.nhp * 2));
  s->prof = nullptr;
  return c.used;
}

/** Two scratches per thread (thread t owns 2t and 2t + 1: a pair of examples runs in both). */
std::vector<Scratch> scratchFor(Instance* inst, const Dims& d, int threads) {
  const int count = 2 * threads;
  while ((int)inst->scratch.size() < count) inst->scratch.emplace_back(new Buffer());
  std::vector<Scratch> out(count);
  const size_t n = layoutScratch(d, &out[0], nullptr);
  for (int t = 0; t < count; t++) {
    float* base = inst->scratch[t]->get(n);
    std::memset(base, 0, n * sizeof(float));
    layoutScratch(d, &out[t], base);
  }
  return out;
}

/**
 * Work units of one call: examples with the same one-hot class are paired (their chains share W(x) and run
 * together), the rest run alone. Which examples share a unit changes no result, only the speed.
 */
std::vector<std::pair<int, int>> workUnits(const std::vector<int>& cls, int nx) {
  std::vector<std::pair<int, int>> units;
  std::vector<std::vector<int>> byClass(nx);
  for (int e = 0; e < (int)cls.size(); e++) {
    if (cls[e] >= 0)
      byClass[cls[e]].push_back(e);
    else
      units.emplace_back(e, -1);
  }
  for (const std::vector<int>& list : byClass)
    for (size_t q = 0; q < list.size(); q += 2) units.emplace_back(list[q], q + 1 < list.size() ? list[q + 1] : -1);
  return units;
}

/** Runs every example of the call, in units of one or two, on `threads` threads. */
void runExamples(Instance* inst, const KernelOps* ops, const CallCtx& c, const std::vector<ExampleJob>& jobs,
                 const std::vector<int>& cls, std::vector<Scratch>& s, int threads) {
  const std::vector<std::pair<int, int>> units = workUnits(cls, c.d.nx);
  parallelFor(inst->pool, threads, (int)units.size(), [&](int u, int tid) {
    const ExampleJob* j[2] = {&jobs[units[u].first], units[u].second >= 0 ? &jobs[units[u].second] : nullptr};
    Scratch* sc[2] = {&s[2 * tid], &s[2 * tid + 1]};
    ops->examples(&c, j, sc, units[u].second >= 0 ? 2 : 1);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Model arguments
// ---------------------------------------------------------------------------------------------------------

int roundUp16(int n) { return (n + 15) & ~15; }

/** The sizes of the 10 parameter tensors (and so of their gradients), in parameterSpecs order. */
std::array<size_t, 10> tensorSizes(const Dims& d) {
  return {(size_t)d.width * d.nx, (size_t)d.width, (size_t)d.ny * d.width, (size_t)d.ny,
          (size_t)d.width * d.nx, (size_t)d.width, (size_t)d.ny * d.width, (size_t)d.ny,
          (size_t)d.ny * d.nh * d.nx, (size_t)d.ny * d.nh};
}

/** The call's model: sizes, parameters and their padded copies. */
struct Model {
  Dims d;
  const float* p[10];
  std::vector<float> padded;   // W2p, W2T, b2p of both nets
  std::vector<int32_t> tidx;   // see CallCtx::tidx
  CallCtx ctx;
};

void readModel(napi_env env, napi_value args, Model& m) {
  napi_value cfg = prop(env, args, "config");
  if (typeOf(env, cfg) != napi_object) typeError("config must be an object");
  Dims& d = m.d;
  d.nx = positiveInt(env, prop(env, cfg, "nx"), "config.nx", 1 << 20);
  d.ny = positiveInt(env, prop(env, cfg, "ny"), "config.ny", 1 << 24);
  d.nh = positiveInt(env, prop(env, cfg, "nh"), "config.nh", 1 << 16);
  d.width = positiveInt(env, prop(env, cfg, "width"), "config.width", 1 << 16);
  const std::string visible = str(env, prop(env, cfg, "visible"), "config.visible");
  if (visible != "gaussian" && visible != "ising")
    rangeError("config.visible must be 'gaussian' or 'ising', got '" + visible + "'");
  d.ising = visible == "ising";
  if ((double)d.ny * d.nh * d.nx > 4e9) rangeError("config is too large: ny·nh·nx must stay below 4e9");
  if ((double)(d.nx + 1) * (d.nh + 16) > 2e9) rangeError("config is too large: (nx+1)·nh must stay below 2e9");
  d.nyp = roundUp16(d.ny);
  d.nhp = roundUp16(d.nh);
  d.wp = roundUp16(d.width);
  d.np = d.nyp / 16;
  d.ps = d.nh * 16;

  napi_value params = prop(env, args, "params");
  bool isArray;
  check(env, napi_is_array(env, params, &isArray), "is_array");
  if (!isArray) typeError("params must be an array of 10 Float32Array (parameterSpecs order)");
  uint32_t count;
  check(env, napi_get_array_length(env, params, &count), "array_length");
  if (count != 10) rangeError("params must hold 10 arrays (parameterSpecs order), got " + std::to_string(count));
  const std::array<size_t, 10> sizes = tensorSizes(d);
  for (uint32_t i = 0; i < 10; i++) {
    napi_value v;
    check(env, napi_get_element(env, params, i, &v), "get_element");
    m.p[i] = typedArray<float>(env, v, napi_float32_array, sizes[i], "params[" + std::to_string(i) + "]");
  }

  // padded copies of the second layers: W2p (ny, wp), W2T (width, nyp), b2p (nyp), for each net
  const size_t w2p = (size_t)d.ny * d.wp, w2t = (size_t)d.width * d.nyp;
  m.padded.assign(2 * (w2p + w2t + d.nyp), 0.0f);
  Net* nets[2] = {&m.ctx.bias, &m.ctx.prec};
  for (int n = 0; n < 2; n++) {
    const float* W2 = m.p[4 * n + 2];
    const float* b2 = m.p[4 * n + 3];
    float* base = m.padded.data() + n * (w2p + w2t + d.nyp);
    float* W2p = base;
    float* W2T = base + w2p;
    float* b2p = base + w2p + w2t;
    for (int i = 0; i < d.ny; i++)
      for (int k = 0; k < d.width; k++) {
        const float w = W2[(size_t)i * d.width + k];
        W2p[(size_t)i * d.wp + k] = w;
        W2T[(size_t)k * d.nyp + i] = w;
      }
    std::memcpy(b2p, b2, sizeof(float) * d.ny);
    *nets[n] = Net{m.p[4 * n], m.p[4 * n + 1], W2, W2p, W2T, b2p};
  }
  CallCtx& c = m.ctx;
  c.d = d;
  c.Ww = m.p[8];
  c.bw = m.p[9];
  c.norm = static_cast<float>(std::sqrt(static_cast<double>(d.ny)));
  c.lo = static_cast<float>(-6.907755278982137);  // Math.log(1e-3)
  c.hi = static_cast<float>(6.907755278982137);   // Math.log(1e3)
  c.classPanel = nullptr;
  c.rawPanels = nullptr;
  m.tidx.resize((size_t)d.nh * d.nx);
  for (size_t q = 0; q < m.tidx.size(); q++) m.tidx[q] = (int32_t)((q % d.nx) * d.nhp + q / d.nx);
  c.tidx = m.tidx.data();
}

void readKey(napi_env env, napi_value args, CallCtx& c, uint32_t defHidden, uint32_t defVisible) {
  c.seed = u32(env, prop(env, args, "seed"), "seed");
  c.step = u32(env, prop(env, args, "step"), "step");
  c.k = positiveInt(env, prop(env, args, "k"), "k (Gibbs steps)", 1 << 20);
  napi_value hs = prop(env, args, "hiddenStream"), vs = prop(env, args, "visibleStream");
  c.hiddenStream = typeOf(env, hs) == napi_undefined ? defHidden : u32(env, hs, "hiddenStream");
  c.visibleStream = typeOf(env, vs) == napi_undefined ? defVisible : u32(env, vs, "visibleStream");
}

int readThreads(napi_env env, napi_value args) {
  napi_value t = prop(env, args, "threads");
  if (typeOf(env, t) == napi_undefined) return 1;
  return positiveInt(env, t, "threads", 1024);
}

/** The class of a one-hot row (exactly one 1 and the rest 0), else −1. */
int oneHotClass(const float* x, int nx) {
  int cls = -1;
  for (int c = 0; c < nx; c++) {
    if (x[c] == 0.0f && !std::signbit(x[c])) continue;
    if (x[c] != 1.0f || cls >= 0) return -1;
    cls = c;
  }
  return cls;
}

/**
 * Classifies the examples' contexts and builds the panels of W(x) the call needs: one per one-hot class
 * present, and the raw panels (every column of Ww, and bw) if any context is dense.
 */
struct Panels {
  std::vector<float*> classPanel;
  std::vector<int> classes;
  float* raw = nullptr;
};

size_t panelFloats(const Dims& d) { return (size_t)d.np * d.ps; }

void planPanels(const Dims& d, const std::vector<int>& cls, Panels& p, size_t* arenaFloats) {
  std::vector<char> present(d.nx, 0);
  bool dense = false;
  for (int c : cls) {
    if (c >= 0)
      present[c] = 1;
    else
      dense = true;
  }
  p.classes.clear();
  for (int c = 0; c < d.nx; c++)
    if (present[c]) p.classes.push_back(c);
  *arenaFloats += p.classes.size() * panelFloats(d);
  if (dense) *arenaFloats += (size_t)(d.nx + 1) * panelFloats(d);
}

void carvePanels(const Dims& d, const std::vector<int>& cls, Panels& p, Carver& c) {
  p.classPanel.assign(d.nx, nullptr);
  for (int k : p.classes) p.classPanel[k] = c.take(panelFloats(d));
  bool dense = false;
  for (int k : cls) dense |= k < 0;
  p.raw = dense ? c.take((size_t)(d.nx + 1) * panelFloats(d)) : nullptr;
}

void buildPanels(Instance* inst, const KernelOps* ops, const CallCtx& c, Panels& p, std::vector<Scratch>& s,
                 int threads) {
  if (p.classes.empty() && !p.raw) return;
  const int chunk = 4;
  const int items = (c.d.np + chunk - 1) / chunk;
  parallelFor(inst->pool, threads, items, [&](int it, int tid) {
    const int p0 = it * chunk, p1 = p0 + chunk < c.d.np ? p0 + chunk : c.d.np;
    ops->buildPanels(&c, p.classes.data(), (int)p.classes.size(), p.raw, p0, p1, &s[2 * tid]);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Exports
// ---------------------------------------------------------------------------------------------------------

template <typename F>
napi_value guarded(napi_env env, F&& f) {
  try {
    return f();
  } catch (const ArgError& e) {
    if (e.range)
      napi_throw_range_error(env, "ERR_NBM_KERNEL_ARG", e.message.c_str());
    else
      napi_throw_type_error(env, "ERR_NBM_KERNEL_ARG", e.message.c_str());
  } catch (const std::bad_alloc&) {
    napi_throw_error(env, "ERR_NBM_KERNEL_MEMORY", "nbm kernels: out of memory");
  } catch (const std::exception& e) {
    napi_throw_error(env, "ERR_NBM_KERNEL", e.what());
  }
  return nullptr;
}

napi_value args(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  check(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "get_cb_info");
  for (size_t i = argc; i < want; i++) check(env, napi_get_undefined(env, &argv[i]), "undefined");
  return nullptr;
}

/**
 * Plans the examples' weight panels and carves them from the instance's arena, sized for `extraFloats` more that
 * the caller carves after them, and points the call context at the panels. Returns the carver for the rest.
 */
Carver arenaWithPanels(Instance* inst, CallCtx& c, const std::vector<int>& cls, Panels& panels, size_t extraFloats) {
  size_t floats = 16;  // slack for the carver's 64-byte rounding
  planPanels(c.d, cls, panels, &floats);
  Carver carver{inst->arena.get(floats + extraFloats)};
  carvePanels(c.d, cls, panels, carver);
  c.classPanel = panels.classPanel.data();
  c.rawPanels = panels.raw;
  return carver;
}

/** What every model call (chain, blockGradients) reads first from its one argument object. */
struct ModelCall {
  napi_value obj;
  Instance* inst;
  Model m;
  const KernelOps* ops;
  int threads;
  bool forceDense;
};

void readModelCall(napi_env env, napi_callback_info info, const char* name, ModelCall& call) {
  args(env, info, 1, &call.obj);
  if (typeOf(env, call.obj) != napi_object) typeError(std::string(name) + " expects one argument object");
  call.inst = instance(env);
  readModel(env, call.obj, call.m);
  readKey(env, call.obj, call.m.ctx, 6, 7);
  call.ops = tierByName(env, prop(env, call.obj, "tier"));
  call.threads = readThreads(env, call.obj);
  call.forceDense = boolean(env, prop(env, call.obj, "forceDense"), "forceDense");
}

napi_value Info(napi_env env, napi_callback_info) {
  return guarded(env, [&] {
    std::vector<const KernelOps*> t = availableTiers();
    napi_value arr, obj;
    check(env, napi_create_array_with_length(env, t.size(), &arr), "array");
    for (size_t i = 0; i < t.size(); i++) {
      napi_value s;
      check(env, napi_create_string_utf8(env, t[i]->name, NAPI_AUTO_LENGTH, &s), "string");
      check(env, napi_set_element(env, arr, (uint32_t)i, s), "set_element");
    }
    check(env, napi_create_object(env, &obj), "object");
    setProp(env, obj, "tiers", arr);
    return obj;
  });
}

napi_value Draw(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value a[8];
    args(env, info, 8, a);
    const std::string kind = str(env, a[0], "kind");
    const uint32_t seed = u32(env, a[1], "seed"), stream = u32(env, a[2], "stream");
    const uint32_t c0 = u32(env, a[3], "a"), c1 = u32(env, a[4], "b"), c2 = u32(env, a[5], "c");
    const uint32_t n = u32(env, a[6], "n");
    const KernelOps* ops = tierByName(env, a[7]);
    if (kind == "bits") {
      uint32_t* out;
      napi_value r = newTypedArray(env, napi_uint32_array, n, &out);
      ops->fillBits(out, n, seed, stream, c0, c1, c2);
      return r;
    }
    if (kind != "uniform" && kind != "normal") rangeError("kind must be 'bits', 'uniform' or 'normal'");
    float* out;
    napi_value r = newTypedArray(env, napi_float32_array, n, &out);
    (kind == "uniform" ? ops->fillUniform : ops->fillNormal)(out, n, seed, stream, c0, c1, c2);
    return r;
  });
}

/**
 * fill(kind, out, seed, stream, a, b, c, tier): draw() into the caller's array (kind 'uniform' or 'normal', out a
 * Float32Array). For 'normal', returns the indices near a float32 rounding boundary (see fill_normal_ties) as a
 * Uint32Array, or undefined when there are none.
 */
napi_value Fill(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value a[8];
    args(env, info, 8, a);
    const std::string kind = str(env, a[0], "kind");
    if (kind != "uniform" && kind != "normal") rangeError("kind must be 'uniform' or 'normal'");
    size_t n;
    float* out = typedArrayOfAnyLength<float>(env, a[1], napi_float32_array, "out", &n);
    const uint32_t seed = u32(env, a[2], "seed"), stream = u32(env, a[3], "stream");
    const uint32_t c0 = u32(env, a[4], "a"), c1 = u32(env, a[5], "b"), c2 = u32(env, a[6], "c");
    const KernelOps* ops = tierByName(env, a[7]);
    napi_value undefined;
    check(env, napi_get_undefined(env, &undefined), "undefined");
    if (kind == "uniform") {
      ops->fillUniform(out, n, seed, stream, c0, c1, c2);
      return undefined;
    }
    std::vector<uint32_t> ties(n);
    const size_t count = ops->fillNormalTies(out, n, seed, stream, c0, c1, c2, ties.data());
    if (count == 0) return undefined;
    uint32_t* list;
    napi_value result = newTypedArray(env, napi_uint32_array, count, &list);
    std::memcpy(list, ties.data(), count * sizeof(uint32_t));
    return result;
  });
}

/**
 * combine(kind, dst, src): dst[i] += src[i] in place, the ring's sums of @nbm/collective bit for bit.
 * 'sumF32' (Float32Array: one float32 addition, as JavaScript's float64 sum rounded back); 'sumF64'. Fixed point
 * travels packed (see packed). Memory-bound: one thread, no tier.
 */
napi_value Combine(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value a[3];
    args(env, info, 3, a);
    const std::string kind = str(env, a[0], "kind");
    size_t n, m;
    napi_value undefined;
    check(env, napi_get_undefined(env, &undefined), "undefined");
    if (kind == "sumF32") {
      float* d = typedArrayOfAnyLength<float>(env, a[1], napi_float32_array, "dst", &n);
      const float* s = typedArrayOfAnyLength<float>(env, a[2], napi_float32_array, "src", &m);
      if (m != n) rangeError("src has " + std::to_string(m) + " elements, dst " + std::to_string(n));
      for (size_t i = 0; i < n; i++) d[i] += s[i];
      return undefined;
    }
    if (kind != "sumF64") rangeError("kind must be 'sumF32' or 'sumF64'");
    double* d = typedArrayOfAnyLength<double>(env, a[1], napi_float64_array, "dst", &n);
    const double* s = typedArrayOfAnyLength<double>(env, a[2], napi_float64_array, "src", &m);
    if (m != n) rangeError("src has " + std::to_string(m) + " elements, dst " + std::to_string(n));
    for (size_t i = 0; i < n; i++) d[i] += s[i];
    return undefined;
  });
}

/**
 * packed(kind, fixed, bytes, tier): @nbm/collective's fixed-point wire, 6 bytes a value (a 48-bit two's complement
 * integer, little-endian; −2^47 marks an overflowed element), bit for bit. 'pack': bytes ← fixed (a NaN, or a value
 * beyond ±(2^47 − 1), becomes the mark); 'unpack': fixed ← bytes (the mark as NaN); 'add': fixed += bytes, a sum
 * beyond ±(2^47 − 1) or a mark storing NaN, returning true when no element overflowed. One thread.
 */
napi_value Packed(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value a[4];
    args(env, info, 4, a);
    const std::string kind = str(env, a[0], "kind");
    if (kind != "pack" && kind != "unpack" && kind != "add") rangeError("kind must be 'pack', 'unpack' or 'add'");
    size_t n, m;
    double* fixed = typedArrayOfAnyLength<double>(env, a[1], napi_float64_array, "fixed", &n);
    uint8_t* bytes = typedArrayOfAnyLength<uint8_t>(env, a[2], napi_uint8_array, "bytes", &m);
    if (m != n * 6) rangeError(std::to_string(n) + " values need " + std::to_string(n * 6) + " packed bytes, got " + std::to_string(m));
    const KernelOps* ops = tierByName(env, a[3]);
    napi_value r;
    if (kind == "add") {
      check(env, napi_get_boolean(env, ops->addPacked(fixed, bytes, n) != 0, &r), "bool");
      return r;
    }
    if (kind == "pack") ops->packFixed(fixed, n, bytes);
    else ops->unpackFixed(bytes, n, fixed);
    check(env, napi_get_undefined(env, &r), "undefined");
    return r;
  });
}

napi_value Chain(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    ModelCall call;
    readModelCall(env, info, "chain", call);
    const napi_value obj = call.obj;
    Instance* inst = call.inst;
    CallCtx& c = call.m.ctx;
    const Dims& d = call.m.d;
    const KernelOps* ops = call.ops;
    const int threads = call.threads;
    const bool denoise = boolean(env, prop(env, obj, "denoise"), "denoise");
    const bool trace = boolean(env, prop(env, obj, "trace"), "trace");

    napi_value idxV = prop(env, obj, "index");
    bool is;
    check(env, napi_is_typedarray(env, idxV, &is), "is_typedarray");
    if (!is) typeError("index must be a Uint32Array");
    size_t m_;
    napi_typedarray_type type;
    check(env, napi_get_typedarray_info(env, idxV, &type, &m_, nullptr, nullptr, nullptr), "info");
    const int mEx = (int)m_;
    const uint32_t* index = typedArray<uint32_t>(env, idxV, napi_uint32_array, m_, "index");
    const float* x = typedArray<float>(env, prop(env, obj, "x"), napi_float32_array, m_ * d.nx, "x");

    std::vector<int> cls(mEx);
    for (int e = 0; e < mEx; e++) cls[e] = call.forceDense ? -1 : oneHotClass(x + (size_t)e * d.nx, d.nx);
    Panels panels;
    arenaWithPanels(inst, c, cls, panels, 0);

    napi_value result, yArr;
    check(env, napi_create_object(env, &result), "object");
    float* y;
    yArr = newTypedArray(env, napi_float32_array, m_ * d.ny, &y);
    setProp(env, result, "y", yArr);
    int8_t* hTrace = nullptr;
    float* yTrace = nullptr;
    if (trace) {
      setProp(env, result, "hTrace", newTypedArray(env, napi_int8_array, m_ * c.k * d.nh, &hTrace));
      setProp(env, result, "yTrace", newTypedArray(env, napi_float32_array, m_ * c.k * d.ny, &yTrace));
    }

    std::vector<Scratch> s = scratchFor(inst, d, threads);
    buildPanels(inst, ops, c, panels, s, threads);
    std::vector<ExampleJob> jobs(mEx);
    for (int e = 0; e < mEx; e++) {
      ExampleJob& j = jobs[e];
      j.x = x + (size_t)e * d.nx;
      j.y = nullptr;
      j.g = index[e];
      j.cls = cls[e];
      j.out = nullptr;
      j.yOut = y + (size_t)e * d.ny;
      j.denoise = denoise;
      j.hTrace = hTrace ? hTrace + (size_t)e * c.k * d.nh : nullptr;
      j.yTrace = yTrace ? yTrace + (size_t)e * c.k * d.ny : nullptr;
    }
    runExamples(inst, ops, c, jobs, cls, s, threads);
    return result;
  });
}

/** Reads `blocks` (count, x, y, index each) and each example's one-hot class. */
void readBlocks(napi_env env, napi_value obj, const Dims& d, bool forceDense, BlockSet& bs) {
  napi_value blocksV = prop(env, obj, "blocks");
  bool isArray;
  check(env, napi_is_array(env, blocksV, &isArray), "is_array");
  if (!isArray) typeError("blocks must be an array");
  uint32_t nb;
  check(env, napi_get_array_length(env, blocksV, &nb), "array_length");
  bs.blocks.resize(nb);
  bs.total = 0;
  for (uint32_t b = 0; b < nb; b++) {
    napi_value bv;
    check(env, napi_get_element(env, blocksV, b, &bv), "get_element");
    const std::string name = "blocks[" + std::to_string(b) + "]";
    if (typeOf(env, bv) != napi_object) typeError(name + " must be an object");
    const double cnt = number(env, prop(env, bv, "count"), name + ".count");
    if (!(cnt >= 0 && cnt <= (1 << 24) && std::floor(cnt) == cnt))
      rangeError(name + ".count must be an integer in [0, 16777216]");
    BlockSet::Block& B = bs.blocks[b];
    B.m = (int)cnt;
    B.x = typedArray<float>(env, prop(env, bv, "x"), napi_float32_array, (size_t)B.m * d.nx, name + ".x");
    B.y = typedArray<float>(env, prop(env, bv, "y"), napi_float32_array, (size_t)B.m * d.ny, name + ".y");
    B.index = typedArray<uint32_t>(env, prop(env, bv, "index"), napi_uint32_array, B.m, name + ".index");
    B.first = bs.total;
    bs.total += B.m;
  }
  bs.cls.resize(bs.total);
  for (const BlockSet::Block& B : bs.blocks)
    for (int e = 0; e < B.m; e++)
      bs.cls[B.first + e] = forceDense ? -1 : oneHotClass(B.x + (size_t)e * d.nx, d.nx);
}

/** Floats of one example's results (ExampleOut). */
size_t exampleFloats(const Dims& d) { return 4 * (size_t)d.nyp + 2 * (size_t)d.nhp + 4 * (size_t)d.wp; }

/**
 * Carves each example's results from `carver` and sets up its job and each block's (pointers to its examples
 * and its contexts' nonzero entries by column; the gradient arrays are the caller's).
 */
void prepareBlocks(const Dims& d, BlockSet& bs, Carver& carver) {
  bs.outs.assign(bs.total, ExampleOut{});
  bs.jobs.assign(bs.total, ExampleJob{});
  for (const BlockSet::Block& B : bs.blocks)
    for (int e = 0; e < B.m; e++) {
      const int g = B.first + e;
      ExampleOut& o = bs.outs[g];
      o.d = carver.take(d.nyp);
      o.dm = carver.take(d.nyp);
      o.go_b = carver.take(d.nyp);
      o.go_p = carver.take(d.nyp);
      o.t = carver.take(d.nhp);
      o.tm = carver.take(d.nhp);
      o.rb = carver.take(d.wp);
      o.rp = carver.take(d.wp);
      o.gab = carver.take(d.wp);
      o.gap = carver.take(d.wp);
      ExampleJob& j = bs.jobs[g];
      j.x = B.x + (size_t)e * d.nx;
      j.y = B.y + (size_t)e * d.ny;
      j.g = B.index[e];
      j.cls = bs.cls[g];
      j.out = &o;
    }
  const size_t nb = bs.blocks.size();
  bs.bjobs.assign(nb, BlockJob{});
  bs.exPtrs.assign(nb, {});
  bs.colStart.assign(nb, {});
  bs.colEx.assign(nb, {});
  bs.colX.assign(nb, {});
  for (size_t b = 0; b < nb; b++) {
    const BlockSet::Block& B = bs.blocks[b];
    BlockJob& bj = bs.bjobs[b];
    bj.m = B.m;
    bj.x = B.x;
    // the nonzero entries of x by column, examples in block order
    bs.colStart[b].assign(d.nx + 1, 0);
    for (int c = 0; c < d.nx; c++) {
      bs.colStart[b][c] = (int)bs.colEx[b].size();
      for (int e = 0; e < B.m; e++) {
        const float v = B.x[(size_t)e * d.nx + c];
        if (v != 0.0f) {
          bs.colEx[b].push_back(e);
          bs.colX[b].push_back(v);
        }
      }
    }
    bs.colStart[b][d.nx] = (int)bs.colEx[b].size();
    bj.colStart = bs.colStart[b].data();
    bj.colEx = bs.colEx[b].data();
    bj.colX = bs.colX[b].data();
    bs.exPtrs[b].resize(B.m);
    for (int e = 0; e < B.m; e++) bs.exPtrs[b][e] = &bs.outs[B.first + e];
    bj.ex = bs.exPtrs[b].data();
  }
}

const char* const kStatNames[11] = {"freeEnergyData", "freeEnergyModel", "squaredErrorBias", "sumY", "sumY2", "sumY3",
                                    "sumY4", "sumV", "sumVY", "sumVY2", "sumV2"};

/** Block b's statistics object: its examples' sums, `finite` false if the block or any example was not. */
napi_value blockStats(napi_env env, const BlockSet& bs, size_t b, bool finite) {
  const BlockSet::Block& B = bs.blocks[b];
  double st[11] = {0};
  for (int e = 0; e < B.m; e++) {
    const ExampleOut& o = bs.outs[B.first + e];
    for (int q = 0; q < 11; q++) st[q] += o.stats[q];
    finite &= o.finite != 0;
  }
  napi_value stats, fin;
  check(env, napi_create_object(env, &stats), "object");
  for (int q = 0; q < 11; q++) setProp(env, stats, kStatNames[q], num(env, st[q]));
  check(env, napi_get_boolean(env, finite, &fin), "bool");
  setProp(env, stats, "finite", fin);
  return stats;
}

/**
 * A call's optional `profile`, a Float64Array(8) filled with seconds: wall time of [W(x) panels, examples, rows,
 * first layers], then CPU time summed over threads within the examples [networks, positive phase, chain,
 * gradients].
 */
struct Profile {
  double* out = nullptr;
  std::vector<double> perThread;  // 4 parts per thread

  static double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

  void read(napi_env env, napi_value obj) {
    napi_value v = prop(env, obj, "profile");
    if (typeOf(env, v) == napi_undefined) return;
    bool isTa;
    check(env, napi_is_typedarray(env, v, &isTa), "is_typedarray");
    if (!isTa) typeError("profile must be a Float64Array(8)");
    napi_typedarray_type type;
    size_t len;
    void* data;
    check(env, napi_get_typedarray_info(env, v, &type, &len, &data, nullptr, nullptr), "info");
    if (type != napi_float64_array || len != 8) typeError("profile must be a Float64Array(8)");
    out = static_cast<double*>(data);
  }

  /** Points the scratches of each thread (two per thread) at that thread's parts. */
  void attach(std::vector<Scratch>& s, int threads) {
    if (!out) return;
    perThread.assign((size_t)threads * 4, 0.0);
    for (int t = 0; t < 2 * threads; t++) s[t].prof = perThread.data() + 4 * (t / 2);
  }

  void finish(double panels, double examples, double rows, double first) {
    if (!out) return;
    const double wall[4] = {panels, examples, rows, first};
    for (int q = 0; q < 4; q++) out[q] = wall[q], out[4 + q] = 0.0;
    for (size_t t = 0; t < perThread.size(); t += 4)
      for (int q = 0; q < 4; q++) out[4 + q] += perThread[t + q];
  }
};

/** Phase A of a training call: the W(x) panels, then every example (networks, chain, energies, gradients). */
void runTrainingExamples(Instance* inst, const KernelOps* ops, const CallCtx& c, Panels& panels, BlockSet& bs,
                         std::vector<Scratch>& s, int threads, double* t1) {
  buildPanels(inst, ops, c, panels, s, threads);
  *t1 = Profile::now();
  runExamples(inst, ops, c, bs.jobs, bs.cls, s, threads);
}

napi_value BlockGradients(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    ModelCall call;
    readModelCall(env, info, "blockGradients", call);
    const napi_value obj = call.obj;
    Instance* inst = call.inst;
    CallCtx& c = call.m.ctx;
    const Dims& d = call.m.d;
    const KernelOps* ops = call.ops;
    const int threads = call.threads;
    Profile profile;
    profile.read(env, obj);
    BlockSet bs;
    readBlocks(env, obj, d, call.forceDense, bs);
    const uint32_t nb = (uint32_t)bs.blocks.size();
    Panels panels;
    Carver carver = arenaWithPanels(inst, c, bs.cls, panels, (size_t)bs.total * exampleFloats(d) + 16 * 64);
    prepareBlocks(d, bs, carver);

    // outputs (created here: N-API calls belong to this thread)
    const std::array<size_t, 10> gsz = tensorSizes(d);
    napi_value result;
    check(env, napi_create_array_with_length(env, nb, &result), "array");
    // optional `out`: one array of 10 Float32Array per block, written in place (every element) and returned
    napi_value outV = prop(env, obj, "out");
    const bool reuse = typeOf(env, outV) != napi_undefined;
    if (reuse) {
      bool isArr;
      uint32_t len;
      check(env, napi_is_array(env, outV, &isArr), "is_array");
      if (!isArr) typeError("out must be an array with one array of 10 Float32Array per block");
      check(env, napi_get_array_length(env, outV, &len), "array_length");
      if (len != nb) rangeError("out holds " + std::to_string(len) + " blocks, the call has " + std::to_string(nb));
    }
    std::vector<napi_value> gradArrays(nb);
    for (uint32_t b = 0; b < nb; b++) {
      BlockJob& bj = bs.bjobs[b];
      if (reuse) {
        check(env, napi_get_element(env, outV, b, &gradArrays[b]), "get_element");
        bool isArr;
        uint32_t len = 0;
        check(env, napi_is_array(env, gradArrays[b], &isArr), "is_array");
        if (isArr) check(env, napi_get_array_length(env, gradArrays[b], &len), "array_length");
        if (!isArr || len != 10) typeError("out[" + std::to_string(b) + "] must be an array of 10 Float32Array");
        for (uint32_t q = 0; q < 10; q++) {
          napi_value arr;
          check(env, napi_get_element(env, gradArrays[b], q, &arr), "get_element");
          bj.g[q] = typedArray<float>(env, arr, napi_float32_array, gsz[q], "out[" + std::to_string(b) + "][" + std::to_string(q) + "]");
        }
      } else {
        check(env, napi_create_array_with_length(env, 10, &gradArrays[b]), "array");
        for (int q = 0; q < 10; q++) {
          napi_value arr = newTypedArray(env, napi_float32_array, gsz[q], &bj.g[q]);
          check(env, napi_set_element(env, gradArrays[b], q, arr), "set_element");
        }
      }
    }
    if (reuse) {
      // no output may alias another or an input: the kernel reads inputs while it writes outputs
      std::vector<std::pair<const char*, const char*>> ranges;
      for (uint32_t b = 0; b < nb; b++)
        for (int q = 0; q < 10; q++) {
          const char* p = reinterpret_cast<const char*>(bs.bjobs[b].g[q]);
          ranges.emplace_back(p, p + gsz[q] * sizeof(float));
        }
      for (int q = 0; q < 10; q++) {
        const char* p = reinterpret_cast<const char*>(call.m.p[q]);
        ranges.emplace_back(p, p + gsz[q] * sizeof(float));
      }
      for (const BlockSet::Block& B : bs.blocks) {
        const char* x = reinterpret_cast<const char*>(B.x);
        const char* y = reinterpret_cast<const char*>(B.y);
        ranges.emplace_back(x, x + (size_t)B.m * d.nx * sizeof(float));
        ranges.emplace_back(y, y + (size_t)B.m * d.ny * sizeof(float));
      }
      std::sort(ranges.begin(), ranges.end());
      const char* end = nullptr;
      for (const auto& r : ranges) {
        if (r.first == r.second) continue;
        if (end && r.first < end) rangeError("out overlaps another output, a parameter or a block's data");
        if (!end || r.second > end) end = r.second;
      }
    }

    // phase A: every example (networks, chain, energies, per-example gradients)
    std::vector<Scratch> s = scratchFor(inst, d, threads);
    profile.attach(s, threads);
    double t0 = Profile::now(), t1 = 0.0;
    runTrainingExamples(inst, ops, c, panels, bs, s, threads, &t1);
    double t2 = Profile::now();

    // phase B: every (block, 16 visible rows): the weights net and the second layers
    const int rowChunk = 16;
    const int chunks = (d.ny + rowChunk - 1) / rowChunk;
    std::vector<int> rowsOk((size_t)nb * chunks, 1);
    // each item's largest |g| per tensor: the block's maxima come with its gradients, so that the exact
    // reduction needs no pass over them to choose its exponents
    std::vector<float> rowsMax((size_t)nb * chunks * 10, 0.0f);
    parallelFor(inst->pool, threads, (int)(nb * chunks), [&](int it, int tid) {
      const int b = it / chunks, ch = it % chunks;
      const int i0 = ch * rowChunk, i1 = i0 + rowChunk < d.ny ? i0 + rowChunk : d.ny;
      rowsOk[it] = ops->blockRows(&c, &bs.bjobs[b], &s[2 * tid], i0, i1, &rowsMax[(size_t)it * 10]);
    });

    double t3 = Profile::now();

    // phase C: first layers, statistics
    for (uint32_t b = 0; b < nb; b++) {
      float mx[10] = {0};
      bool finite = ops->blockFirstLayers(&c, &bs.bjobs[b], mx) != 0;
      for (int ch = 0; ch < chunks; ch++) {
        finite &= rowsOk[(size_t)b * chunks + ch] != 0;
        for (int t = 0; t < 10; t++) mx[t] = std::max(mx[t], rowsMax[((size_t)b * chunks + ch) * 10 + t]);
      }
      double* maxAbs;
      napi_value maxAbsArray = newTypedArray(env, napi_float64_array, 10, &maxAbs);
      for (int t = 0; t < 10; t++) maxAbs[t] = mx[t];
      napi_value entry;
      check(env, napi_create_object(env, &entry), "object");
      setProp(env, entry, "grads", gradArrays[b]);
      setProp(env, entry, "stats", blockStats(env, bs, b, finite));
      setProp(env, entry, "maxAbs", maxAbsArray);
      check(env, napi_set_element(env, result, b, entry), "set_element");
    }
    profile.finish(t1 - t0, t2 - t1, t3 - t2, Profile::now() - t3);
    return result;
  });
}

/** The first layers' tensors (0, 1, 4, 5) a shard keeps per block, and their offsets in its `first`. */
const int kFirstTensors[4] = {0, 1, 4, 5};

/**
 * shardBegin(args): blockGradients' phase A and first layers for a shard whose rows are summed later by
 * shardSum, so that no block's gradient of the rows is ever written. Returns {token, stats (per block),
 * bounds: Float64Array(10)}: bounds[t] is the largest |g| of tensor t over the blocks for the first layers and
 * blockBounds' bound for the rest (+∞ where anything was not finite). The token is valid until the next
 * shardBegin.
 */
napi_value ShardBegin(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    ModelCall call;
    readModelCall(env, info, "shardBegin", call);
    Instance* inst = call.inst;
    CallCtx& c = call.m.ctx;
    const Dims& d = call.m.d;
    const KernelOps* ops = call.ops;
    Shard& sh = inst->shard;
    sh.token = 0;  // the results are overwritten from here on
    BlockSet& bs = sh.set;
    readBlocks(env, call.obj, d, call.forceDense, bs);
    const size_t nb = bs.blocks.size();
    Panels panels;
    arenaWithPanels(inst, c, bs.cls, panels, 0);
    Carver carver{inst->results.get((size_t)bs.total * exampleFloats(d) + 16)};
    prepareBlocks(d, bs, carver);
    const std::array<size_t, 10> gsz = tensorSizes(d);
    size_t perBlock = 0;
    for (int t : kFirstTensors) perBlock += gsz[t];
    sh.first.assign(nb * perBlock, 0.0f);
    for (size_t b = 0; b < nb; b++) {
      float* f = sh.first.data() + b * perBlock;
      for (int t : kFirstTensors) {
        bs.bjobs[b].g[t] = f;
        f += gsz[t];
      }
    }
    Profile profile;
    profile.read(env, call.obj);
    std::vector<Scratch> s = scratchFor(inst, d, call.threads);
    profile.attach(s, call.threads);
    const double t0 = Profile::now();
    double t1 = 0.0;
    runTrainingExamples(inst, ops, c, panels, bs, s, call.threads, &t1);
    const double t2 = Profile::now();

    double* bounds;
    napi_value boundsArray = newTypedArray(env, napi_float64_array, 10, &bounds);
    for (int t = 0; t < 10; t++) bounds[t] = 0.0;
    napi_value stats;
    check(env, napi_create_array_with_length(env, nb, &stats), "array");
    for (size_t b = 0; b < nb; b++) {
      float mx[10] = {0};
      const bool finite = ops->blockFirstLayers(&c, &bs.bjobs[b], mx) != 0;
      ops->blockBounds(&c, &bs.bjobs[b], mx);
      for (int t = 0; t < 10; t++) bounds[t] = std::max(bounds[t], (double)mx[t]);
      check(env, napi_set_element(env, stats, (uint32_t)b, blockStats(env, bs, b, finite)), "set_element");
    }
    profile.finish(t1 - t0, t2 - t1, 0.0, Profile::now() - t2);  // the rows come with shardSum
    // what the rows need later: the inputs' memory is the caller's and may be gone by then
    for (BlockSet::Block& B : bs.blocks) B.x = B.y = nullptr, B.index = nullptr;
    for (BlockJob& bj : bs.bjobs) bj.x = nullptr;
    sh.tidx = call.m.tidx;
    sh.ctx = CallCtx{};
    sh.ctx.d = d;
    sh.ctx.norm = c.norm;
    sh.ctx.tidx = sh.tidx.data();
    sh.token = ++inst->lastToken;

    napi_value result;
    check(env, napi_create_object(env, &result), "object");
    setProp(env, result, "token", num(env, (double)sh.token));
    setProp(env, result, "stats", stats);
    setProp(env, result, "bounds", boundsArray);
    return result;
  });
}

/**
 * shardSum(token, exponents?, threads, tier, out?): the shard's flat gradient sum over its blocks, (total,):
 * with exponents (Int32Array(10)), Σ_b round(g·2^e[t]) as float64 integers (what reduce('fixedSum') gives for
 * the blocks' arrays); without, the float32 sum in block order (reduce('floatSum')). `out` as in reduce.
 */
napi_value ShardSum(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value a[5];
    args(env, info, 5, a);
    Instance* inst = instance(env);
    Shard& sh = inst->shard;
    const double token = number(env, a[0], "token");
    if (sh.token == 0 || token != (double)sh.token)
      rangeError("the shard's results are gone: shardSum must follow its own shardBegin, before the next one");
    const bool fixed = typeOf(env, a[1]) != napi_undefined;
    const int threads = positiveInt(env, a[2], "threads", 1024);
    const KernelOps* ops = tierByName(env, a[3]);
    const Dims& d = sh.ctx.d;
    const std::array<size_t, 10> gsz = tensorSizes(d);
    std::array<size_t, 10> off{};
    size_t total = 0;
    for (int t = 0; t < 10; t++) off[t] = total, total += gsz[t];
    double scale[10];
    if (fixed) {
      const int32_t* ex = typedArray<int32_t>(env, a[1], napi_int32_array, 10, "exponents");
      for (int t = 0; t < 10; t++) {
        if (ex[t] < -1000 || ex[t] > 1000) rangeError("fixed-point exponent must be an integer in [-1000, 1000], got " + std::to_string(ex[t]));
        scale[t] = std::ldexp(1.0, ex[t]);
      }
    }
    void* outBase;
    napi_value result = fixed ? outputArray(env, a[4], napi_float64_array, total, "out", reinterpret_cast<double**>(&outBase))
                              : outputArray(env, a[4], napi_float32_array, total, "out", reinterpret_cast<float**>(&outBase));
    const size_t elem = fixed ? sizeof(double) : sizeof(float);
    void* out[10];
    for (int t = 0; t < 10; t++) out[t] = static_cast<char*>(outBase) + off[t] * elem;
    const BlockSet& bs = sh.set;
    const int nb = (int)bs.bjobs.size();

    // the first layers from their per-block arrays
    for (int t : kFirstTensors) {
      std::vector<const float*> g(nb);
      for (int b = 0; b < nb; b++) g[b] = bs.bjobs[b].g[t];
      if (fixed) {
        int badBlock = 0;
        if (ops->redFixed(g.data(), nb, gsz[t], scale[t], static_cast<double*>(out[t]), &badBlock) < gsz[t])
          rangeError("fixed-point overflow in the first layers' sum: the exponents are too large for these blocks");
      } else {
        std::memset(out[t], 0, gsz[t] * sizeof(float));
        for (int b = 0; b < nb; b++) ops->redFloat(g[b], gsz[t], static_cast<float*>(out[t]));
      }
    }
    // the rows, kFoldRows at a time, each summed over every block
    std::vector<Scratch> s = scratchFor(inst, d, threads);
    const int items = (d.ny + kFoldRows - 1) / kFoldRows;
    std::vector<int> badRow(items, -1);
    parallelFor(inst->pool, threads, items, [&](int it, int tid) {
      const int i0 = it * kFoldRows, i1 = std::min(i0 + kFoldRows, d.ny);
      badRow[it] = ops->foldRows(&sh.ctx, bs.bjobs.data(), nb, &s[2 * tid], i0, i1, fixed ? scale : nullptr, out);
    });
    for (int r : badRow)
      if (r >= 0)
        rangeError("a gradient at visible row " + std::to_string(r) + " is not finite or too large for the fixed-point exponents");
    return result;
  });
}

/**
 * adamw(p, g, m, v, k, threads, tier): one AdamW update of one parameter tensor in place; k = Float32Array(7).
 * Elements are split into fixed chunks over the threads (each element's update is independent).
 */
napi_value AdamW(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value a[7];
    args(env, info, 7, a);
    size_t n;
    float* p = typedArrayOfAnyLength<float>(env, a[0], napi_float32_array, "p", &n);
    const float* g = typedArray<float>(env, a[1], napi_float32_array, n, "g");
    float* m = typedArray<float>(env, a[2], napi_float32_array, n, "m");
    float* v = typedArray<float>(env, a[3], napi_float32_array, n, "v");
    const float* k = typedArray<float>(env, a[4], napi_float32_array, 7, "k");
    const int threads = positiveInt(env, a[5], "threads", 1024);
    const KernelOps* ops = tierByName(env, a[6]);
    const size_t chunk = 1 << 15;
    const int items = (int)((n + chunk - 1) / chunk);
    parallelFor(instance(env)->pool, threads, items, [&](int it, int) {
      const size_t j0 = (size_t)it * chunk, len = n - j0 < chunk ? n - j0 : chunk;
      ops->adamw(p + j0, g + j0, m + j0, v + j0, len, k);
    });
    napi_value undef;
    check(env, napi_get_undefined(env, &undef), "undefined");
    return undef;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Block reductions (the arithmetic of @nbm/collective's block-sums.ts and fixed point, bit for bit)
// ---------------------------------------------------------------------------------------------------------

/** The gradient arrays of every block: grads[b][t], all blocks with the same tensor sizes. */
struct BlockArrays {
  std::vector<std::vector<const float*>> grads;
  std::vector<size_t> sizes;
};

BlockArrays readBlockArrays(napi_env env, napi_value blocksV) {
  bool isArray;
  check(env, napi_is_array(env, blocksV, &isArray), "is_array");
  if (!isArray) typeError("blocks must be an array of block gradients");
  uint32_t nb;
  check(env, napi_get_array_length(env, blocksV, &nb), "array_length");
  BlockArrays out;
  out.grads.resize(nb);
  for (uint32_t b = 0; b < nb; b++) {
    napi_value bv, gv;
    check(env, napi_get_element(env, blocksV, b, &bv), "get_element");
    if (typeOf(env, bv) != napi_object) typeError("blocks[" + std::to_string(b) + "] must be a block gradient");
    gv = prop(env, bv, "grads");
    check(env, napi_is_array(env, gv, &isArray), "is_array");
    if (!isArray) typeError("blocks[" + std::to_string(b) + "].grads must be an array");
    uint32_t nt;
    check(env, napi_get_array_length(env, gv, &nt), "array_length");
    if (b == 0) out.sizes.resize(nt);
    if (nt != out.sizes.size()) rangeError("blocks[" + std::to_string(b) + "] has " + std::to_string(nt) + " tensors, block 0 has " + std::to_string(out.sizes.size()));
    for (uint32_t t = 0; t < nt; t++) {
      napi_value tv;
      check(env, napi_get_element(env, gv, t, &tv), "get_element");
      const std::string name = "blocks[" + std::to_string(b) + "].grads[" + std::to_string(t) + "]";
      bool is;
      check(env, napi_is_typedarray(env, tv, &is), "is_typedarray");
      if (!is) typeError(name + " must be a Float32Array");
      napi_typedarray_type type;
      size_t len;
      check(env, napi_get_typedarray_info(env, tv, &type, &len, nullptr, nullptr, nullptr), "info");
      if (b == 0) out.sizes[t] = len;
      out.grads[b].push_back(typedArray<float>(env, tv, napi_float32_array, out.sizes[t], name));
    }
  }
  return out;
}

/** (tensor, element range) work items of at most 64k elements. */
std::vector<std::array<size_t, 3>> chunks(const std::vector<size_t>& sizes) {
  std::vector<std::array<size_t, 3>> items;
  const size_t step = 1 << 16;
  for (size_t t = 0; t < sizes.size(); t++)
    for (size_t i = 0; i < sizes[t]; i += step) items.push_back({t, i, sizes[t] - i < step ? sizes[t] - i : step});
  return items;
}

/**
 * reduce(kind, ..., threads, tier): 'maxAbs' (blocks) → Float64Array(tensors);
 * 'fixedSum' (blocks, exponents: Int32Array, threads, tier, out?) → Float64Array(total);
 * 'floatSum' (blocks, threads, tier, out?) → Float32Array(total);
 * 'fromFixed' (sum: Float64Array, exponents, sizes: Float64Array, scale, threads, tier, out?, marked?) →
 *   Float32Array(total); with `marked`, an element that is NaN or beyond ±(2^47 − 1) is written NaN instead of
 *   raising, and the result is a boolean: true when there was none;
 * 'fromFloat' (sum: Float32Array, examples, threads, tier, out?) → Float32Array(total).
 * With `out` the result is written into it (every element) and returned: no allocation, no first touch.
 */
napi_value Reduce(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value a[9];
    args(env, info, 9, a);
    const std::string kind = str(env, a[0], "kind");
    Instance* inst = instance(env);
    // the tier is the argument after the kind's own (7 at most)
    const int tierArg = kind == "fromFixed" ? 6 : kind == "fixedSum" ? 4 : kind == "fromFloat" ? 4 : 3;
    const KernelOps* ops = tierByName(env, a[tierArg]);
    if (kind == "fromFloat") {
      // (sum / examples) rounded to float32, as @nbm/train's meanFromFloat
      size_t total;
      const float* sum = typedArrayOfAnyLength<float>(env, a[1], napi_float32_array, "sum", &total);
      const double examples = number(env, a[2], "examples");
      const int threads = positiveInt(env, a[3], "threads", 1024);
      float* out;
      napi_value result = outputArray(env, a[5], napi_float32_array, total, "out", &out);
      auto items = chunks(std::vector<size_t>{total});
      parallelFor(inst->pool, threads, (int)items.size(), [&](int it, int) {
        ops->redFromFloat(sum + items[it][1], items[it][2], examples, out + items[it][1]);
      });
      return result;
    }
    if (kind == "fromFixed") {
      size_t total, nt;
      const double* sum = typedArrayOfAnyLength<double>(env, a[1], napi_float64_array, "sum", &total);
      const int32_t* ex = typedArrayOfAnyLength<int32_t>(env, a[2], napi_int32_array, "exponents", &nt);
      const double* sz = typedArray<double>(env, a[3], napi_float64_array, nt, "sizes");
      const double scale = number(env, a[4], "scale");
      const int threads = positiveInt(env, a[5], "threads", 1024);
      std::vector<size_t> sizes(nt);
      size_t acc = 0;
      for (size_t t = 0; t < nt; t++) {
        sizes[t] = (size_t)sz[t];
        acc += sizes[t];
        if (ex[t] < -1000 || ex[t] > 1000) rangeError("fixed-point exponent must be an integer in [-1000, 1000], got " + std::to_string(ex[t]));
      }
      if (acc != total) rangeError("sizes add up to " + std::to_string(acc) + ", sum has " + std::to_string(total));
      std::vector<size_t> off(nt, 0);
      for (size_t t = 1; t < nt; t++) off[t] = off[t - 1] + sizes[t - 1];
      float* out;
      napi_value result = outputArray(env, a[7], napi_float32_array, total, "out", &out);
      auto items = chunks(sizes);
      std::vector<size_t> bad(items.size(), SIZE_MAX);
      parallelFor(inst->pool, threads, (int)items.size(), [&](int it, int) {
        const size_t t = items[it][0], i0 = items[it][1], n = items[it][2];
        const size_t b = ops->redFromFixed(sum + off[t] + i0, n, std::ldexp(1.0, -ex[t]), scale, out + off[t] + i0);
        if (b < n) bad[it] = off[t] + i0 + b;
      });
      if (typeOf(env, a[8]) != napi_undefined && boolean(env, a[8], "marked")) {
        bool clean = true;
        for (size_t b : bad) clean &= b == SIZE_MAX;
        if (!clean)  // rare (an overflow): one more pass marks every such element
          for (size_t i = 0; i < total; i++)
            if (!(std::fabs(sum[i]) <= kFixedMax)) out[i] = NAN;
        napi_value r;
        check(env, napi_get_boolean(env, clean, &r), "bool");
        return r;
      }
      for (size_t b : bad)
        if (b != SIZE_MAX) rangeError("fixed-point overflow at element " + std::to_string(b) + " of the sum");
      return result;
    }
    BlockArrays blocks = readBlockArrays(env, a[1]);
    const size_t nt = blocks.sizes.size();
    std::vector<size_t> off(nt, 0);
    for (size_t t = 1; t < nt; t++) off[t] = off[t - 1] + blocks.sizes[t - 1];
    const size_t total = nt ? off[nt - 1] + blocks.sizes[nt - 1] : 0;
    auto items = chunks(blocks.sizes);
    if (kind == "maxAbs") {
      const int threads = positiveInt(env, a[2], "threads", 1024);
      std::vector<double> part(items.size(), 0.0);
      parallelFor(inst->pool, threads, (int)items.size(), [&](int it, int) {
        const size_t t = items[it][0], i0 = items[it][1], n = items[it][2];
        double m = 0.0;
        for (const auto& g : blocks.grads) m = ops->redMaxAbs(g[t] + i0, n, m);
        part[it] = m;
      });
      double* out;
      napi_value result = newTypedArray(env, napi_float64_array, nt, &out);
      for (size_t t = 0; t < nt; t++) out[t] = 0.0;
      for (size_t it = 0; it < items.size(); it++)
        if (part[it] > out[items[it][0]]) out[items[it][0]] = part[it];
      return result;
    }
    if (kind == "floatSum") {
      const int threads = positiveInt(env, a[2], "threads", 1024);
      float* out;
      napi_value result = outputArray(env, a[4], napi_float32_array, total, "out", &out);
      parallelFor(inst->pool, threads, (int)items.size(), [&](int it, int) {
        const size_t t = items[it][0], i0 = items[it][1], n = items[it][2];
        float* o = out + off[t] + i0;
        std::memset(o, 0, n * sizeof(float));
        for (const auto& g : blocks.grads) ops->redFloat(g[t] + i0, n, o);
      });
      return result;
    }
    if (kind == "fixedSum") {
      size_t ne;
      const int32_t* ex = typedArrayOfAnyLength<int32_t>(env, a[2], napi_int32_array, "exponents", &ne);
      if (ne != nt) rangeError("exponents has " + std::to_string(ne) + " entries, the blocks have " + std::to_string(nt) + " tensors");
      for (size_t t = 0; t < nt; t++)
        if (ex[t] < -1000 || ex[t] > 1000) rangeError("fixed-point exponent must be an integer in [-1000, 1000], got " + std::to_string(ex[t]));
      const int threads = positiveInt(env, a[3], "threads", 1024);
      double* out;
      napi_value result = outputArray(env, a[5], napi_float64_array, total, "out", &out);
      std::vector<size_t> bad(items.size(), SIZE_MAX);
      std::vector<char> badNonFinite(items.size(), 0);
      parallelFor(inst->pool, threads, (int)items.size(), [&](int it, int) {
        const size_t t = items[it][0], i0 = items[it][1], n = items[it][2];
        std::vector<const float*> g(blocks.grads.size());
        for (size_t b = 0; b < g.size(); b++) g[b] = blocks.grads[b][t] + i0;
        int badBlock = 0;
        const size_t q = ops->redFixed(g.data(), (int)g.size(), n, std::ldexp(1.0, ex[t]), out + off[t] + i0, &badBlock);
        if (q < n) {
          bad[it] = off[t] + i0 + q;
          badNonFinite[it] = !std::isfinite((double)g[badBlock][q]);
        }
      });
      for (size_t it = 0; it < items.size(); it++)
        if (bad[it] != SIZE_MAX)
          rangeError(std::string(badNonFinite[it] ? "a gradient is not finite" : "fixed-point overflow") + " at element " + std::to_string(bad[it]) + " of the sum");
      return result;
    }
    rangeError("kind must be 'maxAbs', 'fixedSum', 'floatSum', 'fromFixed' or 'fromFloat'");
  });
}

void finalizeInstance(napi_env, void* data, void*) { delete static_cast<Instance*>(data); }

}  // namespace
}  // namespace nbm

NAPI_MODULE_INIT() {
  using namespace nbm;
  napi_status st = napi_set_instance_data(env, new Instance(), finalizeInstance, nullptr);
  if (st != napi_ok) return nullptr;
  const napi_property_descriptor props[] = {
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"draw", nullptr, Draw, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"fill", nullptr, Fill, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"combine", nullptr, Combine, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"packed", nullptr, Packed, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"chain", nullptr, Chain, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"blockGradients", nullptr, BlockGradients, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"shardBegin", nullptr, ShardBegin, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"shardSum", nullptr, ShardSum, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"adamw", nullptr, AdamW, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"reduce", nullptr, Reduce, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
