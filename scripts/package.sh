#!/usr/bin/env bash
# Build the Linux installer: the UI, the release app (UI embedded) and the `dialect`
# CLI, bundled by `tauri build` as one .deb: the app at /usr/bin/dialect-app (with its
# .desktop entry, icons and the bundled samples under /usr/lib/Dialect/), the CLI at
# /usr/bin/dialect. Prints the .deb's path on its last line. Needs scripts/setup.sh.
#
#   DIALECT_FEATURES   cargo features for both binaries, comma-separated. Default on
#                      x86-64 Linux: "cuda", the release build (README "GPUs": it loads
#                      the driver and CUDA libraries at run time and trains on the CPU
#                      without them); elsewhere none. Set it empty for a CPU-only package.
#   DIALECT_CUDA_CACHE where the pinned CUDA compiler is installed when a cuda build
#                      finds no nvcc on PATH (scripts/cuda/toolchain.sh; default
#                      ~/.cache/dialect/cu13, ~50 MB from PyPI, once).
#   DIALECT_BUNDLES    tauri bundle targets (default "deb"; see README "Install" for
#                      why not the AppImage).
#   CARGO_TARGET_DIR   where the release build goes (default: the workspace's target/).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

if [ -n "${DIALECT_FEATURES+set}" ]; then
  features=$DIALECT_FEATURES
elif [ "$(uname -sm)" = "Linux x86_64" ]; then
  features=cuda
else
  features=""
fi
if [[ ",$features," == *,cuda,* ]] && ! command -v nvcc >/dev/null 2>&1; then
  echo "package: no nvcc on PATH; building with the pinned CUDA 13.0 compiler (scripts/cuda/toolchain.sh)"
  DIALECT_FEATURES=$features exec scripts/cuda/toolchain.sh "${DIALECT_CUDA_CACHE:-$HOME/.cache/dialect/cu13}" "$PWD/scripts/package.sh" "$@"
fi
bundles=${DIALECT_BUNDLES:-deb}
feature_args=()
[ -n "$features" ] && feature_args=(--features "$features")
tauri=$PWD/ui/node_modules/.bin/tauri
[ -x "$tauri" ] || { echo "package: no Tauri CLI at $tauri; run scripts/setup.sh"; exit 1; }

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

echo "package: building the CLI (release${features:+, features $features})"
cargo build --release --locked -p dialect-cli "${feature_args[@]}"
cli=$target_dir/release/dialect
[ -x "$cli" ] || { echo "package: cargo built no $cli"; exit 1; }

# The CLI's path depends on the target dir, so it joins the package through a config
# overlay here rather than in tauri.conf.json (whose paths every debug build checks).
overlay=$(python3 -c 'import json,sys; print(json.dumps({"bundle": {"linux": {"deb": {"files": {"/usr/bin/dialect": sys.argv[1]}}}}}))' "$cli")

echo "package: building the app and bundling ${bundles}"
# tauri build runs beforeBuildCommand (the UI's production build) and cargo with the
# embedded-UI feature, then bundles. --ci: no prompts.
(cd src-tauri && "$tauri" build --ci --bundles "$bundles" --config "$overlay" "${feature_args[@]}" -- --locked)

deb=$(ls -t "$target_dir"/release/bundle/deb/*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "package: tauri build left no .deb under $target_dir/release/bundle/deb"; exit 1; }
echo "$deb"
