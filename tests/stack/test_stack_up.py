"""The running stack is what ``stackctl up`` promises: every server, topic and database."""

from __future__ import annotations

import glob
import json
import subprocess
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
from kafka import KafkaAdminClient, TopicPartition
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
    with psycopg.connect(conf.database_url("identity"), connect_timeout=5) as conn:
        # Scratch databases dropped WITH (FORCE) may have an autovacuum worker inside.
        assert conn.execute("SELECT pg_has_role(current_user, 'pg_signal_backend', "
                            "'MEMBER')").fetchone()[0]
        # The sessions benchmark reads when projection rows were committed.
        assert conn.execute("SHOW track_commit_timestamp").fetchone()[0] == "on"


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


def test_each_context_database_is_bound_to_this_stack(conf: project_settings.Settings) -> None:
    """The binding names this .stack/, its Kafka log and its master secret (hashed)."""
    from deploy.stackctl import config
    from deploy.stackctl.postgres import Postgres

    postgres = Postgres(config.load(ROOT))
    written_with = postgres.written_with()
    stack_id = (ROOT / ".stack" / "stack.id").read_text().strip()
    cluster_id = (ROOT / ".stack" / "kafka" / "cluster.id").read_text().strip()
    assert stack_id in written_with and cluster_id in written_with
    master = (ROOT / ".stack" / "secrets" / "master.key").read_text().strip()
    assert master not in written_with
    with psycopg.connect(conf.database_url("identity"), connect_timeout=5) as conn:
        comments = dict(conn.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database"
        ).fetchall())
    for ctx in project_settings.CONTEXTS:
        assert comments[conf.database_name(ctx)] == f"mentoring stack {written_with}", ctx


