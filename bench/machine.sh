# Sourced by the benchmarks: `machine DIALECT_BINARY` prints one line naming the CPU,
# the vector path Dialect's kernels take on it (from `dialect devices`), the one
# PyTorch takes (torch.backends.cpu.get_cpu_capability, with $PYTHON or bench/.venv)
# and the GPU if there is one, for every table's heading.
machine() {
  local ours peer gpu
  ours=$("$1" devices --json | python3 -c 'import json,sys; print(next(d["name"] for d in json.load(sys.stdin) if d["choice"] == "cpu"))')
  peer=$("${PYTHON:-bench/.venv/bin/python}" -c 'import torch; print(torch.backends.cpu.get_cpu_capability())' 2>/dev/null || echo "not installed")
  gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
  echo "CPU: $ours; PyTorch's CPU path: $peer${gpu:+; GPU: $gpu}"
}
