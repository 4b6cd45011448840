#!/bin/sh
# Train this job with accelerate. CONFIG: single_gpu, multi_gpu (the default), fsdp or
# deepspeed_zero2; NUM_PROCESSES: how many GPUs. Extra arguments go to train.py
# (e.g. --max-steps 5, --data FILE).
set -eu
cd "$(dirname "$0")"
CONFIG="${CONFIG:-multi_gpu}"
NUM_PROCESSES="${NUM_PROCESSES:-2}"
exec accelerate launch --config_file "accelerate/$CONFIG.yaml" \
  --num_processes "$NUM_PROCESSES" train.py "$@"
