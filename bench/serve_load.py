"""A bounded load client for `dialect serve` (standard library only: threads +
http.client, one keep-alive connection per client).

    python3 bench/serve_load.py HOST:PORT TEXTS_FILE CLIENTS SECONDS [MAX_REQUESTS]

Each of CLIENTS threads posts one text at a time (taken in turn from TEXTS_FILE, one
per line) to /v1/classify until SECONDS have passed or MAX_REQUESTS (default 20000)
have been sent in all, whichever comes first; a 503 is counted and the next request
sent at once (no back-off: the harshest well-formed load). Only loopback addresses
are accepted. Prints one JSON object: requests/s answered 200, p50/p99 latency of
those (ms), and the count of each status.
"""

import http.client
import json
import sys
import threading
import time


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))
    return sorted_values[index]


def main():
    host_port, texts_file, clients, seconds = sys.argv[1:5]
    max_requests = int(sys.argv[5]) if len(sys.argv) > 5 else 20000
    host, port = host_port.rsplit(":", 1)
    if host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
        sys.exit(f"serve_load: only loopback addresses are load-tested, not {host}")
    clients, seconds = int(clients), float(seconds)
    texts = [line.strip() for line in open(texts_file, encoding="utf-8") if line.strip()]
    bodies = [json.dumps({"text": t}).encode() for t in texts]

    lock = threading.Lock()
    sent = [0]
    latencies = []
    statuses = {}
    failures = []
    deadline = time.monotonic() + seconds

    def client(offset):
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        i = offset
        while time.monotonic() < deadline:
            with lock:
                if sent[0] >= max_requests:
                    break
                sent[0] += 1
            body = bodies[i % len(bodies)]
            i += clients
            start = time.perf_counter()
            try:
                connection.request(
                    "POST", "/v1/classify", body, {"Content-Type": "application/json"}
                )
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    failures.append(repr(e))
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=60)
                continue
            elapsed = time.perf_counter() - start
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    latencies.append(elapsed)
        connection.close()

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - began
    latencies.sort()
    ms = lambda v: None if v is None else round(v * 1000, 2)
    print(
        json.dumps(
            {
                "clients": clients,
                "seconds": round(wall, 2),
                "ok_per_s": round(len(latencies) / wall, 1),
                "p50_ms": ms(percentile(latencies, 0.50)),
                "p99_ms": ms(percentile(latencies, 0.99)),
                "statuses": {str(k): v for k, v in sorted(statuses.items())},
                "connection_failures": len(failures),
            }
        )
    )


if __name__ == "__main__":
    main()
