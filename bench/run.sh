#!/usr/bin/env bash
# Every CPU benchmark in one command: training (bench/train.sh), prediction
# (bench/predict.sh) and the app's start-up and idle memory (bench/app.sh), each against
# its peer where it has one, printed one after the other (~15 minutes on 2 cores).
# The GPU benchmarks run on a GPU machine: bench/gpu/README.md.
#   THREADS=2 bench/run.sh
set -euo pipefail
cd "$(dirname "$0")"
./train.sh
echo
./predict.sh
echo
./app.sh
