"""Load benchmark of the public check endpoint ``POST /api/v1/check`` (issue 5).

Starts ``uvicorn`` for ``patroli.web.app:create_app`` in a subprocess on 127.0.0.1 (a
free ephemeral port; a temporary SQLite database; ``PATROLI_PUBLIC_RATE`` set high so
the public rate limit does not answer 429 during the run), then, on loopback only:

1. a fixed rate of ``--rate`` requests/s (default 50) for ``--seconds`` s (default 20),
   open loop: request i is sent at t0 + i/rate whatever the earlier ones do, so a slow
   server shows up as latency, not as a lower send rate;
2. as fast as possible for ``--burst-seconds`` s (default 10) with ``--concurrency``
   (default 8) closed-loop clients.

Prints, per phase: requests sent, requests/s achieved, latency p50/p95/p99 (ms) and
errors (transport failures and non-200 answers). Target: p99 < 150 ms at 50 requests/s.
The texts are the corpus posts (``$PATROLI_SHARED/data/corpus/posts.jsonl``, default
../shared), else the bundled demo posts; each request sends one, cycling.

Usage: ``python bench/web_load.py [--rate 50] [--seconds 20] [--burst-seconds 10]
[--concurrency 8]``. Stops by itself; the server is stopped at the end (also on error or
Ctrl-C). Exit status 1 when the fixed-rate phase misses the p99 target or has errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PATROLI_SHARED", REPO.parent / "shared"))
TARGET_P99_MS = 150.0


def load_texts() -> tuple[list[str], str]:
    """Post texts to send (corpus if present, else the bundled demo posts), and where
    they came from."""
    corpus = SHARED / "data" / "corpus" / "posts.jsonl"
    src = corpus if corpus.exists() else REPO / "src" / "patroli" / "data" / "demo" / "posts.jsonl"
    texts: list[str] = []
    with src.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                t = json.loads(line).get("text") or ""
                if t.strip():
                    texts.append(t[:20_000])
    if not texts:
        raise SystemExit(f"no texts in {src}")
    return texts, str(src)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn serving ``create_app()`` on a free loopback port; waits until /healthz
    answers (at most 60 s)."""
    port = free_port()
    env = {**os.environ,
           "PATROLI_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
           "PATROLI_SECRET_KEY": "bench-" + "k" * 40,
           "PATROLI_PUBLIC_RATE": "1000000000/1"}
    env.pop("PATROLI_REDIS_URL", None)
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "patroli.web.app:create_app",
           "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
           "--no-access-log", "--no-server-header"]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with status {proc.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=1.0).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("server did not start within 60 s")


@dataclass
class Phase:
    """Results of one phase: latencies (ms) of the answered requests, error count."""

    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    sent: int = 0
    elapsed: float = 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=1000, method="inclusive")[
            int(q * 1000) - 1]

    def line(self) -> str:
        rps = self.sent / self.elapsed if self.elapsed else 0.0
        return (f"{self.name:<22} requests {self.sent:>6}  achieved {rps:8.1f} req/s  "
                f"p50 {self.pct(0.50):7.1f} ms  p95 {self.pct(0.95):7.1f} ms  "
                f"p99 {self.pct(0.99):7.1f} ms  errors {self.errors}")


async def _one(client: httpx.AsyncClient, text: str, phase: Phase) -> None:
    t = time.perf_counter()
    try:
        r = await client.post("/api/v1/check", json={"text": text})
        ok = r.status_code == 200
    except httpx.HTTPError:
        ok = False
    ms = (time.perf_counter() - t) * 1000
    if ok:
        phase.latencies.append(ms)
    else:
        phase.errors += 1


async def fixed_rate(base: str, texts: list[str], rate: float, seconds: float) -> Phase:
    """Open-loop load: ``rate`` requests/s for ``seconds`` (at most rate*seconds)."""
    phase = Phase(f"fixed {rate:g} req/s")
    n = int(rate * seconds)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, timeout=10.0, limits=limits) as client:
        tasks = []
        t0 = time.perf_counter()
        for i in range(n):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_one(client, texts[i % len(texts)], phase)))
            phase.sent += 1
        await asyncio.gather(*tasks)
        phase.elapsed = time.perf_counter() - t0
    return phase


async def flat_out(base: str, texts: list[str], seconds: float, concurrency: int) -> Phase:
    """Closed-loop load: ``concurrency`` clients, each sending as soon as answered."""
    phase = Phase(f"max ({concurrency} clients)")
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=10.0, limits=limits) as client:
        t0 = time.perf_counter()
        stop = t0 + seconds
        counter = 0

        async def worker() -> None:
            nonlocal counter
            while time.perf_counter() < stop:
                i = counter
                counter += 1
                phase.sent += 1
                await _one(client, texts[i % len(texts)], phase)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        phase.elapsed = time.perf_counter() - t0
    return phase


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=50.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--burst-seconds", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args(argv)
    if not (0 < args.rate <= 2000 and 0 < args.seconds <= 300 and 0 <= args.burst_seconds <= 300
            and 1 <= args.concurrency <= 256):
        ap.error("rate 0-2000, seconds 0-300, burst-seconds 0-300, concurrency 1-256")
    texts, src = load_texts()
    with tempfile.TemporaryDirectory(prefix="patroli-bench-") as tmpdir:
        proc, base = start_server(Path(tmpdir))
        try:
            # warm-up: loads the rules, the model and the registry once
            for t in texts[:20]:
                httpx.post(base + "/api/v1/check", json={"text": t}, timeout=30.0)
            print(f"server {base} (uvicorn, 1 process); {len(texts)} texts from {src}; "
                  f"cpu count {os.cpu_count()}")
            fixed = asyncio.run(fixed_rate(base, texts, args.rate, args.seconds))
            print(fixed.line())
            if args.burst_seconds > 0:
                burst = asyncio.run(flat_out(base, texts, args.burst_seconds, args.concurrency))
                print(burst.line())
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    ok = fixed.errors == 0 and fixed.pct(0.99) < TARGET_P99_MS
    print(f"target p99 < {TARGET_P99_MS:g} ms at {args.rate:g} req/s: "
          f"{'met' if ok else 'MISSED'} (p99 {fixed.pct(0.99):.1f} ms, errors {fixed.errors})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
