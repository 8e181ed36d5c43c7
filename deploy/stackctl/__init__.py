"""stackctl: the local stack, started by the project itself.

``python -m deploy.stackctl up`` turns a bare Debian 12 machine (root, Java 17
and Maven present) into the platform's complete local environment, and does
nothing on a machine where it is already up:

- Debian packages (PostgreSQL 15, RabbitMQ, Prometheus) installed if missing;
- a dedicated PostgreSQL cluster ``15/mentoring`` with one database per context;
- a RabbitMQ node of its own (data, cookie and logs under ``.stack/``);
- a single-node Kafka (KRaft, no ZooKeeper) from jars fetched from Maven Central,
  with the context topics and dead-letter topics created with explicit partitions;
- Prometheus scraping every project process, with the project's alerting rules;
- the project's own processes, from the manifest ``deploy/processes.toml``.

Every address comes from ``services.eventcore.settings``: one place, shared with the
services and the tests. ``down`` stops exactly what ``up`` started; ``--record`` /
``--only`` let ``make test`` stop only what it had to start itself.

Every process started here belongs to a new session with stdin from /dev/null and
stdout/stderr to a log file under ``.stack/logs/``, so nothing can hold the caller's
terminal or CI's pipe open. Each carries ``MENTORING_STACK_ROOT`` (and
``MENTORING_STACK_PROCESS``) in its environment, which is how a pid or a port holder is
recognised as ours and not a stranger's (a pid file alone can outlive its process
and its pid be reused).

Expected failures raise ``StackError``; the CLI prints them as one line
``stackctl: <what> (<where>)`` (plus the tail of the relevant log) and exits 2.
Apart from the project's own Kafka client (kafka-python, needed to speak Kafka's
protocol) it uses the standard library only.
"""
