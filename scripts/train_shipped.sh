#!/usr/bin/env bash
# Rebuild checkpoints/: the six shipped models (vae/ae/kl x z=2/16) on mnist5k with the
# default recipe (TrainConfig's and ModelConfig's defaults), two trainings at a time on one thread each, then
# their t-SNE/UMAP maps. fp32 training, as the shipped files were made (the default precision
# is now "auto", bf16 on CPUs that have it), stored as float16 with metrics re-measured on the
# rounded weights; each file now also carries its training film. Usage: scripts/train_shipped.sh [python]
# Reproducibility: the shipped files predate round three, which gave one process a noise stream of
# its own (vae_core.training.distributed.noise_seed); rerunning this now gives models that differ
# from them by that noise (same recipe, slightly different numbers). They were not retrained.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
export OMP_NUM_THREADS=1
train() { "$PY" -m vae_core.train --model "$1" --latent-dim "$2" --seed 0 --dataset mnist5k \
            --eval-iw-samples 100 --precision fp32 --save-dtype float16 \
            --out "checkpoints/$1-z$2.safetensors" 2>/dev/null | tail -n 1; }
train vae 16 & train ae 16 & wait
train vae 2 & train ae 2 & wait
train kl 16 & train kl 2 & wait
unset OMP_NUM_THREADS
"$PY" -m scripts.ship_projections
