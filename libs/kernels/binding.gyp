{
  # The kernels are compiled three times on x86-64 (avx512, avx2+fma, generic), each tier as its own static
  # library with its own -m flags, and the addon picks one at run time with __builtin_cpu_supports. Nothing is
  # compiled with -march=native, so a build is safe to copy to any x86-64 machine. -ffp-contract=off: fused
  # multiply-adds only where the code asks for them, so every tier computes the same bits.
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions", "-O2", "-O3", "-Os"],
    "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-ffp-contract=off", "-fno-math-errno",
                  "-fvisibility=hidden", "-fPIC", "-Wall", "-Wno-psabi", "-Wno-maybe-uninitialized", "-Wno-uninitialized"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "OTHER_CPLUSPLUSFLAGS": ["-O3", "-ffp-contract=off", "-fno-math-errno", "-Wno-psabi"]
    }
  },
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "nbm_tier_avx512",
          "type": "static_library",
          "sources": ["native/kernel_avx512.cc"],
          "cflags_cc": ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl", "-mavx2", "-mfma"],
          "xcode_settings": {
            "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl", "-mavx2", "-mfma"]
          }
        },
        {
          "target_name": "nbm_tier_avx2",
          "type": "static_library",
          "sources": ["native/kernel_avx2.cc"],
          "cflags_cc": ["-mavx2", "-mfma"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma"] }
        },
        {
          "target_name": "nbm_tier_generic",
          "type": "static_library",
          "sources": ["native/kernel_generic.cc"]
        },
        {
          "target_name": "nbm_kernels",
          "sources": ["native/addon.cc"],
          "defines": ["NBM_X86_TIERS=1", "NAPI_VERSION=8"],
          "dependencies": ["nbm_tier_avx512", "nbm_tier_avx2", "nbm_tier_generic"],
          "libraries": ["-lpthread"]
        }
      ]
    }, {
      "targets": [
        {
          "target_name": "nbm_tier_generic",
          "type": "static_library",
          "sources": ["native/kernel_generic.cc"]
        },
        {
          "target_name": "nbm_kernels",
          "sources": ["native/addon.cc"],
          "defines": ["NAPI_VERSION=8"],
          "dependencies": ["nbm_tier_generic"],
          "libraries": ["-lpthread"]
        }
      ]
    }]
  ]
}
