"""deploy/k8s-training/: the multi-worker training Job agrees with the worker script it runs.

No cluster here: the test runs each pod's shell line with a stand-in ``python`` that records the
environment and arguments it was started with, then checks the TF_CONFIG it built and parses the
command line with the worker's own parser.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers.processes import distributed_worker

MANIFEST = Path(__file__).resolve().parents[1] / "deploy" / "k8s-training" / "multiworker-job.yaml"


def documents() -> dict[str, dict[str, Any]]:
    found = list(yaml.safe_load_all(MANIFEST.read_text()))
    kinds = sorted(document["kind"] for document in found)
    assert kinds == ["Job", "PersistentVolumeClaim", "Service"], kinds
    return {document["kind"]: document for document in found}


def pod_spec() -> dict[str, Any]:
    return documents()["Job"]["spec"]["template"]["spec"]


def container() -> dict[str, Any]:
    (only,) = pod_spec()["containers"]
    return only


def environment() -> dict[str, str]:
    return {entry["name"]: entry["value"] for entry in container()["env"]}


def run_pod_command(index: int, tmp_path: Path) -> dict[str, Any]:
    """Run the container's command as the pod with completion index ``index`` would, with a stand-in python."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir(exist_ok=True)
    recorder = fake_bin / "python"
    recorder.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "print(json.dumps({'argv': sys.argv[1:], 'TF_CONFIG': os.environ.get('TF_CONFIG')}))\n"
    )
    recorder.chmod(recorder.stat().st_mode | stat.S_IEXEC)
    env = {
        "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
        "JOB_COMPLETION_INDEX": str(index),
        **environment(),
    }
    command = container()["command"]
    assert command[:2] == ["sh", "-c"], command
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_job_is_indexed_and_starts_every_worker_at_once() -> None:
    job = documents()["Job"]
    assert job["apiVersion"] == "batch/v1"
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed", "the completion index is what tells each pod its TF_CONFIG index"
    assert spec["completions"] == spec["parallelism"] == int(environment()["WORKERS"]) >= 2
    assert pod_spec()["restartPolicy"] == "OnFailure", "a failed worker's container restarts and the cluster resumes"
    assert spec["backoffLimit"] >= 1


def test_the_headless_service_names_the_pods() -> None:
    service, job = documents()["Service"], documents()["Job"]
    assert service["spec"]["clusterIP"] == "None", "headless: one DNS name per pod"
    assert pod_spec()["subdomain"] == service["metadata"]["name"] == environment()["SERVICE"]
    assert environment()["JOB_NAME"] == job["metadata"]["name"], "pods are named <job>-<index>"
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    (port,) = service["spec"]["ports"]
    ports = {entry["name"]: entry["containerPort"] for entry in container()["ports"]}
    assert port["port"] == ports[port["targetPort"]] == int(environment()["PORT"])


@pytest.mark.parametrize("index", [0, 1])
def test_each_pod_builds_its_tf_config_and_a_valid_worker_command(index: int, tmp_path: Path) -> None:
    recorded = run_pod_command(index, tmp_path)
    config = json.loads(recorded["TF_CONFIG"])
    env = environment()
    workers = [f"{env['JOB_NAME']}-{i}.{env['SERVICE']}:{env['PORT']}" for i in range(int(env["WORKERS"]))]
    assert config == {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
    argv = recorded["argv"]
    assert argv[:2] == ["-m", "helpers.processes.distributed_worker"]
    arguments = distributed_worker.parse_args(argv[2:])
    mount = Path(container()["volumeMounts"][0]["mountPath"])
    assert mount in arguments.checkpoint_dir.parents, "checkpoints on the shared volume, where a restart finds them"
    assert mount in arguments.result.parents
    assert Path(env["COURSE_CACHE_DIR"]).is_relative_to(mount)


def test_the_checkpoint_volume_is_shared_by_every_pod() -> None:
    claim = documents()["PersistentVolumeClaim"]
    assert "ReadWriteMany" in claim["spec"]["accessModes"]
    (volume,) = pod_spec()["volumes"]
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert container()["volumeMounts"][0]["name"] == volume["name"]


def test_the_image_is_the_one_deploy_dockerfile_builds() -> None:
    serving = yaml.safe_load((MANIFEST.parents[1] / "k8s" / "deployment.yaml").read_text())
    (server,) = serving["spec"]["template"]["spec"]["containers"]
    assert container()["image"] == server["image"]


def test_the_worker_imports_without_the_notebook_packages() -> None:
    """The serving image has TensorFlow and Keras but not pandas, matplotlib, ...: the worker must not need them."""
    script = """
import importlib.abc, sys
BLOCKED = {"pandas", "matplotlib", "seaborn", "sklearn", "palmerpenguins", "PIL", "yaml", "pyarrow"}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not in the serving image")
sys.meta_path.insert(0, Block())
import helpers.datasets.registry, helpers.processes.distributed_worker, helpers.lessons.scaling
print("imported")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "imported" in result.stdout
