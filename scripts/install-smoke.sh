#!/usr/bin/env bash
# Installer smoke test: installs the .deb that scripts/package.sh made with apt, checks
# the installed files, runs the installed CLI on the installed sample, launches the
# INSTALLED app under Xvfb through tauri-driver (e2e/smoke_installed.mjs: the Data
# screen, the bundled sample read from the package; screenshots to docs/screenshots/),
# then removes the package so the machine is left as found. The app and the CLI see a
# temporary DIALECT_HOME and XDG folders: the user's run store and settings stay untouched.
# With --cuda (a package built with the cuda feature, as scripts/package.sh does on
# x86-64 Linux): neither installed binary needs a CUDA library at start, and on a machine
# without the NVIDIA driver the installed CLI lists CUDA as unavailable with the reason
# and trains the tiny BERT on the installed sample on the CPU, saying why the GPU is not
# used, and the installed app's Train screen says why in its device field.
# Usage: scripts/install-smoke.sh [--cuda] PATH.deb   (as root, or with sudo; needs scripts/setup.sh)
# DIALECT_DRIVER_PORT (default 4454) and the next port: tauri-driver's and WebKitWebDriver's.
set -euo pipefail
cuda=""
[ "${1:-}" = --cuda ] && { cuda=yes; shift; }
deb=${1:?usage: scripts/install-smoke.sh [--cuda] PATH.deb (made by scripts/package.sh)}
[ -f "$deb" ] || { echo "install-smoke: no file $deb: build it with scripts/package.sh"; exit 2; }
deb=$(realpath "$deb")
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo

pkg=$(dpkg-deb --field "$deb" Package)
if dpkg -s "$pkg" >/dev/null 2>&1; then
  echo "install-smoke: $pkg is installed already; this test removes what it installs, so remove it first ($SUDO apt-get remove $pkg)"
  exit 2
fi

work=$(mktemp -d)
pids=()
installed=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$installed" ] && dpkg -s "$pkg" >/dev/null 2>&1; then
    echo "install-smoke: removing $pkg"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get remove -y -qq "$pkg" >/dev/null \
      || echo "install-smoke: could not remove $pkg: remove it by hand ($SUDO apt-get remove $pkg)"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "install-smoke: FAILED: $*"; exit 1; }

echo "install-smoke: installing $deb"
installed=yes
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$deb" >"$work/apt.log" 2>&1 \
  || { cat "$work/apt.log"; fail "apt-get install $deb"; }
dpkg -L "$pkg" >"$work/files"

# The files: both binaries on PATH and fully linked, the menu entry, an icon, the samples.
app=$(command -v dialect-app) || fail "dialect-app is not on PATH after the install"
cli=$(command -v dialect) || fail "dialect (the CLI) is not on PATH after the install"
grep -qx "$app" "$work/files" || fail "$app does not come from $pkg"
grep -qx "$cli" "$work/files" || fail "$cli does not come from $pkg"
for bin in "$app" "$cli"; do
  if ldd "$bin" | grep -q "not found"; then ldd "$bin"; fail "$bin misses shared libraries"; fi
done
desktop=$(grep -m1 '^/usr/share/applications/.*\.desktop$' "$work/files") || fail "no .desktop file in $pkg"
grep -qx "Exec=dialect-app" "$desktop" || fail "$desktop does not start dialect-app"
icon_name=$(sed -n 's/^Icon=//p' "$desktop")
grep -q "^/usr/share/icons/hicolor/.*/apps/$icon_name\.png$" "$work/files" \
  || fail "no hicolor icon named $icon_name (the .desktop file's Icon=) in $pkg"
sample=$(grep -m1 '/samples/banking77\.csv$' "$work/files") || fail "the bundled sample is not in $pkg"
cmp -s "$sample" samples/banking77.csv || fail "$sample differs from samples/banking77.csv"
grep -q '/samples/README\.md$' "$work/files" || fail "the sample's README is not in $pkg"
echo "install-smoke: files ok: $app, $cli, $desktop, icon $icon_name, $sample"

# What the installed programs see: a fresh home of their own, no network.
export DIALECT_HOME="$work/home" XDG_DATA_HOME="$work/xdg/data" XDG_CONFIG_HOME="$work/xdg/config" \
  XDG_CACHE_HOME="$work/xdg/cache" HF_HUB_OFFLINE=1
mkdir -p "$DIALECT_HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"

"$cli" --version | grep -q "^dialect " || fail "$cli --version"
"$cli" inspect "$sample" >"$work/inspect.txt" 2>&1 || { cat "$work/inspect.txt"; fail "$cli inspect $sample"; }
grep -q ": 10377 rows," "$work/inspect.txt" || { cat "$work/inspect.txt"; fail "$cli inspect did not count the sample's 10377 rows"; }
echo "install-smoke: the installed CLI read the installed sample"

if [ -n "$cuda" ]; then
  scripts/cuda/no-cuda-needed.sh "$app" "$cli"
  if ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 '; then
    echo "install-smoke: this machine has the NVIDIA driver (libcuda.so.1): the CPU fallback is not checked here"
  else
    devices=$("$cli" devices)
    echo "$devices"
    grep -q '^cpu *available' <<<"$devices" || fail "$cli devices lists no usable CPU"
    grep -q '^cuda *unavailable: no NVIDIA driver: libcuda.so.1 not found; install the NVIDIA driver, 580 or newer' <<<"$devices" \
      || fail "$cli devices does not say that the NVIDIA driver is missing (is the package built with --features cuda?)"
    # The installed sample on the tiny BERT fixture (a new head for the sample's classes).
    "$cli" train "$sample" --model tests/fixtures/golden/bert/model --new-head --epochs 1 \
      --max-rows 400 --runs-dir "$work/runs" 2> "$work/train.log" || { cat "$work/train.log"; fail "$cli train exited with an error"; }
    cat "$work/train.log"
    grep -q '^GPU not used, training on the CPU: no NVIDIA driver: libcuda.so.1 not found' "$work/train.log" \
      || fail "$cli train did not say why the GPU is not used"
    grep -q '^Training .* on cpu (f32)' "$work/train.log" || fail "$cli train did not train on the CPU"
    device=$("$cli" runs --json --runs-dir "$work/runs" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["summary"]["device"])')
    [ "$device" = cpu ] || fail "the run's record names device '$device', not cpu"
    echo "install-smoke: the CUDA-enabled CLI trained on the CPU and said why the GPU is not used"
    # The app's device field must say the same (e2e/smoke_installed.mjs).
    export DIALECT_EXPECT_CUDA_NOTE="no NVIDIA driver: libcuda.so.1 not found"
  fi
fi

. scripts/lib/window.sh
start_display "$work/xvfb.log"

port=${DIALECT_DRIVER_PORT:-4454}
export DIALECT_DRIVER_PORT=$port DIALECT_APP_BINARY=$app DIALECT_EXPECT_SAMPLE=$sample
start_driver "$port" "$work/tauri-driver.log" || fail "tauri-driver did not start"
node e2e/smoke_installed.mjs || { tail -50 "$work/tauri-driver.log"; fail "the installed app's window"; }
pkill -P "$driver" 2>/dev/null || true  # its WebKitWebDriver
echo "install-smoke: passed"
