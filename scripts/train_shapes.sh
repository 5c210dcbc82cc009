#!/usr/bin/env bash
# The two shipped models on `shapes` (dSprites' design, generated: vae_core.data.shapes), trained on
# this 2-core CPU (no GPU), one thread each, both at once, in the background at low priority:
#
#   nice -n 10 scripts/train_shapes.sh vae  > logs/shapes-vae.log  2>&1 &
#   nice -n 10 scripts/train_shapes.sh bvae > logs/shapes-bvae.log 2>&1 &
#
# The network is the beta-VAE's for 64x64 images (Higgins et al. 2017, table 1; Burgess et al.
# 2018, appendix A.1): four 4x4 stride-2 convolutions (32, 32, 64, 64 channels), two fully
# connected layers of 256, z = 10; Bernoulli decoder (the images are binary). Adam 5e-4 with
# cosine decay, batch 64, no shift augmentation (position is one of the factors), bf16 autocast
# (--precision auto picks it on this AVX512-BF16 CPU), one epoch over the 663,552 training images
# (10,368 Adam steps: a budget of a few hours per model on this shared machine, far below the
# papers' ~300,000 steps; a first attempt at 2 epochs was stopped at 13 % when other work left it
# ~0.3 steps/s), validated on the 73,728 held-out images at the end; stored float16 (the metrics
# in the file are re-measured on the rounded weights).
# Measured wall time and samples/s: see README, "Your own images" (the JSON line of each log).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
COMMON=(--arch conv --dataset shapes --latent-dim 10 --hidden 256 256 --conv-channels 32 32 64 64
        --likelihood bernoulli --batch-size 64 --lr 5e-4 --schedule cosine --epochs 1 --augment-shift 0
        --precision auto --seed 0 --save-dtype float16)
case "${1:-all}" in
  vae)  "$PY" -m vae_core.train --model vae --beta 1 "${COMMON[@]}" --out checkpoints/shapes-vae-z10.safetensors ;;
  bvae) "$PY" -m vae_core.train --model vae --beta 4 "${COMMON[@]}" --out checkpoints/shapes-bvae4-z10.safetensors ;;
  all)  "$0" vae && "$0" bvae ;;
  *) echo "usage: $0 [vae|bvae|all]" >&2; exit 2 ;;
esac
