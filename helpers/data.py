"""Offline-first data layer: every file the course downloads, found locally first.

Lookup order for :func:`fetch`:

1. the folder named by ``$COURSE_DATA_DIR`` (a teacher's USB stick, CI's shared datasets);
2. the course cache (``$COURSE_CACHE_DIR``, default ``~/.cache/dl-course``);
3. a download, from ``$COURSE_MIRROR_URL`` if set (a workshop's local mirror) or else the file's
   canonical URL, checked against its known checksum before it enters the cache.

A file that fails its checksum is never deleted: the error says which hash was expected, which
was found, and where the file is. ``python -m helpers.data prefetch`` (``make data``) fills the
cache with everything the course needs, so a room without network needs nothing more.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.paths import cache_dir

DATA_DIR_VARIABLE = "COURSE_DATA_DIR"
MIRROR_VARIABLE = "COURSE_MIRROR_URL"
PREFETCH_COMMAND = "make data  (or: python -m helpers.data prefetch)"
DOWNLOAD_TIMEOUT_S = 30


@dataclass(frozen=True)
class Checksum:
    """One accepted content of a file: its hash algorithm, hex digest and a label saying what it is."""

    algorithm: str
    hexdigest: str
    label: str


@dataclass(frozen=True)
class RegistryEntry:
    """A file the course downloads: its name on disk, canonical URL and accepted checksums."""

    name: str
    filename: str
    url: str
    checksums: tuple[Checksum, ...]
    description: str
    required: bool


REGISTRY: dict[str, RegistryEntry] = {
    entry.name: entry
    for entry in (
        RegistryEntry(
            name="mnist",
            filename="mnist.npz",
            url="https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
            checksums=(
                Checksum(
                    "sha256",
                    "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
                    "Keras original",
                ),
                Checksum(
                    "sha256",
                    "8e6ec8c3abecfc33c4668f305fdb249c17c76318f87c4ace5870d17defce8071",
                    "course copy recovered from a PNG re-encoding (same labels, some pixels darker)",
                ),
            ),
            description="MNIST handwritten digits, Keras layout (notebooks 00-06)",
            required=True,
        ),
        RegistryEntry(
            name="resnet50_imagenet_notop",
            filename="resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
            url=(
                "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
                "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
            ),
            # Keras publishes only the MD5 of its application weights (keras.applications.resnet).
            checksums=(Checksum("md5", "4d473c1dd8becc155b73f8504c6f6626", "Keras original"),),
            description="ResNet50 ImageNet weights without the classifier (notebook 04)",
            required=False,
        ),
    )
}


class DataError(RuntimeError):
    """Base class of the data layer's errors; each message says what to do."""


class DataNotAvailableError(DataError):
    """The file is nowhere on this machine and could not be downloaded."""


class ChecksumMismatchError(DataError):
    """A file's content is not one of the accepted versions; the file was left where it is."""


