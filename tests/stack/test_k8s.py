"""The Kubernetes manifests and the image (deploy/k8s, deploy/docker) are for real
deployments and never run here: these tests keep them true to what runs locally."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "k8s" / "platform.yaml"
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"


def documents() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]


def deployments() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents() if d["kind"] == "Deployment"}


def local_processes() -> dict[str, list[str]]:
    """The local stack's processes and their commands, as a pod would run them."""
    data = tomllib.loads((ROOT / "deploy" / "processes.toml").read_text())
    return {p["name"]: [a.replace("{python}", "python").replace("{root}/", "")
                        for a in p["command"]] for p in data["process"]}


def test_every_local_process_has_a_deployment_running_the_same_program():
    pods = deployments()
    for name, command in local_processes().items():
        assert name in pods, f"no Deployment for {name}"
        (container,) = pods[name]["spec"]["template"]["spec"]["containers"]
        ran = container["command"]
        if name.startswith("relay-"):
            # Same program and context; the pod's metrics port and address are its own.
            assert ran[:5] == command[:5], name
        else:
            assert ran == command, name


def test_every_deployment_is_ready_to_scale_out_safely():
    for name, pod in deployments().items():
        spec = pod["spec"]
        assert spec["replicas"] >= 2, f"{name}: one replica is a single point of failure"
        assert spec["selector"]["matchLabels"] == {
            k: v for k, v in spec["template"]["metadata"]["labels"].items()
            if k == "app.kubernetes.io/name"}, name
        (container,) = spec["template"]["spec"]["containers"]
        assert re.match(r"^[\w.-]+/[\w./-]+:\d+\.\d+\.\d+$", container["image"]), \
            f"{name}: a pinned image, never :latest"
        assert {"requests", "limits"} <= set(container["resources"]), name
        assert container["readinessProbe"] and container["livenessProbe"], name
        assert {"configMapRef": {"name": "platform-addresses"}} in container["envFrom"], name
        annotations = spec["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true", f"{name}: ops must see it"


def test_services_get_the_platform_secrets_where_the_image_says():
    secrets_dir = re.search(r"MENTORING_SECRETS_DIR=(\S+)", DOCKERFILE.read_text()).group(1)
    for name, pod in deployments().items():
        if name.startswith("relay-"):
            continue  # relays never encrypt nor authenticate
        template = pod["spec"]["template"]["spec"]
        (container,) = template["containers"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert secrets_dir in mounts, f"{name}: secrets not mounted at {secrets_dir}"
        volume = next(v for v in template["volumes"] if v["name"] == mounts[secrets_dir])
        assert volume["secret"]["secretName"] == "platform-secrets"


def test_the_public_ports_match_the_settings_and_no_secret_is_committed():
    services = {d["metadata"]["name"]: d for d in documents() if d["kind"] == "Service"}
    assert services["gateway"]["spec"]["ports"][0]["port"] == 8000
    assert services["moderation"]["spec"]["ports"][0]["port"] == 8001
    assert not [d for d in documents() if d["kind"] == "Secret"], \
        "secrets are created by the deployment's operators, never committed"
    text = MANIFEST.read_text()
    assert "mk_" not in text and "md_" not in text and "password:" not in text.lower()


def test_the_image_runs_psycopg_under_eventlet_safely():
    assert "PSYCOPG_WAIT_FUNC=wait_select" in DOCKERFILE.read_text()
    assert re.search(r"^USER (?!root)", DOCKERFILE.read_text(), re.M), "not as root"
