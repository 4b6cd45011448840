#!/usr/bin/env bash
# Stage what the GPU checks need into .gpu/ (git-ignored via .git/info/exclude, carried
# to the device machine): the stripped, gzipped CUDA build of `dialect`, all-MiniLM-L6-v2
# with f16 weights (to fit the 64 MiB transfer; loaded as f32), Ticket Tagger data and
# the CUDA runtime environment script. Dev-only; run from the repo root, then on the
# device: `bash bench/gpu/speed.sh` (self-test, speed vs transformers Trainer, f32 vs
# bf16 accuracy, out-of-memory message) or `bash bench/gpu/parity.sh` (held-out
# accuracy vs transformers Trainer over three settings) or `bash bench/gpu/quality.sh`
# (the quality harness at full size, five seeds a side).
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.gpu/' .git/info/exclude || echo '/.gpu/' >> .git/info/exclude
mkdir -p .gpu/minilm
SHARED=../shared
CUDA_TARGET=${CUDA_TARGET:-$HOME/.cache/dialect-cuda-target}
CARGO_TARGET_DIR=$CUDA_TARGET scripts/cuda/toolchain.sh "$HOME/.cache/cu13" cargo build --release -p dialect-cli --features cuda
strip -o /tmp/dialect-cuda "$CUDA_TARGET/release/dialect"
gzip -c /tmp/dialect-cuda > .gpu/dialect.gz
cp scripts/cuda/env-on-gpu.sh .gpu/
cp $SHARED/data/tickettagger_issues_train.csv .gpu/tt.csv
mkdir -p .gpu/data
cp $SHARED/data/tickettagger_issues_train.csv $SHARED/data/banking77_train.csv .gpu/data/
scripts/seed-model-cache.sh
python3 - <<'PY'
import glob, os, shutil
from safetensors.numpy import load_file, save_file
src = glob.glob(os.path.expanduser(os.environ.get('HF_HOME', '~/.cache/huggingface') + '/hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots/*/'))[0]
t = {k: (v.astype('float16') if v.dtype.kind == 'f' else v) for k, v in load_file(src + 'model.safetensors').items()}
save_file(t, '.gpu/minilm/model.safetensors', metadata={'format': 'pt'})
for f in ['config.json', 'tokenizer.json', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']:
    shutil.copy(src + f, '.gpu/minilm/' + f)
PY
du -sh .gpu
