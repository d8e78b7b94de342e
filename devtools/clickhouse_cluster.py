"""A local ClickHouse cluster without Docker: one ZooKeeper and ``shards x replicas`` nodes of
Debian's ``clickhouse-server`` (18.16 here), each with its own config files and data directory,
all on 127.0.0.1, on ports chosen at start. For the tests, the benchmarks and
``make demo-cluster``.

Everything lives in one work directory: ``zookeeper/`` and ``node-S-R/`` (config, data, log,
``pid``). :func:`stop_dir` stops whatever a directory's pid files name, so a cluster whose
starting process is gone can still be stopped. The facts this builds on (which settings, why)
are in ``../shared/notes/clickhouse-18.16.md`` and in :data:`PROFILE`.

The packages are installed with ``apt-get install`` when missing (:func:`ensure_installed`,
one install at a time: :mod:`devtools.apt`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from devtools import apt

CLICKHOUSE = "/usr/sbin/clickhouse-server"
ZOOKEEPER_JAR = Path("/usr/share/java/zookeeper.jar")
ZOOKEEPER_CLASSPATH = [
    "/usr/share/java/zookeeper.jar",
    "/usr/share/java/zookeeper-jute.jar",
    "/usr/share/java/slf4j-api.jar",
    "/usr/share/java/slf4j-simple.jar",
]
PACKAGES = ("clickhouse-server", "clickhouse-client", "zookeeper")

#: The users' profile: ``poll_interval`` 1 (else a SIGTERM waits ~10 s per idle connection);
#: ``receive_timeout`` in the profile (a SIGSTOPped replica otherwise hangs reads for 300 s, and
#: per-query settings do not reach the pooled inter-server connections); connect timeouts short
#: so a dead replica is passed over quickly; ``load_balancing`` in_order, so reads and inserts
#: go to the first live replica of each shard (read-after-write while it is up).
PROFILE = {
    "poll_interval": "1",
    "receive_timeout": "5",
    "send_timeout": "5",
    "connect_timeout": "1",
    "connect_timeout_with_failover_ms": "200",
    "load_balancing": "in_order",
    "max_memory_usage": "2000000000",
}

#: Ports are taken below the kernel's ephemeral range so that a killed node's port is still
#: free when it restarts (nothing else picks it meanwhile).
PORT_RANGE = (12000, 30000)


def ensure_installed() -> None:
    """Install Debian's ClickHouse and ZooKeeper when missing (root, apt-get)."""
    apt.ensure(PACKAGES, lambda: Path(CLICKHOUSE).exists() and ZOOKEEPER_JAR.exists())


def _free_port(taken: set[int]) -> int:
    """A port of :data:`PORT_RANGE` that nothing listens on, not in ``taken``."""
    low, high = PORT_RANGE
    start = low + (os.getpid() * 7919 + time.monotonic_ns()) % (high - low)
    for offset in range(high - low):
        port = low + (start - low + offset) % (high - low)
        if port in taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise RuntimeError("no free port")  # pragma: no cover


@dataclass
class Node:
    shard: int  # 1-based, as the macros
    replica: int
    tcp_port: int
    http_port: int
    interserver_port: int
    directory: Path

    @property
    def name(self) -> str:
        return f"node-{self.shard}-{self.replica}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.tcp_port}"


