"""Offline workshop pack: one folder a teacher copies to every learner's machine; the room needs no network.

``python -m coursetools.workshop pack OUT`` (``make workshop-pack OUT=...``), run once with network,
builds::

    OUT/WORKSHOP.md   what is in the pack and how to install it (Linux, macOS, Windows)
    OUT/install.sh    the offline install: venv, wheels, data into the course cache
    OUT/course/       the course source (the files git tracks)
    OUT/wheels/       pip wheels of every pinned requirement (pyproject dependencies + dev extra)
    OUT/data/         every dataset and weights file of helpers.datasets.registry's registry, checksums verified
                      (data extracted from package distributions: one folder per entry, with its manifest)

On a learner's machine: ``sh OUT/install.sh``, which runs
``pip install --no-index --find-links wheels -e ".[dev]"`` in ``course/`` and
``python -m coursetools.workshop install-data data`` (copies the data into the course cache).

Wheels are platform-specific: build the pack on the learners' platform, or pass ``--platform``
and ``--python-version`` (e.g. ``--platform win_amd64 --python-version 3.11``) to download theirs.
``--small`` (tests) limits the wheels to the build backend and two small packages (enough to install
the course itself with ``--no-deps``) and the data to the required files.
"""

from __future__ import annotations

import argparse
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path

from helpers.datasets import registry
from helpers.paths import cache_dir

ROOT = Path(__file__).resolve().parents[1]
SMALL_PACKAGES = ("setuptools", "prometheus-client", "pyyaml")  # the build backend and two small wheels
MARKER = "WORKSHOP.md"
INSTALL_COMMAND = 'python -m pip install --no-index --find-links ../wheels -e ".[dev]"'
SKIPPED_WITHOUT_GIT = {".git", ".venv", "build", "artifacts", "student", "__pycache__", ".pytest_cache", ".ruff_cache"}

INSTALL_SH = """\
#!/bin/sh
# Offline install of the course from this workshop pack: no network needed.
# Usage: sh install.sh        (PYTHON=python3.12 sh install.sh to pick the interpreter)
set -eu
PACK="$(cd "$(dirname "$0")" && pwd)"
PYTHON="${{PYTHON:-python3}}"
cd "$PACK/course"
"$PYTHON" -m venv .venv
.venv/bin/{install_command}
.venv/bin/python -m coursetools.workshop install-data ../data
.venv/bin/python -m helpers.datasets status
touch .venv/.installed-dev  # `make lab` and `make test` see the course installed and do not reinstall
echo "Ready. Start the course with: cd $PACK/course && make lab   (or: .venv/bin/jupyter lab notebooks/)"
"""

WORKSHOP_MD = """\
# Workshop pack (offline)

Built by `python -m coursetools.workshop pack` for {platform}. Copy this whole folder to each
learner's machine (USB stick, shared drive), then install without network:

```bash
sh install.sh            # Linux, macOS: venv in course/.venv, wheels, data into the course cache
```

On Windows (PowerShell), the same steps by hand:

```powershell
cd course
py -3.11 -m venv .venv
.venv\\Scripts\\{install_command}
.venv\\Scripts\\python -m coursetools.workshop install-data ..\\data
.venv\\Scripts\\jupyter lab notebooks
```

| folder | what |
| --- | --- |
| `course/` | the course source |
| `wheels/` | {wheel_count} wheels: {requirements} |
| `data/` | {data_files} |

{small_note}Instead of copying the data into each cache, learners can also point the course at a
shared copy: `export COURSE_DATA_DIR=/path/to/pack/data`.
"""


def pinned_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """What ``pip install -e .[dev]`` needs: the build backend, the dependencies and the dev extra."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return [
        *project["build-system"]["requires"],
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["dev"],
    ]


def requirement_name(requirement: str) -> str:
    """The normalised project name of a requirement (``PyYAML==6.0.3`` -> ``pyyaml``)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def select_requirements(requirements: Sequence[str], packages: Iterable[str] | None) -> list[str]:
    """The requirements for ``packages`` (all if None); an unknown package name is an error."""
    if packages is None:
        return list(requirements)
    by_name = {requirement_name(requirement): requirement for requirement in requirements}
    wanted = [requirement_name(package) for package in packages]
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        raise ValueError(f"not a course requirement: {', '.join(unknown)}; known: {', '.join(sorted(by_name))}")
    return [by_name[name] for name in wanted]


def download_wheels(
    requirements: Sequence[str], destination: Path, *, platform: str | None = None, python_version: str | None = None
) -> list[Path]:
    """``pip download`` the requirements and their dependencies into ``destination``; returns its files."""
    destination.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--progress-bar", "off"]
    command += ["--dest", str(destination)]
    if platform or python_version:
        command.append("--only-binary=:all:")
        command += ["--platform", platform] if platform else []
        command += ["--python-version", python_version] if python_version else []
    result = subprocess.run([*command, *requirements], capture_output=True, text=True)
    if result.returncode != 0:
        output = result.stdout[-2000:] + result.stderr[-3000:]
        raise RuntimeError(f"pip download failed (it needs network or a package index):\n{output}")
    return sorted(destination.iterdir())


def _is_valid_copy(path: Path, entry: registry.RegistryEntry) -> bool:
    """Whether ``path`` already holds a verified copy of ``entry`` (a file, or an extracted package folder)."""
    if not (path.is_dir() if entry.package is not None else path.is_file()):
        return False
    try:
        registry.identify(path, entry)
    except registry.ChecksumMismatchError:
        return False
    return True


