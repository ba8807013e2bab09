"""Serving latency and throughput: the course's model server against a naive ``model.predict`` server.

One run starts both servers on loopback with the same MNIST MLP: the course server
(``python -m helpers.serving``, the exported SavedModel called through its signature) and
``benchmarks/naive_server.py`` (``model.predict`` per request, the seed's approach). It checks that
they give the same answers, then sends each one a bounded load of single-example ``:predict``
requests: first one client at a time (latency), then several concurrent clients (throughput).
It prints p50/p99 latency and requests per second for each, and the ratios.

    python benchmarks/serving.py            # full: 2000 + 4000 requests to the course server
    python benchmarks/serving.py --fast     # a quick check run
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.mode import by_mode, course_mode
from helpers.processes.server import LOOPBACK, ServerProcess, free_port, start_model_server, start_server
from helpers.timing import Timing

TARGET_P50_MS = 3.0
TARGET_THROUGHPUT_RATIO = 20.0
NAIVE_SERVER = Path(__file__).with_name("naive_server.py")


@dataclass(frozen=True)
class LoadResult:
    """Latencies (seconds) of ``len(latencies)`` requests sent by ``clients`` clients in ``wall_s``."""

    server: str
    clients: int
    latencies: np.ndarray
    wall_s: float

    @property
    def p50_ms(self) -> float:
        return Timing.from_durations(self.latencies).p50_s * 1000

    @property
    def p99_ms(self) -> float:
        return Timing.from_durations(self.latencies).p99_s * 1000

    @property
    def requests_per_s(self) -> float:
        return len(self.latencies) / self.wall_s


def post(connection: http.client.HTTPConnection, path: str, body: bytes) -> dict:
    """One keep-alive POST; the decoded JSON answer (raises on a non-200 status)."""
    connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    content = response.read()
    if response.status != 200:
        raise RuntimeError(f"POST {path} answered {response.status}: {content[:300]!r}")
    return json.loads(content)


def run_load(server: ServerProcess, name: str, bodies: list[bytes], requests: int, clients: int) -> LoadResult:
    """Send ``requests`` predict requests from ``clients`` threads (each with its own connection)."""
    path = "/v1/models/mnist:predict"
    shares = [requests // clients + (index < requests % clients) for index in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    failures: list[BaseException] = []

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=60)
        try:
            barrier.wait()
            for request in range(shares[index]):
                start = time.perf_counter()
                post(connection, path, bodies[(index * 7919 + request) % len(bodies)])
                latencies[index].append(time.perf_counter() - start)
        except BaseException as error:  # reported after the join
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    wall_s = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{name}: {len(failures)} clients failed, first: {failures[0]!r}")
    return LoadResult(name, clients, np.concatenate([np.asarray(part) for part in latencies]), wall_s)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table; exit code 0 (the targets are reported, not enforced)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a quick check run (default: COURSE_MODE, else full)")
    parser.add_argument("--requests", type=int, help="requests to the course server per phase (default by mode)")
    parser.add_argument("--naive-requests", type=int, help="requests to the naive server per phase (default by mode)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients in the throughput phase")
    arguments = parser.parse_args(argv)
    mode = "fast" if arguments.fast else course_mode()
    requests = arguments.requests or by_mode(mode, fast=200, full=2000)
    naive_requests = arguments.naive_requests or by_mode(mode, fast=20, full=200)

    from helpers.datasets.registry import load_mnist
    from helpers.lessons.mnist import load_or_train_mnist, mnist_model_path

    model, origin = load_or_train_mnist("mlp", mode)
    print(f"mode {mode}; model: {origin}")
    (_, _), (x_test, _) = load_mnist()
    samples = x_test[:256]
    bodies = [json.dumps({"instances": sample[None].tolist()}).encode() for sample in samples]

    with tempfile.TemporaryDirectory(prefix="serving-benchmark-") as folder:
        base = Path(folder) / "models" / "mnist"
        model.export(str(base / "1"), verbose=False)
        servers: dict[str, ServerProcess] = {}
        try:
            servers["course"] = start_model_server({"mnist": base}, log_path=Path(folder) / "course.log")
            port = free_port()
            servers["naive"] = start_server(
                [sys.executable, str(NAIVE_SERVER), "--model", str(mnist_model_path("mlp")), "--port", str(port)],
                port=port,
                log_path=Path(folder) / "naive.log",
            )
            connections = {name: http.client.HTTPConnection(LOOPBACK, server.port) for name, server in servers.items()}
            answers = {
                name: post(connection, "/v1/models/mnist:predict", bodies[0])
                for name, connection in connections.items()
            }
            difference = np.abs(np.subtract(answers["course"]["predictions"], answers["naive"]["predictions"])).max()
            print(f"both servers answer; largest difference between their probabilities: {difference:.2g}")
            if difference > 1e-4:
                raise RuntimeError("the two servers disagree: they are not serving the same model")
            for connection in connections.values():  # warm-up, not timed
                for body in bodies[:20]:
                    post(connection, "/v1/models/mnist:predict", body)
                connection.close()
            results = []
            for clients in (1, arguments.clients):
                results.append(run_load(servers["course"], "course", bodies, requests, clients))
                results.append(run_load(servers["naive"], "naive", bodies, naive_requests, clients))
        finally:
            for server in servers.values():
                server.stop()

    print(f"\nsingle-example :predict requests on {LOOPBACK}, client and servers on this machine\n")
    print(f"{'server':<8} {'clients':>7} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>9}")
    for result in results:
        print(
            f"{result.server:<8} {result.clients:>7} {len(result.latencies):>8} {result.p50_ms:>8.2f} "
            f"{result.p99_ms:>8.2f} {result.requests_per_s:>9.1f}"
        )
    course_1, naive_1, course_n, naive_n = results
    throughput_ratio = course_n.requests_per_s / naive_n.requests_per_s
    print(f"\nlatency ratio (naive p50 / course p50, 1 client): {naive_1.p50_ms / course_1.p50_ms:.1f}×")
    print(f"throughput ratio (course / naive req/s, {arguments.clients} clients): {throughput_ratio:.1f}×")
    print(
        f"targets: course p50 ≤ {TARGET_P50_MS} ms: {'met' if course_1.p50_ms <= TARGET_P50_MS else 'NOT met'} "
        f"({course_1.p50_ms:.2f} ms); throughput ≥ {TARGET_THROUGHPUT_RATIO:.0f}× naive: "
        f"{'met' if throughput_ratio >= TARGET_THROUGHPUT_RATIO else 'NOT met'} ({throughput_ratio:.1f}×)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
