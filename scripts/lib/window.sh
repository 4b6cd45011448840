# Shared by scripts/e2e.sh and scripts/install-smoke.sh (sourced): a display for the
# real window and a tauri-driver in front of WebKitWebDriver. Both append the processes
# they start to the caller's `pids` array, which the caller's cleanup kills.

# Start Xvfb on the next free display unless one is set; its log goes to $1.
start_display() {
  [ -n "${DISPLAY:-}" ] && return 0
  local display=99
  while [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
  Xvfb ":$display" -screen 0 1440x900x24 -nolisten tcp >"$1" 2>&1 &
  pids+=($!)
  export DISPLAY=":$display"
}

# Start tauri-driver on port $1 (WebKitWebDriver on $1 + 1), logging to $2, and wait
# until it answers; sets `driver` to its pid. Returns 1, with its log, if it never does.
start_driver() {
  local port=$1 log=$2
  tauri-driver --port "$port" --native-port $((port + 1)) >"$log" 2>&1 &
  driver=$!
  pids+=($driver)
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/status" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "tauri-driver did not start on port $port:"; cat "$log"
  return 1
}