@dataclass
class LocalCluster:
    """``shards`` x ``replicas`` ClickHouse nodes and one ZooKeeper in ``workdir``."""

    workdir: Path
    shards: int = 2
    replicas: int = 2
    name: str = "engagement"
    zk_port: int = 0
    nodes: list[Node] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        taken: set[int] = set()
        if not self.zk_port:
            self.zk_port = _free_port(taken)
        if not self.nodes:
            for shard in range(1, self.shards + 1):
                for replica in range(1, self.replicas + 1):
                    self.nodes.append(
                        Node(
                            shard,
                            replica,
                            _free_port(taken),
                            _free_port(taken),
                            _free_port(taken),
                            self.workdir / f"node-{shard}-{replica}",
                        )
                    )

    # -- what clients need ---------------------------------------------------------------------

    @property
    def hosts(self) -> list[str]:
        return [node.host for node in self.nodes]

    def counters_url(self, database: str) -> str:
        return f"clickhouse://{','.join(self.hosts)}/{database}?cluster={self.name}"

    def shard_nodes(self, shard: int) -> list[Node]:
        return [node for node in self.nodes if node.shard == shard]

    def as_state(self) -> dict[str, object]:
        return {
            "workdir": str(self.workdir),
            "shards": self.shards,
            "replicas": self.replicas,
            "name": self.name,
            "zk_port": self.zk_port,
            "nodes": [
                [n.shard, n.replica, n.tcp_port, n.http_port, n.interserver_port]
                for n in self.nodes
            ],
        }

    @classmethod
    def from_state(cls, state: dict[str, object]) -> LocalCluster:
        workdir = Path(str(state["workdir"]))
        raw = state["nodes"]
        assert isinstance(raw, list)
        nodes = [Node(s, r, t, h, i, workdir / f"node-{s}-{r}") for s, r, t, h, i in raw]
        return cls(
            workdir,
            int(str(state["shards"])),
            int(str(state["replicas"])),
            str(state["name"]),
            int(str(state["zk_port"])),
            nodes,
        )

    # -- life ----------------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> None:
        """Write every config, start ZooKeeper and every node, wait until all answer."""
        ensure_installed()
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self.start_zookeeper(timeout)
            for node in self.nodes:
                self._write_node_config(node)
                self._spawn_node(node)
            for node in self.nodes:
                self.wait_node(node, timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every node and ZooKeeper (SIGTERM, then SIGKILL after a few seconds)."""
        stop_dir(self.workdir)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- ZooKeeper -----------------------------------------------------------------------------

    def start_zookeeper(self, timeout: float = 60.0) -> None:
        zdir = self.workdir / "zookeeper"
        (zdir / "data").mkdir(parents=True, exist_ok=True)
        (zdir / "zoo.cfg").write_text(
            "\n".join(
                [
                    "tickTime=500",
                    "initLimit=10",
                    "syncLimit=5",
                    f"dataDir={zdir / 'data'}",
                    f"clientPort={self.zk_port}",
                    "clientPortAddress=127.0.0.1",
                    "admin.enableServer=false",
                    "4lw.commands.whitelist=ruok,srvr,stat,mntr",
                    "maxSessionTimeout=10000",
                    "minSessionTimeout=1000",
                    "forceSync=no",
                    "",
                ]
            )
        )
        _spawn(
            [
                "java",
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-Dzookeeper.log.dir=" + str(zdir),
                "-cp",
                ":".join(ZOOKEEPER_CLASSPATH),
                "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                str(zdir / "zoo.cfg"),
            ],
            zdir,
            zdir / "zookeeper.log",
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _running(zdir / "pid"):
                raise RuntimeError(f"ZooKeeper exited: see {zdir / 'zookeeper.log'}")
            if self.zookeeper_ok():
                return
            time.sleep(0.1)
        raise RuntimeError("ZooKeeper did not start serving in time")

    def zookeeper_ok(self) -> bool:
        """ZooKeeper serves requests (``ruok`` says imok before it does; ``srvr`` names its mode
        only once it serves). Nodes started before that may crash on their first DDL (18.16)."""
        try:
            with socket.create_connection(("127.0.0.1", self.zk_port), timeout=1) as sock:
                sock.sendall(b"srvr")
                answer = b""
                while chunk := sock.recv(4096):
                    answer += chunk
                return b"Mode:" in answer
        except OSError:
            return False

    def stop_zookeeper(self, sig: int = signal.SIGKILL) -> None:
        _stop_pidfile(self.workdir / "zookeeper" / "pid", sig)

    # -- nodes ---------------------------------------------------------------------------------

    def start_node(self, node: Node, timeout: float = 60.0) -> None:
        self._spawn_node(node)
        self.wait_node(node, timeout)

    def kill_node(self, node: Node, sig: int = signal.SIGKILL) -> None:
        _stop_pidfile(node.directory / "pid", sig)

    def _spawn_node(self, node: Node) -> None:
        _spawn(
            [CLICKHOUSE, f"--config-file={node.directory / 'config.xml'}"],
            node.directory,
            node.directory / "stdout.log",
        )

    def wait_node(self, node: Node, timeout: float = 60.0) -> None:
        """Until the node answers ``SELECT 1`` and reaches ZooKeeper."""
        from clickhouse_driver import Client

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if not _running(node.directory / "pid"):
                raise RuntimeError(f"{node.name} exited: see {node.directory / 'log'}")
            client = Client("127.0.0.1", port=node.tcp_port, connect_timeout=1)
            try:
                client.execute("SELECT 1")
                client.execute("SELECT count() FROM system.zookeeper WHERE path = '/'")
                return
            except Exception as exc:
                last = exc
                time.sleep(0.1)
            finally:
                client.disconnect()
        raise RuntimeError(f"{node.name} not ready in {timeout} s: {last}")

    def _write_node_config(self, node: Node) -> None:
        d = node.directory
        for sub in ("data", "tmp", "user_files", "log", "format_schemas"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        shards = []
        for shard in range(1, self.shards + 1):
            replicas = "".join(
                f"<replica><host>127.0.0.1</host><port>{n.tcp_port}</port></replica>"
                for n in self.shard_nodes(shard)
            )
            shards.append(
                f"<shard><internal_replication>true</internal_replication>{replicas}</shard>"
            )
        profile = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in PROFILE.items())
        config = f"""<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d / "log" / "server.log"}</log>
    <errorlog>{d / "log" / "error.log"}</errorlog><size>10M</size><count>2</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>{node.tcp_port}</tcp_port>
  <http_port>{node.http_port}</http_port>
  <interserver_http_port>{node.interserver_port}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <max_connections>512</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>200</max_concurrent_queries>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <mark_cache_size>67108864</mark_cache_size>
  <path>{d / "data"}/</path>
  <tmp_path>{d / "tmp"}/</tmp_path>
  <user_files_path>{d / "user_files"}/</user_files_path>
  <format_schema_path>{d / "format_schemas"}/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
  <max_session_timeout>3600</max_session_timeout>
  <default_session_timeout>60</default_session_timeout>
  <remote_servers><{self.name}>{"".join(shards)}</{self.name}></remote_servers>
  <zookeeper><node><host>127.0.0.1</host><port>{self.zk_port}</port></node>
    <session_timeout_ms>4000</session_timeout_ms><operation_timeout_ms>3000</operation_timeout_ms>
  </zookeeper>
  <macros><shard>{node.shard:02d}</shard><replica>{node.name}</replica>
    <cluster>{self.name}</cluster></macros>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
  <merge_tree><parts_to_delay_insert>300</parts_to_delay_insert>
    <parts_to_throw_insert>600</parts_to_throw_insert></merge_tree>
