"""PostgreSQL 15: a dedicated Debian cluster ``15/mentoring``, its role and databases.

A Debian cluster (``pg_createcluster``/``pg_ctlcluster``) rather than a bare
``initdb`` directory: Debian's tools then know it (``pg_lsclusters``), its log is in
the usual place, and it runs as the ``postgres`` user as PostgreSQL requires. Its
data lives in /var/lib/postgresql/15/mentoring, so it survives ``make clean``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from deploy.stackctl import system
from deploy.stackctl.component import Component, State
from deploy.stackctl.errors import StackError
from services.eventcore import settings as project_settings
from services.servicekit import secrets

VERSION = "15"
CLUSTER = "mentoring"
CONF_D = Path(f"/etc/postgresql/{VERSION}/{CLUSTER}/conf.d")
SERVER_LOG = Path(f"/var/log/postgresql/postgresql-{VERSION}-{CLUSTER}.log")

# Idempotent provisioning in one psql session: \gexec runs each generated statement
# (CREATE DATABASE cannot run inside a DO block or a transaction).
_PROVISION = """\
\\getenv role STACKCTL_PG_ROLE
\\getenv password STACKCTL_PG_PASSWORD
\\getenv binding STACKCTL_PG_BINDING
\\getenv pending STACKCTL_PG_PENDING
SELECT format('CREATE ROLE %I LOGIN CREATEDB', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \\gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'role', :'password') \\gexec
-- Tests and benchmarks drop their scratch databases WITH (FORCE): an autovacuum worker
-- busy in one (it runs as no role) may only be stopped with pg_signal_backend.
SELECT format('GRANT pg_signal_backend TO %I', :'role') \\gexec
"""
# Each context's database is bound, by its comment, to the state it was written
# with (``Postgres.written_with``). The cluster is the machine's and outlives a checkout (a
# CI machine reused by a fresh clone, ``make clean``), but what the databases hold
# only makes sense with that state: their outboxes say "published" about a Kafka
# log, their data keys open only with one master secret. A database written with
# another is dropped and created afresh, and ``up`` says so.
_BINDING = "mentoring stack {identity}"
_DATABASE = """\
SELECT format('DROP DATABASE %I WITH (FORCE)', '{name}')
 WHERE {foreign} \\gexec
