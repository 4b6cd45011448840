# Sourced by the benchmarks: `machine DIALECT_BINARY` prints one line naming the CPU,
# the vector path Dialect's kernels take on it (from `dialect devices`) and the one
# PyTorch takes (torch.backends.cpu.get_cpu_capability), for every table's heading.
machine() {
  local ours peer
  ours=$("$1" devices --json | python3 -c 'import json,sys; print(next(d["name"] for d in json.load(sys.stdin) if d["choice"] == "cpu"))')
  peer=$(bench/.venv/bin/python -c 'import torch; print(torch.backends.cpu.get_cpu_capability())' 2>/dev/null || echo "not installed")
  echo "CPU: $ours; PyTorch's CPU path: $peer"
}
