#!/usr/bin/env bash
# Set up everything Dialect needs on Debian/Ubuntu: system packages (only those
# missing), the Rust toolchain check, and the offline default model in the Hugging
# Face cache. Idempotent: safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
[ -f /etc/ssl/certs/ca-certificates.crt ] || need_apt+=(ca-certificates)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
# The desktop app (Tauri 2 on WebKitGTK) and its end-to-end test (WebKitWebDriver
# under Xvfb).
for pkg in libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libxdo-dev libssl-dev \
           webkit2gtk-driver xvfb xauth; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] || {
    echo "setup: installing the Rust toolchain with rustup"
    command -v curl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy,rustfmt
  }
  export PATH="$HOME/.cargo/bin:$PATH"
fi

# tauri-driver bridges WebdriverIO to WebKitWebDriver for the end-to-end test.
command -v tauri-driver >/dev/null 2>&1 || {
  echo "setup: installing tauri-driver"
  cargo install tauri-driver --version 2.1.0 --locked
}

# cargo-deny checks the dependency tree (scripts/deny.sh), pinned so that its verdicts
# change only when we bump it.
CARGO_DENY_VERSION=0.20.2
cargo deny --version 2>/dev/null | grep -qx "cargo-deny $CARGO_DENY_VERSION" || {
  echo "setup: installing cargo-deny $CARGO_DENY_VERSION"
  cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked
}

# The UI's include the Tauri CLI (@tauri-apps/cli) that scripts/package.sh bundles with.
echo "setup: installing the UI's and the end-to-end test's npm packages"
npm --prefix ui ci --no-audit --no-fund --loglevel=error
npm --prefix e2e ci --no-audit --no-fund --loglevel=error

scripts/seed-model-cache.sh
echo "setup: done"
