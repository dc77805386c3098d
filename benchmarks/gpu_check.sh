#!/usr/bin/env bash
# The chapter-07 GPU check, as one script: throughput/MFU tables on CUDA, then nanoGPT's recipe
# trained to completion on the GPU with bf16 and with fp16 + gradient scaler.
#   OUT=/some/folder BIGMODEL_DATA_MIRROR=../shared/data bash benchmarks/gpu_check.sh
set -euo pipefail
OUT=${OUT:-build/gpu_check}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=3
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$OUT/gpu.txt"
# 1. nanoGPT's CPU recipe (4L/4H/128d, context 64, batch 12): tiny, so launch-bound on a GPU
python3 benchmarks/train_throughput.py --device cuda --steps 50 --precisions fp32,bf16,fp16 --compile-precisions bf16 \
    --json "$OUT/bench_recipe.json" | tee "$OUT/bench_recipe.txt"
# 2. nanoGPT's GPU Shakespeare config (6L/6H/384d, context 256, batch 64)
python3 benchmarks/train_throughput.py --device cuda --steps 30 --batch-size 64 --block-size 256 \
    --n-layer 6 --n-head 6 --n-embd 384 --precisions fp32,bf16 --compile-precisions bf16 --json "$OUT/bench_shakespeare.json" \
    | tee "$OUT/bench_shakespeare.txt"
# 3. GPT-2-small shape (12L/12H/768d, context 1024, batch 16), character vocabulary
python3 benchmarks/train_throughput.py --device cuda --steps 20 --batch-size 16 --block-size 1024 \
    --n-layer 12 --n-head 12 --n-embd 768 --precisions bf16 --json "$OUT/bench_gpt2_small.json" \
    | tee "$OUT/bench_gpt2_small.txt"
# 4. the recipe itself, 2,000 steps, to its validation loss, with each mixed precision
python3 benchmarks/recipe_run.py --device cuda --precisions bf16,fp16 --json "$OUT/recipe_run.json" \
    | tee "$OUT/recipe_run.txt"