def copy_data(names: Iterable[str], destination: Path) -> list[Path]:
    """Copy each registry file or folder (found or downloaded by :func:`helpers.datasets.registry.fetch`) into
    ``destination``."""
    destination.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in names:
        entry = registry.registry_entry(name)
        source = registry.fetch(name)
        target = destination / entry.filename
        if entry.package is not None:
            if not _is_valid_copy(target, entry):
                registry.copy_folder(source, target)
        elif not target.is_file() or target.stat().st_size != source.stat().st_size:
            shutil.copyfile(source, target)
        registry.identify(target, entry)
        copied.append(target)
    return copied


def course_files(root: Path = ROOT) -> list[Path]:
    """The course's files relative to ``root``: what git tracks, or (no git) everything not built."""
    result = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, text=True)
    if result.returncode == 0 and result.stdout:
        return [Path(name) for name in result.stdout.split("\0") if name and (root / name).is_file()]
    return [
        path.relative_to(root)
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and not SKIPPED_WITHOUT_GIT.intersection(path.relative_to(root).parts)
        and not any(part.endswith(".egg-info") for part in path.parts)
    ]


def copy_course(destination: Path, root: Path = ROOT) -> int:
    """Copy the course source into ``destination`` (replaced if it exists); returns the file count."""
    if destination.exists():
        shutil.rmtree(destination)
    files = course_files(root)
    for relative in files:
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, destination / relative)
    return len(files)


def pack(
    out: Path,
    *,
    small: bool = False,
    packages: Sequence[str] | None = None,
    data_names: Sequence[str] | None = None,
    platform: str | None = None,
    python_version: str | None = None,
) -> list[str]:
    """Build the workshop pack in ``out``; returns one line per part. See the module docstring."""
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise FileExistsError(f"{out} is not empty and is not a workshop pack: choose a new folder")
    requirements = select_requirements(pinned_requirements(), packages or (SMALL_PACKAGES if small else None))
    if data_names is None:
        data_names = [entry.name for entry in registry.REGISTRY.values() if entry.required or not small]
    out.mkdir(parents=True, exist_ok=True)
    data_files = copy_data(data_names, out / "data")
    wheels = download_wheels(requirements, out / "wheels", platform=platform, python_version=python_version)
    course_count = copy_course(out / "course")
    install = out / "install.sh"
    install.write_text(INSTALL_SH.format(install_command=INSTALL_COMMAND), encoding="utf-8")
    install.chmod(install.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    partial = small or packages is not None
    (out / MARKER).write_text(
        WORKSHOP_MD.format(
            platform=f"{platform or sys.platform}, Python {python_version or sys.version.split()[0]}",
            install_command=INSTALL_COMMAND.replace("../wheels", "..\\wheels"),
            wheel_count=len(wheels),
            requirements=", ".join(f"`{requirement}`" for requirement in requirements) + " and their dependencies",
            data_files=", ".join(f"`{path.name}{'/' if path.is_dir() else ''}`" for path in data_files) or "none",
            small_note="**A partial pack (`--small`/`--packages`): the full install needs every wheel.**\n\n"
            if partial
            else "",
        ),
        encoding="utf-8",
    )
    return [
        f"data     {len(data_files)} files and folders in {out / 'data'}",
        f"wheels   {len(wheels)} files in {out / 'wheels'} for {len(requirements)} requirements",
        f"course   {course_count} files in {out / 'course'}",
        f"install  sh {install}   (runs: {INSTALL_COMMAND} in course/)",
    ]


def install_data(folder: Path) -> list[str]:
    """Copy the course files in ``folder`` (a pack's ``data/``) into the course cache, verified first."""
    lines = []
    for entry in registry.REGISTRY.values():
        source = folder / entry.filename
        is_folder = entry.package is not None
        shown = f"{entry.filename}/" if is_folder else entry.filename
        if not (source.is_dir() if is_folder else source.is_file()):
            need = "MISSING  (required)" if entry.required else "skipped  (optional)"
            lines.append(f"{need} {shown} is not in {folder}")
            continue
        version = registry.identify(source, entry)
        target = cache_dir() / entry.filename
        if is_folder:
            registry.copy_folder(source, target)
            registry.identify(target, entry)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        lines.append(f"ok       {shown} -> {target} ({version.label})")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command line; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m coursetools.workshop", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("pack", help="build the offline workshop pack in OUT")
    build.add_argument("out", type=Path)
    build.add_argument("--small", action="store_true", help=f"only {', '.join(SMALL_PACKAGES)} and required data")
    build.add_argument("--packages", nargs="+", help="only the wheels of these pinned requirements")
    build.add_argument(
        "--data", nargs="+", dest="data_names", help=f"only these data files ({', '.join(registry.REGISTRY)})"
    )
    build.add_argument("--platform", help="download wheels for another platform, e.g. win_amd64, macosx_11_0_arm64")
    build.add_argument("--python-version", help="download wheels for another Python, e.g. 3.12")
    copy = commands.add_parser("install-data", help="copy a pack's data folder into the course cache")
    copy.add_argument("folder", type=Path)
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "install-data":
            lines = install_data(arguments.folder)
        else:
            lines = pack(
                arguments.out,
                small=arguments.small,
                packages=arguments.packages,
                data_names=arguments.data_names,
                platform=arguments.platform,
                python_version=arguments.python_version,
            )
    except (registry.DataError, RuntimeError, ValueError, FileExistsError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 1 if any(line.startswith("MISSING") for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
