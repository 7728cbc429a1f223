#!/usr/bin/env bash
# Reproduces the shipped Toonworld VAE (models/toonworld-vae) and the Table 2a ablation in docs/vae.md.
# About 75 minutes on 2 cores, and 35-40 more for the decoder stage. Usage: tools/vae_recipe.sh [WORKDIR]
set -euo pipefail
work=${1:-runs/vae}
longshot() { dotnet run -c Release --project src/Longshot.Cli -- "$@"; }
mkdir -p "$work"
longshot data toonworld --episodes 8 --out "$work/toon8" --quiet
# Stage 1: the image KL-VAE (frames independently).
longshot train vae --data "$work/toon8" --out "$work/stage1" --steps 1500 --batch 8 --lr 1e-3 --checkpoint-every 100 --validate-every 250
# Stage 2, same budget for each row of the ablation, all starting from the stage-1 image VAE:
longshot train vae --stage video --init "$work/stage1/vae" --data "$work/toon8" --out "$work/klvae" --no-temporal --steps 150 --batch 2 --clip-frames 8 --lr 2e-4 --validate-every 300
longshot train vae --stage video --init "$work/stage1/vae" --data "$work/toon8" --out "$work/tklvae-r" --temporal-init random --steps 150 --batch 2 --clip-frames 8 --lr 2e-4 --validate-every 300
longshot train vae --stage video --init "$work/stage1/vae" --data "$work/toon8" --out "$work/tklvae" --temporal-init identity --steps 150 --batch 2 --clip-frames 8 --lr 2e-4 --validate-every 300
# The shipped model (models/toonworld-vae): 2,000 more image steps at lr 5e-4, then 300 temporal steps.
longshot train vae --data "$work/toon8" --out "$work/stage1b" --init "$work/stage1/vae" --steps 2000 --batch 8 --lr 5e-4 --checkpoint-every 100 --validate-every 500
longshot train vae --stage video --init "$work/stage1b/vae" --data "$work/toon8" --out "$work/final" --temporal-init identity --steps 300 --batch 2 --clip-frames 8 --lr 2e-4 --validate-every 300
# Since 2026-11-30 the shipped model is "final" with its decoder tuned on 400 short episodes of other stories (every
# place at every time of day); the encoder, and so the latent space the diffusion models learned, is unchanged.
longshot data toonworld --episodes 400 --frames 120 --seed 3 --out "$work/toon400" --quiet
longshot train vae --stage decoder --init "$work/final/vae" --data "$work/toon400" --out "$work/decoder" --steps 2000 --batch 2 --clip-frames 8 --lr 2e-4 --checkpoint-every 100 --validate-every 250
for m in stage1 klvae tklvae-r tklvae final decoder; do
  echo "== $m"; longshot eval vae --model "$work/$m/vae" --data "$work/toon8" --clip-frames 8 --json
done
