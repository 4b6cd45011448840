#!/bin/sh
# Train this job with accelerate. CONFIG: single_gpu, multi_gpu (the default), fsdp or
# deepspeed_zero2; NUM_PROCESSES: how many GPUs (1 for single_gpu, else 2 by default).
# Extra arguments go to train.py (e.g. --max-steps 5, --data FILE).
set -eu
cd "$(dirname "$0")"
CONFIG="${CONFIG:-multi_gpu}"
if [ "$CONFIG" = single_gpu ]; then NUM_PROCESSES="${NUM_PROCESSES:-1}"; fi
NUM_PROCESSES="${NUM_PROCESSES:-2}"
exec accelerate launch --config_file "accelerate/$CONFIG.yaml" \
  --num_processes "$NUM_PROCESSES" train.py "$@"
