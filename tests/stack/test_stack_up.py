"""The running stack is what ``stackctl up`` promises: every server, topic and database."""

from __future__ import annotations

import glob
import json
import subprocess
import urllib.request
from pathlib import Path

import psycopg
from kafka import KafkaAdminClient
from kombu import Connection

from services.eventcore import settings as project_settings

from .helpers import ROOT, stackctl

PIDS = ROOT / ".stack" / "pids"


def _pids() -> dict[str, str]:
    pids = {path.name: path.read_text().strip() for path in PIDS.glob("*.pid")}
    postmaster = Path("/var/lib/postgresql/15/mentoring/postmaster.pid")
    pids["postmaster"] = postmaster.read_text().split()[0]
    return pids


def test_status_lists_every_component_running() -> None:
    done = stackctl("status")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    names = [line.split()[0] for line in lines]
    assert names[:4] == ["PostgreSQL", "RabbitMQ", "Kafka", "Prometheus"]
    assert {f"relay-{ctx}" for ctx in project_settings.CONTEXTS} <= set(names)
    stopped = [line for line in lines if line.split()[1] != "running"]
    assert not stopped, f"not running: {stopped}"


def test_up_again_is_a_no_op(tmp_path: Path) -> None:
    before = _pids()
    record = tmp_path / "started"
    done = stackctl("up", "--record", str(record))
    assert done.returncode == 0, done.stdout + done.stderr
    assert " started (" not in done.stdout
    assert record.read_text() == "", "a second up must start nothing"
    assert _pids() == before
    # The summary names where things are.
    assert "127.0.0.1:9092" in done.stdout or project_settings.load().kafka_bootstrap in done.stdout
    assert "/metrics" in done.stdout


def test_context_topics_and_dead_letter_topics_exist(conf: project_settings.Settings) -> None:
    admin = KafkaAdminClient(bootstrap_servers=conf.kafka_bootstrap, client_id="tests-stack")
    try:
        described = {t["name"]: t for t in admin.describe_topics()}
    finally:
        admin.close()
    for ctx in project_settings.CONTEXTS:
        topic = described[conf.topic(ctx)]
        assert topic["error_code"] == 0
        assert len(topic["partitions"]) == 6, conf.topic(ctx)
        dead = described[conf.dead_letter_topic(ctx)]
        assert len(dead["partitions"]) == 3, conf.dead_letter_topic(ctx)


def test_each_context_database_accepts_the_role(conf: project_settings.Settings) -> None:
    for ctx in project_settings.CONTEXTS:
        with psycopg.connect(conf.database_url(ctx), connect_timeout=5) as conn:
            row = conn.execute("SELECT current_database(), current_user, "
                               "pg_encoding_to_char(encoding) FROM pg_database "
                               "WHERE datname = current_database()").fetchone()
        assert row == (conf.database_name(ctx), conf.pg_user, "UTF8")


def test_rabbitmq_accepts_an_amqp_login(conf: project_settings.Settings) -> None:
    with Connection(conf.amqp_uri, connect_timeout=5) as conn:
        conn.connect()
        assert conn.connected


def test_promtool_accepts_the_shipped_config_and_rules() -> None:
    config = subprocess.run(
        ["promtool", "check", "config", str(ROOT / "deploy/prometheus/prometheus.yml")],
        capture_output=True, text=True, check=False,
    )
    assert config.returncode == 0, config.stdout + config.stderr
    # The target files stackctl wrote are found (paths relative to the config) and valid.
    assert "WARNING" not in config.stdout + config.stderr, config.stdout + config.stderr
    files = sorted(glob.glob(str(ROOT / "deploy/prometheus/rules/*.yml")))
    assert files
    rules = subprocess.run(
        ["promtool", "check", "rules", *files],
        capture_output=True, text=True, check=False,
    )
    assert rules.returncode == 0, rules.stdout + rules.stderr


def _api(conf: project_settings.Settings, path: str) -> dict:  # type: ignore[type-arg]
    url = f"http://127.0.0.1:{conf.prometheus_port}{path}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def test_prometheus_scrapes_the_relays_and_loaded_the_rules(
    conf: project_settings.Settings,
) -> None:
    targets = _api(conf, "/api/v1/targets")["data"]["activeTargets"]
    relays = {t["labels"]["process"]: t for t in targets if t["labels"].get("job") == "relays"}
    assert set(relays) == {f"relay-{ctx}" for ctx in project_settings.CONTEXTS}
    assert {t["labels"]["instance"] for t in relays.values()} == {
        f"127.0.0.1:{port}" for port in (9101, 9102, 9103, 9104)
    }
    assert any(t["labels"].get("job") == "prometheus" for t in targets)
    groups = {g["name"] for g in _api(conf, "/api/v1/rules")["data"]["groups"]}
    assert {"eventcore.alerts", "eventcore.recording"} <= groups


def test_context_topics_keep_every_event(conf: project_settings.Settings) -> None:
    """The context topics are the published log projections are rebuilt from."""
    from kafka.admin import ConfigResource

    admin = KafkaAdminClient(bootstrap_servers=conf.kafka_bootstrap, client_id="tests-stack")
    try:
        described = admin.describe_configs(
            [ConfigResource("TOPIC", conf.topic(ctx)) for ctx in project_settings.CONTEXTS]
        )
    finally:
        admin.close()
    for ctx in project_settings.CONTEXTS:
        configs = described["topic"][conf.topic(ctx)]
        assert configs["retention.ms"]["value"] == "-1", ctx
