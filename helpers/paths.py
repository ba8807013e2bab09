"""Where the course keeps downloaded files and what notebooks produce."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_VARIABLE = "COURSE_CACHE_DIR"
ARTIFACTS_VARIABLE = "COURSE_ARTIFACTS_DIR"


def cache_dir() -> Path:
    """The course cache for downloads: ``$COURSE_CACHE_DIR``, else ``~/.cache/dl-course``."""
    if os.environ.get(CACHE_VARIABLE):
        return Path(os.environ[CACHE_VARIABLE]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "dl-course"


def project_root(start: Path | None = None) -> Path | None:
    """The course checkout that contains ``start`` (default: the working directory), if any."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "notebooks").is_dir() and (folder / "helpers").is_dir():
            return folder
    return None


def artifacts_dir(*parts: str) -> Path:
    """Folder for what notebooks produce (trained models, exports, logs), created on demand.

    ``$COURSE_ARTIFACTS_DIR`` if set, else ``artifacts/`` at the root of the course checkout
    (so notebook 03's models are found by notebooks 05b and 06), else ``./artifacts``.
    ``artifacts_dir("models")`` returns (and creates) a sub-folder.
    """
    if os.environ.get(ARTIFACTS_VARIABLE):
        base = Path(os.environ[ARTIFACTS_VARIABLE]).expanduser()
    else:
        base = (project_root() or Path.cwd()) / "artifacts"
    folder = base.joinpath(*parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
