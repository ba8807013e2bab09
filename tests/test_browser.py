"""JupyterLab in a real browser: notebook 00 runs from the menu in headless Chromium without an error.

JupyterLab starts from this environment on 127.0.0.1 (a free port, token auth) over a temporary
copy of ``notebooks/`` (so nothing is saved into the course), with its own settings, config and
runtime folders; Playwright drives Debian's ``chromium`` (``/usr/bin/chromium``, or
``$COURSE_CHROMIUM``) with a fresh profile. Notebooks run in fast mode with the caller's
``COURSE_DATA_DIR``. The screenshot of the finished notebook goes to ``build/screenshots/``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helpers.processes.server import free_port

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "build" / "screenshots"
START_TIMEOUT_S = 90
RUN_TIMEOUT_S = 300
# No news or update pop-ups; the notebook's kernel starts without a "Select Kernel" dialog (which a
# busy machine otherwise shows when the kernel specs load late); every cell in the page (no
# windowing); no autosave.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
        "autoStartDefaultKernel": True,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}
BROKEN_NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {}, "outputs": [], "source": "x = 1"},
        {"cell_type": "code", "execution_count": None, "id": "c2", "metadata": {}, "outputs": [], "source": "x / 0"},
        {"cell_type": "code", "execution_count": None, "id": "c3", "metadata": {}, "outputs": [], "source": "print(x)"},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}
# True once Run All has finished: every code cell numbered or never reached, none queued, kernel idle.
FINISHED_JS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return false;
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
  const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  const idle = !indicator || indicator.dataset.status === 'idle';
  return idle && prompts.length > 0 && !prompts.some(p => p.includes('*')) && prompts.some(p => /\\[\\d+\\]/.test(p));
}"""
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
OUTPUTS_JS = f"""() => [...document.querySelectorAll('{PANEL} .jp-OutputArea-output')]
  .map(output => ({{mime: output.dataset.mimeType || '', text: output.textContent}}))"""
INDICATOR_JS = f"""() => document.querySelector('{PANEL} .jp-Notebook-ExecutionIndicator')?.dataset.status"""
PROMPTS_JS = f"""() => [...document.querySelectorAll('{PANEL} .jp-CodeCell .jp-InputPrompt')]
  .map(prompt => prompt.textContent.trim())"""


@dataclass
class Lab:
    """A running JupyterLab: its base URL, token and the folder it serves."""

    url: str
    token: str
    root: Path


@dataclass
class RunResult:
    """What the page shows after Run All: every output (mime type, text) and every input prompt."""

    outputs: list[dict[str, str]]
    prompts: list[str]

    @property
    def errors(self) -> list[str]:
        """Outputs that are Python errors (JupyterLab renders them as stderr with a traceback)."""
        return [
            output["text"]
            for output in self.outputs
            if output["mime"] == "application/vnd.jupyter.stderr" and "Traceback" in output["text"]
        ]

    def shows(self, text: str) -> bool:
        """Whether any output contains ``text``."""
        return any(text in output["text"] for output in self.outputs)


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait for JupyterLab's API to answer; fail with its log if it exits or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with status {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop JupyterLab and its kernels (its whole process group): politely, then by force."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab serving a temporary copy of the course notebooks plus a broken one."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (root / "broken.ipynb").write_text(json.dumps(BROKEN_NOTEBOOK))
    home = tmp_path_factory.mktemp("lab-home")
    for name, settings in LAB_SETTINGS.items():
        (home / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (home / "settings" / name).write_text(json.dumps(settings))
    token, port = secrets.token_hex(16), free_port()
    env = {
        **os.environ,
        "COURSE_MODE": "fast",
        "COURSE_ARTIFACTS_DIR": str(root / "artifacts"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={home / 'settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        *(["--allow-root"] if os.geteuid() == 0 else []),  # CI containers run as root
    ]
    log = home / "jupyterlab.log"
    with open(log, "wb") as stream:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=stream, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{url}/api/status?token={token}", process, log)
        yield Lab(url, token, root)
    finally:
        stop(process)


def kernel_is_idle(lab: Lab, path: str) -> bool:
    """Whether the server has a session for ``path`` whose kernel is started and idle."""
    request = urllib.request.Request(f"{lab.url}/api/sessions", headers={"Authorization": f"token {lab.token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        sessions = json.load(response)
    return any(
        session.get("path") == path and (session.get("kernel") or {}).get("execution_state") == "idle"
        for session in sessions
    )


def wait_for(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Poll ``condition`` every half second until it holds (True) or ``timeout_s`` passes (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def run_all_cells(context: Any, lab: Lab, path: str) -> tuple[Any, RunResult]:
    """Open ``path`` in JupyterLab, wait for its kernel, choose Run > Run All Cells, wait until done.

    The menu is used again if no cell has started after a while: a click that lands while the page
    is still wiring the notebook to its kernel can be lost on a busy machine.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page = context.new_page()
    page.goto(f"{lab.url}/lab/tree/{path}?token={lab.token}")
    page.wait_for_selector(f"{PANEL} .jp-Notebook-ExecutionIndicator", timeout=START_TIMEOUT_S * 1000)
    if not wait_for(lambda: kernel_is_idle(lab, path), START_TIMEOUT_S):
        pytest.fail(f"the kernel of {path} did not start within {START_TIMEOUT_S} s")
    started = False
    for _ in range(3):
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        label = page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$"))
        page.locator("li.lm-Menu-item", has=label).click()
        if wait_for(lambda: any(prompt != "[ ]:" for prompt in page.evaluate(PROMPTS_JS)), 20):
            started = True
            break
    try:
        if not started:
            raise PlaywrightTimeoutError("Run All Cells started no cell")
        page.wait_for_function(FINISHED_JS, timeout=RUN_TIMEOUT_S * 1000, polling=500)
    except PlaywrightTimeoutError as error:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / f"{Path(path).stem}-timeout.png"
        page.screenshot(path=str(shot))
        status, prompts = page.evaluate(INDICATOR_JS), page.evaluate(PROMPTS_JS)
        pytest.fail(f"{error} (kernel {status}, prompts {prompts}); see {shot}")
    return page, RunResult(page.evaluate(OUTPUTS_JS), page.evaluate(PROMPTS_JS))


def test_notebook_00_runs_in_jupyterlab_in_chromium_without_an_error(browser_context: Any, lab: Lab) -> None:
    original = (ROOT / "notebooks" / "00_setup.ipynb").read_bytes()
    page, result = run_all_cells(browser_context, lab, "notebooks/00_setup.ipynb")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    final = page.get_by_text("The environment is ready.")
    if final.count():
        final.first.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "00_setup.png"))
    assert not result.errors, "a cell shows an error in JupyterLab:\n" + "\n\n".join(result.errors)
    assert all(re.fullmatch(r"\[\d+\]:", prompt) for prompt in result.prompts), f"cells not run: {result.prompts}"
    assert result.shows("The environment is ready."), "the final check's message is not on the page"
    assert result.shows("✅ Exercise 1"), "the first exercise check did not print its success line"
    assert (ROOT / "notebooks" / "00_setup.ipynb").read_bytes() == original, "the course notebook was modified"


def test_the_browser_check_sees_an_error_when_a_cell_fails(browser_context: Any, lab: Lab) -> None:
    _, result = run_all_cells(browser_context, lab, "broken.ipynb")
    assert len(result.errors) == 1 and "ZeroDivisionError" in result.errors[0]
    assert result.prompts[0] == "[1]:" and result.prompts[1] == "[2]:", result.prompts
    assert not re.fullmatch(r"\[\d+\]:", result.prompts[2]), "Run All went on after the error"
