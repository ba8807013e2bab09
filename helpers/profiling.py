"""Reading a TensorFlow profile without TensorBoard: time per op type from the trace's ``.xplane.pb``.

``tf.profiler.experimental.start(logdir)`` ... ``stop()`` writes ``logdir/plugins/profile/<run>/<host>.xplane.pb``,
what TensorBoard's profiler shows. :func:`op_seconds` sums the duration of every TensorFlow op executed on
the host's compute threads, by op type (``MatMul``, ``_MklNativeFusedMatMul``, ``Mul``, ...).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path


def latest_trace(logdir: Path | str) -> Path:
    """The newest ``.xplane.pb`` under ``logdir``; a clear error if the profiler wrote none."""
    traces = sorted(Path(logdir).glob("plugins/profile/*/*.xplane.pb"), key=lambda path: path.stat().st_mtime)
    if not traces:
        raise FileNotFoundError(
            f"no profile under {logdir}: run tf.profiler.experimental.start({str(logdir)!r}), some steps, then stop()"
        )
    return traces[-1]


def op_seconds(logdir: Path | str) -> dict[str, float]:
    """Seconds spent in each op type (summed over threads) in the newest trace under ``logdir``, largest first.

    Op events are named ``"<op name>:<op type>"``; the executor's own events (``ExecutorState::Process``)
    and Python's are left out.
    """
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    space.ParseFromString(latest_trace(logdir).read_bytes())
    totals: Counter[str] = Counter()
    for plane in space.planes:
        if not plane.name.startswith("/host:"):
            continue
        for line in plane.lines:
            if line.name == "python":
                continue
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if ":" in name and "::" not in name:
                    totals[name.rsplit(":", 1)[1]] += event.duration_ps * 1e-12
    return dict(totals.most_common())


def op_kind(op_type: str) -> str:
    """A coarse class of an op type: matrix multiply, elementwise / reduction, or data movement."""
    lowered = op_type.lower()
    if "matmul" in lowered:
        return "matrix multiply"
    if any(word in lowered for word in ("iterator", "getnext", "identity", "cast", "reshape", "recv", "send")):
        return "data movement, casts"
    return "elementwise, reductions, optimizer"
