#!/usr/bin/env bash
# Check the dependency tree against deny.toml with cargo-deny: advisories (from the
# RustSec snapshot in .ci/advisory-db, no network), licences, sources, duplicates.
# Refresh the snapshot with scripts/deny.sh --refresh PATH_TO_ADVISORY_DB_CHECKOUT.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
snapshot=.ci/advisory-db

if [ "${1:-}" = "--refresh" ]; then
  src="${2:?usage: scripts/deny.sh --refresh PATH_TO_ADVISORY_DB_CHECKOUT}"
  rm -rf "$snapshot"
  mkdir -p "$snapshot"
  git -C "$src" archive HEAD crates rust LICENSE.txt LICENSES README.md support.toml |
    tar -x -C "$snapshot"
  printf 'commit %s\ndate %s\n' "$(git -C "$src" rev-parse HEAD)" \
    "$(git -C "$src" show -s --format=%cI HEAD)" > .ci/advisory-db.snapshot
  echo "deny: advisory snapshot refreshed to $(cat .ci/advisory-db.snapshot | tr '\n' ' ')"
  exit 0
fi

# cargo-deny opens the database of https://github.com/rustsec/advisory-db as a git
# checkout at <db-path>/advisory-db-<hash of that URL>, and takes its age from the
# last commit: lay the snapshot out that way, dated as the snapshot.
dbs="$(mktemp -d)"
trap 'rm -rf "$dbs"' EXIT
db="$dbs/advisory-db-3157b0e258782691"
cp -r "$snapshot" "$db"
date="$(sed -n 's/^date //p' .ci/advisory-db.snapshot)"
git -C "$db" init -q
git -C "$db" add -A
GIT_AUTHOR_DATE="$date" GIT_COMMITTER_DATE="$date" \
  git -C "$db" -c user.name=dialect -c user.email=dialect@localhost -c commit.gpgsign=false \
  commit -q -m "advisory-db snapshot"
touch -d "$date" "$db/.git/HEAD"
echo "deny: advisories as of $date ($(sed -n 's/^commit //p' .ci/advisory-db.snapshot))"

# Every crate of the lock file (all targets and features) must be on disk offline.
cargo fetch --locked --quiet
# Errors in full; duplicate versions (warnings) only counted: DENY_LOG=warn lists them.
DIALECT_ADVISORY_DBS="$dbs" cargo deny --offline --locked --log-level "${DENY_LOG:-error}" \
  check --show-stats advisories licenses sources bans