</yandex>
"""
        users = f"""<?xml version="1.0"?>
<yandex>
  <profiles><default>{profile}</default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
"""
        (d / "config.xml").write_text(config)
        (d / "users.xml").write_text(users)


def _spawn(command: list[str], directory: Path, log: Path) -> None:
    """Start ``command`` detached (its own session, not our child: it outlives this process,
    which a run's shared cluster must), its output appended to ``log``, its pid written to
    ``directory/pid`` by the shell that then becomes it."""
    pidfile = directory / "pid"
    with contextlib.suppress(OSError):
        pidfile.unlink()
    with log.open("ab") as out:
        subprocess.run(
            ["setsid", "--fork", "sh", "-c", 'echo $$ > "$0"; exec "$@"', str(pidfile), *command],
            cwd=directory,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=True,
        )
    deadline = time.monotonic() + 10
    while not pidfile.exists() or not pidfile.read_text().strip():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{command[0]} did not start: see {log}")
        time.sleep(0.01)


def _running(pidfile: Path) -> bool:
    try:
        return _alive(int(pidfile.read_text()))
    except (OSError, ValueError):
        return False


def _stop_pidfile(pidfile: Path, sig: int) -> None:
    """Signal the process a pid file names and wait for it (SIGKILL after 5 s); no-op when the
    file or the process is gone."""
    try:
        pid = int(pidfile.read_text())
    except (OSError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if not _alive(pid):
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        pidfile.unlink()


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie of someone else's is dead too
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def pidfiles(workdir: Path) -> Iterator[Path]:
    if not workdir.exists():
        return
    for child in sorted(workdir.iterdir()):
        if (child / "pid").exists():
            yield child / "pid"


def stop_dir(workdir: Path, sig: int = signal.SIGTERM) -> None:
    """Stop every node, then ZooKeeper, named by the pid files under ``workdir``."""
    files = list(pidfiles(Path(workdir)))
    nodes = [f for f in files if f.parent.name != "zookeeper"]
    for pidfile in nodes:
        _stop_pidfile(pidfile, sig)
    for pidfile in files:
        if pidfile not in nodes:
            _stop_pidfile(pidfile, signal.SIGKILL)


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - a developer's tool
    """``python -m devtools.clickhouse_cluster DIR``: start a 2x2 cluster, print its URL."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    cluster = LocalCluster(Path(args[0] if args else "cluster"))
    cluster.start()
    print(cluster.counters_url("engagement"), flush=True)
    try:
        signal.pause()
    finally:
        cluster.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
