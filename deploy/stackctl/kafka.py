"""Kafka ≥ 3.9 in KRaft mode: one combined broker+controller, jars from Maven Central.

No Kafka distribution is downloaded (only registries are reachable): Maven copies
``kafka_2.13`` and its runtime dependencies (``deploy/kafka/pom.xml``) into
``.stack/kafka/libs`` once, and the broker runs as ``java -cp 'libs/*' kafka.Kafka``.
The storage is formatted once with a cluster id kept in ``.stack/kafka/cluster.id``;
later starts reuse it.

Talking to the broker (readiness, topics) needs Kafka's protocol, so this module
uses the project's own client, kafka-python, from the venv: the one exception to
stackctl being standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import shutil
import time
import uuid
from pathlib import Path

from deploy.stackctl import system
from deploy.stackctl.component import Daemon
from deploy.stackctl.config import child_env
from deploy.stackctl.errors import StackError
from services.eventcore import settings as project_settings
from services.eventcore.topics import partitions_of

NODE_ID = 1
CONTEXT_PARTITIONS = 6
DEAD_LETTER_PARTITIONS = 3
#: Consumer groups are named after the services, one per context, each keeping its
#: processed-event marks in its context's database (services/*/config.yaml).
CONSUMER_GROUPS: tuple[str, ...] = project_settings.CONTEXTS
START_TIMEOUT = 90.0


class Kafka(Daemon):
    key = "kafka"
    label = "Kafka"
    #: A combined node's controlled shutdown takes a few seconds; let it finish.
    grace = 30.0

    @property
    def home(self) -> Path:
        return self.paths.stack / "kafka"

    @property
    def libs(self) -> Path:
        return self.home / "libs"

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def properties(self) -> Path:
        return self.home / "server.properties"

    @property
    def pom(self) -> Path:
        return self.paths.deploy / "kafka" / "pom.xml"

    def address(self) -> str:
        return str(self.stack.kafka)

    def ports(self) -> list[int]:
        return [self.stack.kafka.port, self.stack.kafka_controller.port]

    def wanted_topics(self) -> dict[str, int]:
        s = self.stack.settings
        topics = {s.topic(ctx): CONTEXT_PARTITIONS for ctx in project_settings.CONTEXTS}
        topics.update({s.dead_letter_topic(g): DEAD_LETTER_PARTITIONS for g in CONSUMER_GROUPS})
        return topics

    def topic_configs(self, topic: str) -> dict[str, str]:
        """Context topics are the published event log: kept for ever, so that a
        consumer's projections can be rebuilt from them (``eventcore.projections``).
        Dead-letter topics keep the broker's default retention."""
        s = self.stack.settings
        if topic in {s.topic(ctx) for ctx in project_settings.CONTEXTS}:
            return {"retention.ms": "-1", "retention.bytes": "-1"}
        return {}

    # -- jars ------------------------------------------------------------------

    def fetch_libs(self) -> None:
        """Copy the broker's jars from Maven Central, unless the same pom already did."""
        stamp = self.libs / ".pom.sha256"
        digest = hashlib.sha256(self.pom.read_bytes()).hexdigest()
        if stamp.exists() and stamp.read_text().strip() == digest:
            return
        if shutil.which("mvn") is None:
            raise StackError("mvn not found (Maven is needed to fetch the Kafka jars)")
        print("stackctl: fetching the Kafka jars with Maven (first run only)", flush=True)
        shutil.rmtree(self.libs, ignore_errors=True)
        log = self.paths.log("maven")
        command = [
            "mvn", "-q", "-B", "-f", str(self.pom), "dependency:copy-dependencies",
            f"-DoutputDirectory={self.libs}", "-DincludeScope=runtime",
        ]
        if system.run(command, log, timeout=900) != 0:
            raise StackError(f"mvn could not fetch the Kafka jars ({self.paths.rel(log)})",
                             system.tail(log))
        stamp.write_text(digest + "\n")

    # -- configuration ---------------------------------------------------------

    def _java(self) -> str:
        java_home = os.environ.get("JAVA_HOME")
        if java_home and (Path(java_home) / "bin" / "java").exists():
            return str(Path(java_home) / "bin" / "java")
        found = shutil.which("java")
        if found is None:
            raise StackError("java not found (Java 17 is needed to run Kafka)")
        return found

    def _jvm(self) -> list[str]:
        log4j = self.paths.deploy / "kafka" / "log4j.properties"
        return [
            self._java(),
            "-Xms512m", "-Xmx1g",
            "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
            # A broker out of memory is better dead (and reported) than limping.
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j.configuration=file:{log4j}",
            f"-Dkafka.logs.dir={self.paths.logs}",
            "-cp", f"{self.libs}/*",
        ]

    def _write_properties(self) -> None:
        broker = self.stack.kafka
        controller = self.stack.kafka_controller
        self.properties.write_text(
            "# generated by deploy/stackctl/kafka.py from services/eventcore/settings.py\n"
            "process.roles=broker,controller\n"
            f"node.id={NODE_ID}\n"
            f"controller.quorum.voters={NODE_ID}@{controller}\n"
            f"listeners=PLAINTEXT://{broker},CONTROLLER://{controller}\n"
            f"advertised.listeners=PLAINTEXT://{broker}\n"
            "controller.listener.names=CONTROLLER\n"
            "inter.broker.listener.name=PLAINTEXT\n"
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n"
            f"log.dirs={self.data}\n"
            # Topics exist because stackctl (or a test) created them with explicit
            # partition counts, never because a client mistyped a name.
            "auto.create.topics.enable=false\n"
            "num.partitions=1\n"
            # One node: every internal topic has a single replica.
            "offsets.topic.replication.factor=1\n"
            "offsets.topic.num.partitions=10\n"
            "transaction.state.log.replication.factor=1\n"
            "transaction.state.log.min.isr=1\n"
            "transaction.state.log.num.partitions=4\n"
            "default.replication.factor=1\n"
            "min.insync.replicas=1\n"
            # Tests form and re-form consumer groups all the time: no 3 s wait each time.
            "group.initial.rebalance.delay.ms=0\n"
            "log.retention.hours=168\n"
            "log.segment.bytes=67108864\n"
            "num.network.threads=2\n"
            "num.io.threads=4\n"
        )

    def running_cluster_id(self) -> str:
        """The cluster id of the broker answering on our port (ours, or another's)."""
        admin = self._wait_ready()
        try:
            return str(admin.describe_cluster()["cluster_id"])
        finally:
            admin.close()

    def recorded_cluster_id(self) -> str | None:
        """The id the storage was formatted with, ``None`` before the first start."""
        path = self.home / "cluster.id"
        return path.read_text().strip() if path.exists() else None

    def _cluster_id(self) -> str:
        recorded = self.recorded_cluster_id()
        if recorded is not None:
            return recorded
        path = self.home / "cluster.id"
        while True:
            # Kafka's own format: 16 random bytes, URL-safe base64 without padding;
            # like Kafka's Uuid.randomUuid, never one that starts with "-" (an option).
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            if not cluster_id.startswith("-"):
                break
        path.write_text(cluster_id + "\n")
        return cluster_id

    def _format(self) -> None:
        if (self.data / "meta.properties").exists():
            return
        log = self.paths.log("kafka-format")
        command = [*self._jvm(), "kafka.tools.StorageTool", "format",
                   "-t", self._cluster_id(), "-c", str(self.properties)]
        if system.run(command, log, timeout=120) != 0:
            raise StackError(f"formatting the Kafka storage failed ({self.paths.rel(log)})",
                             system.tail(log))

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        self.fetch_libs()
        self.home.mkdir(parents=True, exist_ok=True)
        self._write_properties()
        self._format()
        command = [*self._jvm(), "kafka.Kafka", str(self.properties)]
        # Output of the JVM itself (not log4j's): crashes before logging is set up.
        self.child = system.spawn(command, self.paths.log("kafka-jvm"),
                                  child_env(self.paths, self.key), self.paths.root)
        self.pidfile.write_text(f"{self.child.pid}\n")

    def ensure(self) -> None:
        admin = self._wait_ready()
        try:
            self._ensure_topics(admin)
        finally:
            admin.close()

    def forget_groups(self, groups: list[str]) -> list[str]:
        """Delete the consumer groups ``groups``; returns those that existed.

        Offsets live in Kafka, the marks of processed events in each service's
        database: a database created empty has handled nothing, so its service's
        group must read the topics from their beginning (``auto_offset_reset``
        earliest), not from where a former database had got to.
        """
        if not groups:
            return []
        from kafka.errors import CoordinatorLoadInProgressError, CoordinatorNotAvailableError

        admin = self._wait_ready()
        try:
            # A new log has no group at all, and no coordinator to ask until one exists:
            # list first (any broker answers), delete only what is there.
            existing = {group["group_id"] for group in admin.list_groups()}
            wanted = [group for group in groups if group in existing]
            deadline = time.monotonic() + 30
            while True:
                try:
                    results = dict(admin.delete_groups(wanted)) if wanted else {}
                    break
                except (CoordinatorNotAvailableError, CoordinatorLoadInProgressError):
                    # Right after a restart the coordinator is still loading its offsets.
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
        finally:
            admin.close()
        forgotten = []
        for group, outcome in results.items():
            if outcome == "OK":
                forgotten.append(group)
            elif outcome != "GroupIdNotFoundError":
                raise StackError(
                    f"could not reset Kafka consumer group {group!r} ({outcome}) for its new, "
                    "empty database: stop its service (stackctl down), then up again"
                )
        return forgotten

    def empty_topics(self, topics: list[str]) -> list[str]:
        """Delete those of ``topics`` that hold records and create them again, empty
        (as ``ensure`` makes them); returns the emptied ones.

        A context database created empty has no history: events still on its topic
        were published by a database that is gone, and consumers would project them.
        """
        from kafka import KafkaConsumer
        from kafka.errors import KafkaError

        admin = self._wait_ready()
        try:
            existing = set(admin.list_topics())
            reader = KafkaConsumer(bootstrap_servers=str(self.stack.kafka),
                                   client_id="stackctl", enable_auto_commit=False)
            try:
                held = [topic for topic in topics if topic in existing
                        and any(reader.end_offsets(partitions_of(reader, topic)).values())]
            finally:
                reader.close()
            if not held:
                return []
            partitions = {t["name"]: len(t["partitions"]) for t in admin.describe_topics(held)}
            admin.delete_topics(held)
            deadline = time.monotonic() + START_TIMEOUT
            while set(held) & set(admin.list_topics()):
                if time.monotonic() > deadline:
                    raise self._failure(f"Kafka did not delete the topics {', '.join(held)}")
                time.sleep(0.25)
            admin.create_topics(
                {name: {"num_partitions": partitions[name], "replication_factor": 1,
                        "configs": self.topic_configs(name)} for name in held},
                wait_for_metadata=True,
            )
        except KafkaError as exc:
            raise StackError(f"emptying the Kafka topics {', '.join(topics)} failed: {exc} "
                             f"({self.paths.rel(self.paths.log('kafka'))})") from None
        finally:
            admin.close()
        return held

    def _failure(self, what: str) -> StackError:
        log, jvm = self.paths.log("kafka"), self.paths.log("kafka-jvm")
        return StackError(f"{what} ({self.paths.rel(log)})",
                          system.tail(log) + "\n" + system.tail(jvm, 5))

    def _wait_ready(self):  # type: ignore[no-untyped-def] # kafka-python has no type hints
        # kafka-python logs every refused connection as a warning: not for our caller.
        logging.getLogger("kafka").addHandler(logging.NullHandler())
        logging.getLogger("kafka").propagate = False
        from kafka import KafkaAdminClient

        broker = self.stack.kafka
        deadline = time.monotonic() + START_TIMEOUT
        last_error = "no answer"
        while time.monotonic() < deadline:
            if not self.alive():
                raise self._failure("Kafka stopped while starting")
            if system.can_connect(broker.host, broker.port):
                try:
                    admin = KafkaAdminClient(
                        bootstrap_servers=str(broker), client_id="stackctl",
                        request_timeout_ms=10000,
                    )
                    admin.list_topics()
                    return admin
                except Exception as exc:  # any client error means "not yet"
                    last_error = f"{type(exc).__name__}: {exc}"
            time.sleep(0.25)
        raise self._failure(f"Kafka did not answer on {broker} within {START_TIMEOUT:.0f} s "
                            f"({last_error})")

    def _ensure_topics(self, admin) -> None:  # type: ignore[no-untyped-def]
        from kafka.admin import ConfigResource
        from kafka.errors import KafkaError

        wanted = self.wanted_topics()
        try:
            existing = set(admin.list_topics())
            missing = {name: n for name, n in wanted.items() if name not in existing}
            if missing:
                admin.create_topics(
                    {name: {"num_partitions": n, "replication_factor": 1,
                            "configs": self.topic_configs(name)}
                     for name, n in missing.items()},
                    wait_for_metadata=True,
                )
            # A topic created by hand with too few partitions is grown, never shrunk
            # (Kafka cannot shrink one; more partitions than asked is left alone).
            present = [name for name in wanted if name not in missing]
            grow: dict[str, int] = {}
            for topic in admin.describe_topics(present) if present else []:
                if len(topic["partitions"]) < wanted[topic["name"]]:
                    grow[topic["name"]] = wanted[topic["name"]]
            if grow:
                admin.create_partitions(grow)
            # Topics created before retention was set (or by hand) are brought in line:
            # an incremental SET of the same value changes nothing.
            keep = [ConfigResource("TOPIC", name, self.topic_configs(name))
                    for name in present if self.topic_configs(name)]
            if keep:
                admin.alter_configs(keep)
        except KafkaError as exc:
            raise StackError(f"creating the Kafka topics failed: {exc} "
                             f"({self.paths.rel(self.paths.log('kafka'))})") from None
