"""8. Bursts: N clients at once (default 40), each asking for a page R times (default 3), all released together.

On AWS Lambda scales out; on a 2-core machine MiniStack's workers would thrash (issue 10: 94 of 120 answered 502
after a 10 s timeout). The stack's server admits a few API requests at a time and queues the rest
(bootstrap/ministack_server.py); what cannot wait is a 503 with CORS and Retry-After, which the page retries.
Measured here: statuses, latency percentiles, whether every error response carries CORS.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from typing import Any

from bench.common import Row, percentile
from bench.context import Bench

SECTION = "8 burst"
CLIENTS = int(os.environ.get("BENCH_BURST_CLIENTS", "40"))
ROUNDS = int(os.environ.get("BENCH_BURST_ROUNDS", "3"))


def burst(api_factory, clients: int = CLIENTS, rounds: int = ROUNDS) -> dict[str, Any]:
    apis = [api_factory() for _ in range(clients)]
    results: list[tuple[int, float, bool]] = []  # (status, seconds, has CORS)
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(api) -> None:
        barrier.wait()
        for _ in range(rounds):
            began = time.perf_counter()
            try:
                response = api.get(limit=50)
                outcome = (response.status_code, time.perf_counter() - began,
                           "Access-Control-Allow-Origin" in response.headers)
            except Exception:  # a dropped connection counts as a failure without CORS
                outcome = (0, time.perf_counter() - began, False)
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=client, args=(api,), daemon=True) for api in apis]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    wall = time.perf_counter() - began
    seconds = [s for _, s, _ in results]
    statuses = Counter(status for status, _, _ in results)
    return {
        "clients": clients, "rounds": rounds, "requests": len(results), "wall_s": round(wall, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": sum(v for k, v in statuses.items() if k >= 500 or k == 0),
        "errors_without_cors": sum(1 for status, _, cors in results if status >= 400 and not cors),
        "p50_ms": round(percentile(seconds, 50) * 1000), "p95_ms": round(percentile(seconds, 95) * 1000),
        "max_ms": round(max(seconds) * 1000),
    }


def run(bench: Bench) -> tuple[list[Row], dict]:
    from tests.clients import Api, confirmed_user

    user = confirmed_user("burst")
    Api(user).get(limit=50)  # one warm worker, as after any first page view
    result = burst(lambda: Api(user))
    rows = [
        Row(SECTION, f"{result['clients']} clients x {result['rounds']} page GETs at once: statuses",
            ", ".join(f"{k}: {v}" for k, v in result["statuses"].items()), note="goal: no 5xx"),
        Row(SECTION, "burst latency p50 / p95 / max", f"{result['p50_ms']} / {result['p95_ms']} / {result['max_ms']}",
            "ms", note="goal p95 <= 3000 ms"),
        Row(SECTION, "burst: error responses without CORS", result["errors_without_cors"]),
    ]
    return rows, {"burst": result}
