"""Benchmark the production guard: classification cost per URL, and the network guard's share of request time.

Run: .tools/bin/uv run python scripts/bench_guard.py   (prints figures; asserts nothing)
Goals: at most 5 µs per classification; the guard at most 2 % of a suite's wall time.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from safety import network_guard
from safety.hosts import HostPolicy
from tests.safety.stand_in import StandIn

URLS = [
    "http://127.0.0.1:3000/api/next-actions/abc/execute",
    "https://staging.example.com/api/health",
    "https://api.evenslouis.ca/api/next-actions",
    "http://0x7f.1:8080/",
    "http://127.0.0.1\\@evenslouis.ca/",
    "https://unknown.example.org/x?y=1",
]


def per_call(fn: object, rounds: int) -> float:
    call = fn  # type: ignore[assignment]
    start = time.perf_counter()
    for _ in range(rounds):
        call()  # type: ignore[operator]
    return (time.perf_counter() - start) / rounds


def main() -> None:
    policy = HostPolicy(safe_hosts=[("staging.example.com", "bench")], prod_hosts=[("evenslouis.ca", "bench")])
    print("classification, µs per call (median of 5 runs)")
    for url in URLS:
        fresh = iter(f"{url}?n={n}" for n in range(10**6))  # a URL never seen before: no cache hit
        cold = statistics.median(per_call(lambda f=fresh: policy.classify_url(next(f)), 2000) for _ in range(5))
        warm = statistics.median(per_call(lambda u=url: policy.classify_url(u), 20000) for _ in range(5))
        print(f"  {url[:48]:<48} first sight {cold * 1e6:7.1f}   repeated {warm * 1e6:5.2f}")
    host_warm = statistics.median(per_call(lambda: policy.classify_host("127.0.0.1"), 50000) for _ in range(5))
    print(f"  classify_host (what the httpx and http.client guards call): {host_warm * 1e6:.2f} µs")

    server = StandIn("127.0.0.1").start()
    try:
        rounds = 400
        with httpx.Client(trust_env=False) as client:
            url = server.url + "/api/x"
            client.post(url)
            bare = statistics.median(per_call(lambda: client.post(url), rounds) for _ in range(3))
            guard = network_guard.NetworkGuard(policy)
            network_guard.install(guard)
            try:
                guarded = statistics.median(per_call(lambda: client.post(url), rounds) for _ in range(3))
                check = statistics.median(
                    per_call(lambda: network_guard.check("POST", url, "bench", "127.0.0.1"), 20000) for _ in range(5)
                )
            finally:
                network_guard.uninstall(guard)
    finally:
        server.stop()
    print("\nnetwork guard on loopback POSTs (the cheapest requests a suite makes)")
    print(f"  request without guard {bare * 1e3:.3f} ms, with guard {guarded * 1e3:.3f} ms")
    print(f"  guard check alone {check * 1e6:.2f} µs = {check / bare * 100:.2f} % of a request")


if __name__ == "__main__":
    main()