def test_the_binding_names_the_kafka_log_running_and_the_master_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Databases are bound to the broker actually running (refused when it is another
    checkout's) and to the master secret: deleting the secrets by hand makes them
    another state's."""
    from deploy.stackctl import config
    from deploy.stackctl.errors import StackError
    from deploy.stackctl.kafka import Kafka
    from deploy.stackctl.postgres import Postgres
    from services.servicekit import secrets

    root = tmp_path / "checkout"
    (root / ".stack" / "kafka").mkdir(parents=True)
    (root / ".stack" / "stack.id").write_text("one-stack\n")
    monkeypatch.setenv("MENTORING_SECRETS_DIR", str(root / ".stack" / "secrets"))
    secrets.ensure_all()
    postgres = Postgres(config.load(root))

    # This checkout never formatted the broker that answers: not its databases to touch.
    (root / ".stack" / "kafka" / "cluster.id").write_text("another-checkouts-log\n")
    with pytest.raises(StackError, match="not this checkout's"):
        postgres.written_with()

    running = Kafka(config.load(ROOT)).running_cluster_id()
    (root / ".stack" / "kafka" / "cluster.id").write_text(running + "\n")
    first = postgres.written_with()
    assert running in first and first == postgres.written_with()
    (root / ".stack" / "secrets" / "master.key").unlink()
    secrets.ensure_all()
    assert postgres.written_with() != first


def test_a_database_written_for_another_stack_is_recreated_empty(
    conf: project_settings.Settings,
) -> None:
    """The machine's cluster outlives a checkout (a reused CI machine, ``make clean``);
    a database whose Kafka log and secrets are gone is dropped, one of ours is kept."""
    from deploy.stackctl import config
    from deploy.stackctl.postgres import Binding, Postgres

    postgres = Postgres(config.load(ROOT))
    name = f"mentoring_bindtest_{uuid.uuid4().hex[:8]}"

    def tables() -> list[str]:
        with psycopg.connect(conf.database_url(name), connect_timeout=5) as conn:
            return [r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()]

    def write_a_table() -> None:
        with psycopg.connect(conf.database_url(name), connect_timeout=5) as conn:
            conn.execute("CREATE TABLE written (id int)")

    try:
        assert postgres.bind([name], "earlier-checkout") == Binding([name], [])  # created
        write_a_table()
        # Created, but Kafka not started over yet (an up that failed half-way): unbound.
        assert postgres.bind([name], "earlier-checkout") == Binding([name], [name])
        assert tables() == []
        postgres.confirm([name], "earlier-checkout")  # Kafka started over: bound for good
        write_a_table()
        assert postgres.bind([name], "earlier-checkout") == Binding([], [])  # its own: kept
        assert tables() == ["written"]

        # Another stack's: recreated.
        assert postgres.bind([name], "this-checkout") == Binding([name], [name])
        postgres.confirm([name], "this-checkout")
        assert tables() == []
        write_a_table()
        assert postgres.bind([name], "this-checkout") == Binding([], [])
        assert tables() == ["written"]
        # One history for all: a database kept beside a new one is started anew too.
        beside = f"{name}_beside"
        names = [name, beside]
        assert postgres.bind(names, "this-checkout", together=True) == Binding(names, [name])
        postgres.confirm(names, "this-checkout")
        assert tables() == []
        write_a_table()
        assert postgres.bind(names, "this-checkout", together=True) == Binding([], [])
        assert tables() == ["written"]
    finally:
        with psycopg.connect(conf.database_url("identity"), autocommit=True) as conn:
            for database in (name, f"{name}_beside"):
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_each_service_consumes_as_the_group_stackctl_resets_with_its_database() -> None:
    import yaml

    from deploy.stackctl.kafka import CONSUMER_GROUPS

    declared = {}
    for path in ROOT.glob("services/*/config.yaml"):
        section = yaml.safe_load(path.read_text()).get("EVENTCORE")
        if section:
            declared[section["context"]] = section["consumer_group"]
    assert declared == {ctx: ctx for ctx in project_settings.CONTEXTS}
    assert set(CONSUMER_GROUPS) == set(declared.values())


def test_the_consumer_group_of_a_new_database_reads_from_the_beginning_again(
    conf: project_settings.Settings,
) -> None:
    """Offsets are in Kafka, processed-event marks in the database: a new, empty
    database must see every event again, so its group is forgotten."""
    from kafka import KafkaConsumer
    from kafka.structs import OffsetAndMetadata

    from deploy.stackctl import config
    from deploy.stackctl.kafka import Kafka

    group = f"tests-stack-forget-{uuid.uuid4().hex[:8]}"
    partition = TopicPartition(conf.topic("identity"), 0)
    consumer = KafkaConsumer(bootstrap_servers=conf.kafka_bootstrap, group_id=group,
                             enable_auto_commit=False)
    try:
        consumer.assign([partition])
        consumer.commit({partition: OffsetAndMetadata(0, "", -1)})
    finally:
        consumer.close()
    kafka = Kafka(config.load(ROOT))
    admin = KafkaAdminClient(bootstrap_servers=conf.kafka_bootstrap, client_id="tests-stack")
    try:
        assert group in {g["group_id"] for g in admin.list_groups()}
        assert kafka.forget_groups([group, f"{group}-never-existed"]) == [group]
        assert group not in {g["group_id"] for g in admin.list_groups()}
    finally:
        admin.close()


def test_a_topic_whose_database_is_new_is_emptied_and_kept_as_it_was(
    conf: project_settings.Settings,
) -> None:
    """Events on a topic whose store is gone must not reach the new history."""
    from kafka import KafkaConsumer, KafkaProducer

    from deploy.stackctl import config
    from deploy.stackctl.kafka import Kafka

    held, empty = (f"tests-stack-empty-{uuid.uuid4().hex[:8]}" for _ in range(2))
    admin = KafkaAdminClient(bootstrap_servers=conf.kafka_bootstrap, client_id="tests-stack")
    try:
        admin.create_topics({held: {"num_partitions": 2, "replication_factor": 1},
                             empty: {"num_partitions": 1, "replication_factor": 1}},
                            wait_for_metadata=True)
        producer = KafkaProducer(bootstrap_servers=conf.kafka_bootstrap, acks="all")
        producer.send(held, b"from a database that is gone").get(timeout=30)
        producer.close()

        assert Kafka(config.load(ROOT)).empty_topics([held, empty, f"{held}-absent"]) == [held]

        (described,) = admin.describe_topics([held])
        assert len(described["partitions"]) == 2
        reader = KafkaConsumer(bootstrap_servers=conf.kafka_bootstrap)
        try:
            partitions = [TopicPartition(held, p) for p in range(2)]
            assert set(reader.end_offsets(partitions).values()) == {0}
        finally:
            reader.close()
    finally:
        admin.delete_topics([held, empty])
        admin.close()
