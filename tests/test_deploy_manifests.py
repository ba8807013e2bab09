"""The Dockerfile and Kubernetes manifests agree with the server they deploy.

There is no Docker engine or cluster here, so the files are checked for what can go wrong
silently: the container command must be a valid ``helpers.serving`` command line, the ports must
agree, and the probes must point at routes the server really has.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from helpers.serving import DEFAULT_PORT, HEALTH_PATH, METRICS_PATH, READY_PATH, ModelRegistry, cli, create_app

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def manifests() -> dict[str, dict[str, Any]]:
    documents = [
        document
        for path in sorted((DEPLOY / "k8s").glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
    ]
    kinds = [document["kind"] for document in documents]
    assert sorted(kinds) == ["Deployment", "Service"], f"expected one Deployment and one Service, got {kinds}"
    return {document["kind"]: document for document in documents}


def copies() -> list[tuple[list[str], str]]:
    """The Dockerfile's COPY instructions as (sources, destination)."""
    parts = [shlex.split(value) for kind, value in dockerfile_instructions() if kind == "COPY"]
    return [(part[:-1], part[-1]) for part in parts]


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def container() -> dict[str, Any]:
    containers = manifests()["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def container_port(port: int | str) -> int:
    """A probe's or service's port: a number, or the name of one of the container's ports."""
    ports = {entry["name"]: entry["containerPort"] for entry in container()["ports"]}
    return ports[port] if isinstance(port, str) else port


def server_answers(paths: list[str]) -> dict[str, int]:
    """The status each path gets from the server's app (no models: alive, not ready)."""

    async def probe() -> dict[str, int]:
        transport = httpx.ASGITransport(app=create_app(ModelRegistry()))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return {path: (await client.get(path)).status_code for path in paths}

    return asyncio.run(probe())


def test_deployment_selects_its_pods_and_service_selects_them_too() -> None:
    found = manifests()
    deployment, service = found["Deployment"], found["Service"]
    assert deployment["apiVersion"] == "apps/v1" and service["apiVersion"] == "v1"
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    assert deployment["spec"]["replicas"] >= 2, "more than one replica, so a rolling update keeps serving"
    (service_port,) = service["spec"]["ports"]
    assert container_port(service_port["targetPort"]) == DEFAULT_PORT


def test_container_command_is_a_valid_server_command_line() -> None:
    command = container()["command"]
    assert command[:3] == ["python", "-m", "helpers.serving"]
    arguments = cli.build_parser().parse_args(command[3:])
    assert arguments.host == "0.0.0.0", "inside a container the server must listen on the pod's interface"
    assert arguments.port == DEFAULT_PORT == container_port("http")
    assert [name for name, _ in arguments.model] == ["mnist"]


def test_probes_use_routes_the_server_has() -> None:
    spec = container()
    probes = {kind: spec[kind]["httpGet"] for kind in ("readinessProbe", "livenessProbe", "startupProbe")}
    assert probes["readinessProbe"]["path"] == READY_PATH
    assert probes["livenessProbe"]["path"] == HEALTH_PATH
    for probe in probes.values():
        assert container_port(probe["port"]) == DEFAULT_PORT
    # The liveness path answers even before models are loaded; readiness waits for them.
    assert server_answers([HEALTH_PATH, READY_PATH]) == {HEALTH_PATH: 200, READY_PATH: 503}


def test_metrics_scrape_annotations_point_at_the_metrics_route() -> None:
    annotations = manifests()["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] == METRICS_PATH
    assert int(annotations["prometheus.io/port"]) == DEFAULT_PORT
    assert server_answers([METRICS_PATH]) == {METRICS_PATH: 200}


def test_dockerfile_runs_the_same_command_as_the_deployment() -> None:
    instructions = dockerfile_instructions()
    values = dict(instructions)
    assert re.fullmatch(r"python:3\.1[12]-slim", values["FROM"]), "a Python the course supports (3.11 or 3.12)"
    assert json.loads(values["CMD"]) == container()["command"]
    assert int(values["EXPOSE"]) == DEFAULT_PORT
    assert f"127.0.0.1:{DEFAULT_PORT}{HEALTH_PATH}" in values["HEALTHCHECK"]
    assert values["USER"] != "root" and values["USER"] != "0"
    assert [kind for kind, _ in instructions].index("USER") > [kind for kind, _ in instructions].index("RUN")


@pytest.mark.parametrize("source", ["pyproject.toml", "README.md", "helpers/"])
def test_dockerfile_copies_what_the_install_needs(source: str) -> None:
    assert any(source in sources for sources, _ in copies())
    assert (DEPLOY.parent / source).exists()


def test_models_are_copied_where_the_command_looks_for_them() -> None:
    instructions = dockerfile_instructions()
    (model_path,) = [path for _, path in cli.build_parser().parse_args(container()["command"][3:]).model]
    assert any(Path(destination) in (model_path, *model_path.parents[:-1]) for _, destination in copies())
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    default_models = next(value for kind, value in instructions if kind == "ARG").split("=", 1)[1]
    assert f"!{default_models}/" in ignore, "the .dockerignore must let the exported models into the build"


def test_the_image_installs_the_serve_extra_from_pyproject_alone_then_the_code_without_dependencies() -> None:
    instructions = dockerfile_instructions()
    position = {
        "pyproject": next(i for i, (kind, value) in enumerate(instructions) if kind == "COPY" and "pyproject" in value),
        "helpers": next(i for i, (kind, value) in enumerate(instructions) if kind == "COPY" and "helpers/" in value),
        "dependencies": next(
            i for i, (kind, value) in enumerate(instructions) if kind == "RUN" and "['serve']" in value
        ),
    }
    assert position["pyproject"] < position["dependencies"] < position["helpers"], (
        "install the dependencies after copying pyproject.toml and before copying helpers/, so that a change "
        f"of the code does not reinstall TensorFlow: {position}"
    )
    assert instructions[position["pyproject"]][1].split()[:-1] == ["pyproject.toml"], "only pyproject.toml first"
    code_install = [value for kind, value in instructions[position["helpers"] :] if kind == "RUN" and "pip" in value]
    assert code_install and all("--no-deps" in value for value in code_install), code_install


def test_the_serve_extra_is_the_servers_pins_without_the_notebook_packages() -> None:
    project = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())["project"]
    pinned = dict(requirement.split("==") for requirement in project["dependencies"] if "==" in requirement)
    for extra in IMAGE_EXTRAS:
        serve = dict(requirement.split("==") for requirement in project["optional-dependencies"][extra])
        assert all(pinned.get(name) == version for name, version in serve.items()), f"{extra} pins differ"
        assert not {"pandas", "matplotlib", "seaborn", "scikit-learn", "palmerpenguins", "pillow"} & set(serve)


def image_extras() -> list[str]:
    """The extras of pyproject.toml that the Dockerfile installs (``extras['serve'] + extras['llm']``)."""
    installs = [
        value for kind, value in dockerfile_instructions() if kind == "RUN" and "optional-dependencies" in value
    ]
    return re.findall(r"\['(\w+)'\](?!\['optional)", installs[0].split("optional-dependencies")[1])


IMAGE_EXTRAS = ("serve", "llm")


def installed_with(extras: list[str]) -> set[str]:
    """The distributions an install of ``extras`` brings (their requirements and theirs, without extras)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    project = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())["project"]
    pending = [Requirement(line).name for extra in extras for line in project["optional-dependencies"][extra]]
    found: set[str] = set()
    while pending:
        name = pending.pop().lower().replace("_", "-")
        if name in found:
            continue
        found.add(name)
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return found


def llm_server_imports_with_only(extras: list[str]) -> subprocess.CompletedProcess:
    """Import what ``--llm`` runs, in a fresh Python where every course dependency that ``extras`` would not
    install is blocked."""
    from importlib import metadata

    from packaging.requirements import Requirement

    project = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())["project"]
    installed = installed_with(extras)
    absent = {Requirement(line).name.lower() for line in project["dependencies"]} - installed
    modules = {
        module
        for module, distributions in metadata.packages_distributions().items()
        if any(d.lower().replace("_", "-") in absent for d in distributions) and module.isidentifier()
    }
    script = """
from helpers.serving import batching, cli, llm_engine, openai_app
from helpers.lessons import llm
arguments = cli.build_parser().parse_args(["--llm", "m=model.gguf", "--host", "0.0.0.0", "--slots", "4"])
print("imported")
"""
    return run_without(modules, script)


def run_without(blocked: set[str], script: str) -> subprocess.CompletedProcess:
    """Run ``script`` in a fresh Python where importing any of the ``blocked`` top-level modules fails, as in an
    image that does not install them (the script sees the set as ``BLOCKED``)."""
    prelude = f"""
import importlib.abc, sys
BLOCKED = {sorted(blocked)!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is not in the serving image")
sys.meta_path.insert(0, Block())
"""
    return subprocess.run([sys.executable, "-c", prelude + script], capture_output=True, text=True, timeout=300)


def test_the_image_installs_what_the_llm_server_imports() -> None:
    assert image_extras() == list(IMAGE_EXTRAS)
    result = llm_server_imports_with_only(image_extras())
    assert result.returncode == 0 and "imported" in result.stdout, result.stderr[-3000:]
    without_llm = llm_server_imports_with_only(["serve"])  # the image as it was: --llm could not run
    assert without_llm.returncode != 0 and "gguf is not in the serving image" in without_llm.stderr


def test_the_server_imports_and_serves_without_the_notebook_packages(tmp_path: Path) -> None:
    """Export a tiny model, then load and call it through helpers.serving with the notebook packages blocked."""
    notebook_packages = {"pandas", "matplotlib", "seaborn", "sklearn", "palmerpenguins", "PIL", "yaml", "pyarrow"}
    script = f"""
import keras, numpy as np
model = keras.Sequential([keras.Input((4,), name="features"), keras.layers.Dense(2, activation="softmax")])
model.export({str(tmp_path / "tiny" / "1")!r}, verbose=False)
from helpers.serving import cli
from helpers.serving.app import create_app
from helpers.serving.registry import ModelRegistry
registry = ModelRegistry({{"tiny": {str(tmp_path / "tiny")!r}}}).load()
create_app(registry)
signature = registry.get("tiny").signature("serving_default")
(output,) = signature({{name: np.ones((3, 4), "float32") for name in signature.inputs}}).values()
assert output.shape == (3, 2), output.shape
print("served", [m for m in BLOCKED if m in sys.modules])
"""
    result = run_without(notebook_packages, script)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "served []" in result.stdout
