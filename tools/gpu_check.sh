#!/usr/bin/env bash
# The CUDA backend on a real GPU (docs/cuda.md). The GPU machine has no .NET, so the bench travels self-contained:
#   bash tools/gpu_check.sh pack   # here: linux-x64 self-contained publish of the bench -> out/gpu/bench.tar.xz
#   bash tools/gpu_check.sh run    # on the GPU machine: unpack, device parity (ops and two training steps), GEMM
#                                  # (tiled; cuBLAS fp32/TF32/bf16 when its library is there), conv, attention and
#                                  # the MTD step on the GPU, then the demo's DoD generation at 256 and 1,024 frames
#                                  # sampled on the GPU (shipped models) -> $OUT/gpu.jsonl
#   bash tools/gpu_check.sh published  # on the GPU machine: Stable Video Diffusion's UNet at real size (random fp16
#                                      # weights written there first) at 14 x 32x32 and 25 x 72x128 latents, with the
#                                      # GPU's memory in use sampled every half second -> $OUT/gpu-published.jsonl
# With the device tool: run "bash tools/gpu_check.sh run" (then "published") with carry ["out/gpu"].
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  pack)
    rm -rf out/gpu/publish && mkdir -p out/gpu
    dotnet publish bench/Longshot.Bench -c Release -r linux-x64 --self-contained -o out/gpu/publish -v q
    tar -C out/gpu -cJf out/gpu/bench.tar.xz.tmp publish && mv out/gpu/bench.tar.xz.tmp out/gpu/bench.tar.xz
    rm -rf out/gpu/publish
    ls -la out/gpu/bench.tar.xz ;;
  run|published)
    if [ ! -f out/gpu/bench.tar.xz ]; then
      echo "out/gpu/bench.tar.xz: missing; run 'tools/gpu_check.sh pack' first" >&2; exit 2
    fi
    results="${OUT:-out/gpu}"
    work="$(mktemp -d)"
    tar -C "$work" -xJf out/gpu/bench.tar.xz
    if [ "$1" = published ]; then
      nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 500 > "$results/gpu-memory.txt" &
      sampler=$!
      LONGSHOT_BENCH_DIR="$work/bench" timeout 540 "$work/publish/Longshot.Bench" published-unet --device cuda \
        --json | tee "$results/gpu-published.jsonl" || echo "published-unet: exit $?" >&2
      kill "$sampler" || true
      echo "peak GPU memory in use (MiB): $(sort -n "$results/gpu-memory.txt" | tail -1)" | tee -a "$results/gpu.txt"
      exit 0
    fi
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$results/gpu.txt" || true
    "$work/publish/Longshot.Bench" cuda-parity cuda-train --json | tee "$results/gpu.jsonl" \
      || echo "parity: exit $?" >&2
    # Each later step has its own time limit and a failure does not stop the next: one device run must give
    # whatever it can within its 10 minutes.
    timeout 180 "$work/publish/Longshot.Bench" gemm conv attention mtd --device cuda --json \
      | tee -a "$results/gpu.jsonl" || echo "device benches: exit $?" >&2
    LONGSHOT_BENCH_SCHEMES=dod LONGSHOT_BENCH_FRAMES=256,1024 timeout 240 \
      "$work/publish/Longshot.Bench" generate --device cuda --json | tee -a "$results/gpu.jsonl" \
      || echo "generate: exit $?" >&2 ;;
  *)
    echo "usage: tools/gpu_check.sh pack|run|published" >&2; exit 2 ;;
esac