SELECT format('CREATE DATABASE %I OWNER %I', '{name}', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{name}') \\gexec
SELECT format('COMMENT ON DATABASE %I IS %L', '{name}', :'{comment}') \\gexec
"""
_BOUND = "SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database"
# A database created anew is bound for good only once Kafka has started over with it
# (``confirm``): an ``up`` that fails in between finds it unbound and starts over again.
_PENDING = " (pending: Kafka not started over yet)"
_CONFIRM = "SELECT format('COMMENT ON DATABASE %I IS %L', '{name}', :'binding') \\gexec\n"


@dataclass(frozen=True)
class Binding:
    """What ``Postgres.bind`` did: the databases that now start empty, and among them
    those that existed for another ``.stack/``."""

    created: list[str]
    recreated: list[str]


class Postgres(Component):
    key = "postgres"
    label = "PostgreSQL"
    #: Set by ``ensure``: the contexts whose database is new and empty (bound pending
    #: until ``confirm``), and what the databases are bound to.
    created_contexts: list[str] = []
    identity: str = ""

    def address(self) -> str:
        return str(self.stack.postgres)

    def ports(self) -> list[int]:
        return [self.stack.settings.pg_port]

    def owns(self, pid: int) -> bool:
        # The postmaster is started by pg_ctlcluster, not by us: recognise it by its config.
        return f"/postgresql/{VERSION}/{CLUSTER}" in system.cmdline(pid, limit=1000)

    def _cluster(self) -> tuple[int, str] | None:
        """(port, status) of 15/mentoring from pg_lsclusters, None if it does not exist."""
        try:
            done = subprocess.run(
                ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False
            )
        except FileNotFoundError:  # postgresql-common not installed yet: up installs it
            return None
        for line in done.stdout.splitlines():
            fields = line.split()
            if fields[:2] == [VERSION, CLUSTER]:
                return int(fields[2]), fields[3]
        return None

    def state(self) -> State:
        cluster = self._cluster()
        if cluster is None:
            return State(False, detail="cluster not created")
        _port, status = cluster
        return State(status.startswith("online"), detail=f"cluster {VERSION}/{CLUSTER}")

    def start(self) -> None:
        log = self.paths.log("postgres-setup")
        port = self.stack.settings.pg_port
        cluster = self._cluster()
        if cluster is None:
            self._create(log)
        elif cluster[0] != port:
            # The setting moved since the cluster was created: follow it.
            self._ctl(["pg_conftool", VERSION, CLUSTER, "set", "port", str(port)], log)
        self._write_overrides()
        self._link_log()
        if system.run(["pg_ctlcluster", VERSION, CLUSTER, "start"], log, timeout=120) != 0:
            raise StackError(
                f"PostgreSQL cluster {VERSION}/{CLUSTER} did not start ({SERVER_LOG})",
                system.tail(SERVER_LOG) + "\n" + system.tail(log, 5),
            )

    def _create(self, log: Path) -> None:
        self._ctl(
            [
                "pg_createcluster", VERSION, CLUSTER,
                "--port", str(self.stack.settings.pg_port),
                # Not started by the init script at boot: stackctl starts it.
                "--start-conf", "manual",
                # UTF-8 whatever the caller's locale (CI may have none: SQL_ASCII otherwise).
                "--locale", "C.UTF-8", "--encoding", "UTF8",
            ],
            log,
        )

    def _write_overrides(self) -> None:
        """Our settings in the cluster's conf.d (read after postgresql.conf, so they win).

        Not ``pg_createcluster -o``: it writes 127.0.0.1 unquoted, which PostgreSQL
        rejects as a syntax error.
        """
        CONF_D.mkdir(parents=True, exist_ok=True)
        (CONF_D / "stackctl.conf").write_text(
            "# written by stackctl (deploy/stackctl/postgres.py) at every start\n"
            "listen_addresses = '127.0.0.1'\n"
            # Every service, relay, consumer and test holds a pool: room for all of them.
            "max_connections = 300\n"
            # When each row became visible (pg_xact_commit_timestamp): the sessions
            # benchmark reads its latencies so, rather than polling what it measures.
            "track_commit_timestamp = on\n"
        )

    def _apply_overrides(self) -> None:
        """A cluster that was already running when our settings changed (a checkout
        updated under a running stack) reads them now; one that needs a restart for
        some says which, in one line (the stack keeps running meanwhile)."""
        self._write_overrides()
        self._psql(["-c", "SELECT pg_reload_conf()"])
        pending = self._psql(["-A", "-t", "-c", "SELECT string_agg(name, ', ' ORDER BY name) "
                              "FROM pg_settings WHERE pending_restart"]).strip()
        if pending:
            print(f"stackctl: PostgreSQL runs without {pending} from {CONF_D}/stackctl.conf "
                  "until it restarts: `make down && make up`", flush=True)

    def _ctl(self, command: list[str], log: Path) -> None:
        if system.run(command, log, timeout=120) != 0:
            raise StackError(f"{command[0]} {VERSION} {CLUSTER} failed ({self.paths.rel(log)})",
                             system.tail(log))

    def _link_log(self) -> None:
        """.stack/logs/postgresql.log -> the cluster's log, so that all logs are in one place."""
        link = self.paths.log("postgresql")
        if not link.is_symlink():
            link.unlink(missing_ok=True)
            link.symlink_to(SERVER_LOG)

    def ensure(self) -> None:
        """The role with the configured password, and one database per context, bound
        to this ``.stack/``; ``created_contexts`` names those that start empty."""
        self._link_log()
        s = self.stack.settings
        cluster = self._cluster()
        if cluster is not None and cluster[0] != s.pg_port:
            raise StackError(f"cluster {VERSION}/{CLUSTER} runs on port {cluster[0]}, not on "
                             f"MENTORING_PG_PORT={s.pg_port}: stop it first (stackctl down)")
        self._apply_overrides()
        contexts = {s.database_name(ctx): ctx for ctx in project_settings.CONTEXTS}
        self.identity = self.written_with()
        binding = self.bind(list(contexts), self.identity, together=True)
        for name in binding.recreated:
            print(f"stackctl: database {name} dropped and created empty (written with another "
                  "Kafka log or master secret, or beside databases that are gone)", flush=True)
        self.created_contexts = [contexts[name] for name in binding.created]

    def written_with(self) -> str:
        """What the databases' content depends on outside them: this ``.stack/`` (its
        id), the Kafka log their outboxes published to (its cluster id) and the master
        secret their data keys are wrapped with (a hash of it, never the secret)."""
        from deploy.stackctl.kafka import Kafka

        kafka = Kafka(self.stack)
        running, recorded = kafka.running_cluster_id(), kafka.recorded_cluster_id()
        if running != recorded:
            # Another checkout's broker: its databases are not ours to bind, nor to drop.
            raise StackError(
                f"Kafka on {self.stack.kafka} is not this checkout's (cluster {running}; "
                f".stack/kafka has {recorded or 'none'}): stop the stack that started it "
                "(`make down` in its checkout), then `make up` here")
        master = hashlib.sha256(b"stackctl binding\0" + secrets.load("master")).hexdigest()
        return f"{self.paths.stack_id()} kafka {running} master {master[:16]}"

    def bind(self, names: list[str], identity: str, together: bool = False) -> Binding:
        """Create the databases ``names`` that are missing, recreate those bound to
        another identity, and bind them all to ``identity``.

        ``together``: one history for all of them. When any starts empty, the others
        are recreated too: they hold projections of events whose store is gone.
        """
        binding = _BINDING.format(identity=identity)
        existing = dict(
            line.split("\t", 1) for line in self._psql(["-A", "-t", "-F", "\t", "-c", _BOUND])
            .splitlines() if "\t" in line
        )
        foreign = [name for name in names if name in existing and existing[name] != binding]
        if together and (foreign or any(name not in existing for name in names)):
            foreign = [name for name in names if name in existing]
        created = [name for name in names if name not in existing or name in foreign]
        sql = _PROVISION + "".join(
            _DATABASE.format(name=name.replace("'", "''"),
                             foreign="true" if name in foreign else "false",
                             comment="pending" if name in created else "binding")
            for name in names
        )
        settings = self.stack.settings
        # Role and password travel in the environment: never on a command line or in a log.
        env = {"STACKCTL_PG_ROLE": settings.pg_user, "STACKCTL_PG_PASSWORD": settings.pg_password,
               "STACKCTL_PG_BINDING": binding, "STACKCTL_PG_PENDING": binding + _PENDING}
        self._psql([], stdin_text=sql, env=env)
        return Binding(created=created, recreated=foreign)

    def confirm(self, names: list[str], identity: str) -> None:
        """Bind for good the databases created anew, once Kafka started over with them."""
        sql = "\\getenv binding STACKCTL_PG_BINDING\n" + "".join(
            _CONFIRM.format(name=name.replace("'", "''")) for name in names)
        self._psql([], stdin_text=sql,
                   env={"STACKCTL_PG_BINDING": _BINDING.format(identity=identity)})

    def _psql(self, args: list[str], stdin_text: str | None = None,
              env: dict[str, str] | None = None) -> str:
        """psql as the cluster's superuser; its output, or a StackError naming the log."""
        log = self.paths.log("postgres-setup")
        command = [
            "runuser", "-u", "postgres", "--",
            "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
            "-p", str(self.stack.settings.pg_port), "-d", "postgres", *args,
        ]
        done = subprocess.run(command, input=stdin_text, capture_output=True, text=True,
                              env=dict(os.environ, **(env or {})), timeout=60, check=False)
        with open(log, "a") as out:
            out.write(done.stderr)
        if done.returncode != 0:
            raise StackError(f"psql on cluster {VERSION}/{CLUSTER} failed "
                             f"({self.paths.rel(log)})", system.tail(log))
        return done.stdout

    def stop(self) -> bool:
        if not self.state().running:
            return False
        log = self.paths.log("postgres-setup")
        if system.run(["pg_ctlcluster", VERSION, CLUSTER, "stop", "-m", "fast"], log) != 0:
            raise StackError(f"pg_ctlcluster {VERSION} {CLUSTER} stop failed ({SERVER_LOG})",
                             system.tail(log, 5))
        return True