def registry_entry(name: str) -> RegistryEntry:
    """The registry entry called ``name`` (e.g. ``"mnist"``), or a clear error listing the names."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"No course file named {name!r}; known: {', '.join(REGISTRY)}") from None


def file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of a file's bytes, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def identify(path: Path, entry: RegistryEntry) -> Checksum:
    """The accepted checksum that ``path`` matches; :class:`ChecksumMismatchError` if none does."""
    actual: dict[str, str] = {}
    for checksum in entry.checksums:
        if checksum.algorithm not in actual:
            actual[checksum.algorithm] = file_digest(path, checksum.algorithm)
        if actual[checksum.algorithm] == checksum.hexdigest:
            return checksum
    expected = "\n".join(f"  {c.algorithm} {c.hexdigest}  ({c.label})" for c in entry.checksums)
    found = "\n".join(f"  {algorithm} {value}" for algorithm, value in actual.items())
    raise ChecksumMismatchError(
        f"{path} is not a valid copy of {entry.filename}.\nExpected one of:\n{expected}\n"
        f"Found:\n{found}\nThe file was left in place. If it is a partial or damaged download, "
        f"delete it and run {PREFETCH_COMMAND}."
    )


def candidate_paths(entry: RegistryEntry) -> list[tuple[str, Path | None]]:
    """Where :func:`fetch` looks, in order, as (description, path); path is None if unset."""
    data_dir = os.environ.get(DATA_DIR_VARIABLE)
    return [
        (f"${DATA_DIR_VARIABLE}", Path(data_dir).expanduser() / entry.filename if data_dir else None),
        ("course cache", cache_dir() / entry.filename),
    ]


def locate(name: str) -> Path | None:
    """The verified local copy of a registry file, or None if there is none (never downloads)."""
    entry = registry_entry(name)
    for _, path in candidate_paths(entry):
        if path is not None and path.is_file():
            identify(path, entry)
            return path
    return None


def download_url(entry: RegistryEntry) -> str:
    """The URL a download uses: ``$COURSE_MIRROR_URL/<filename>`` if set, else the canonical URL."""
    mirror = os.environ.get(MIRROR_VARIABLE)
    return f"{mirror.rstrip('/')}/{entry.filename}" if mirror else entry.url


def download(entry: RegistryEntry, destination: Path) -> Path:
    """Download ``entry`` to ``destination``, checking its checksum before the file appears there.

    The bytes go to a ``.part`` file first; only a verified file is renamed into place, so an
    interrupted or tampered download never shadows a good file.
    """
    url = download_url(entry)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    print(f"Downloading {entry.filename} from {url} ...", file=sys.stderr)
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, open(partial, "wb") as stream:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                stream.write(chunk)
    except (urllib.error.URLError, OSError) as error:
        partial.unlink(missing_ok=True)
        raise DataNotAvailableError(f"download from {url} failed: {error}") from error
    try:
        identify(partial, entry)
    except ChecksumMismatchError as error:
        partial.unlink()
        raise ChecksumMismatchError(
            f"The download from {url} was rejected and not cached:\n{error}".replace("The file was left in place. ", "")
        ) from None
    os.replace(partial, destination)
    return destination


def fetch(name: str, *, allow_download: bool = True) -> Path:
    """Path to a verified copy of registry file ``name``, downloading it only if needed.

    Raises :class:`DataNotAvailableError` naming every place looked and the prefetch command,
    or :class:`ChecksumMismatchError` (file kept) if a local copy is damaged.
    """
    entry = registry_entry(name)
    found = locate(name)
    if found is not None:
        return found
    looked = [
        f"  - {label}: {path if path is not None else 'not set'}{'' if path is None else ' (missing)'}"
        for label, path in candidate_paths(entry)
    ]
    destination = cache_dir() / entry.filename
    if allow_download:
        try:
            return download(entry, destination)
        except DataNotAvailableError as error:
            looked.append(f"  - {error}")
    else:
        looked.append("  - download: not attempted (allow_download=False)")
    raise DataNotAvailableError(
        f"{entry.filename} ({entry.description}) is not available.\nLooked in:\n"
        + "\n".join(looked)
        + f"\nTo fix: on a machine with network run {PREFETCH_COMMAND}; or copy {entry.filename} "
        f"into a folder and point ${DATA_DIR_VARIABLE} at it."
    )


def prefetch(names: Iterable[str] | None = None) -> dict[str, Path]:
    """Fetch every registry file (or ``names``) into the cache; returns where each one is."""
    return {name: fetch(name) for name in (names or REGISTRY)}


def availability() -> list[dict[str, object]]:
    """One row per registry file: whether it is available offline, where, and which version."""
    rows: list[dict[str, object]] = []
    for entry in REGISTRY.values():
        row: dict[str, object] = {"name": entry.name, "file": entry.filename, "required": entry.required}
        try:
            path = locate(entry.name)
        except ChecksumMismatchError as error:
            row.update(available=False, where=str(error).splitlines()[0], version="damaged")
        else:
            if path is None:
                row.update(available=False, where="missing", version=f"run {PREFETCH_COMMAND}")
            else:
                row.update(available=True, where=str(path), version=identify(path, entry).label)
        rows.append(row)
    return rows


MnistArrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def load_mnist() -> MnistArrays:
    """MNIST as ``(x_train, y_train), (x_test, y_test)`` uint8 arrays, like ``keras.datasets.mnist``."""
    with np.load(fetch("mnist")) as arrays:
        return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m helpers.data prefetch [NAME ...]`` or ``... status``."""
    parser = argparse.ArgumentParser(prog="python -m helpers.data", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    prefetch_parser = commands.add_parser("prefetch", help="download every course file into the cache")
    prefetch_parser.add_argument("names", nargs="*", help=f"default: all of {', '.join(REGISTRY)}")
    commands.add_parser("status", help="list which course files are available offline")
    arguments = parser.parse_args(argv)
    if arguments.command == "status":
        for row in availability():
            print(f"{'ok     ' if row['available'] else 'MISSING'} {row['name']:<26} {row['where']}")
        return 0
    failures = 0
    for name in arguments.names or REGISTRY:
        try:
            print(f"ok      {name:<26} {fetch(name)}")
        except (DataError, KeyError) as error:
            failures += 1
            print(f"FAILED  {name}: {error}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
