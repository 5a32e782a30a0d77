// The kernels compiled for the avx512 tier (flags in binding.gyp). Everything here has internal linkage or lives
// in namespace nbm::isa_avx512, so nothing compiled with this tier's instructions can be picked by the linker for
// another tier.
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <time.h>
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif
#include "isa.h"

#define NBM_TIER_NAME "avx512"
namespace nbm {
namespace isa_avx512 {
namespace {
#include "simd.inc"
#include "vmath.inc"
#include "philox.inc"
}  // namespace
#include "kernel.inc"
}  // namespace isa_avx512
}  // namespace nbm
