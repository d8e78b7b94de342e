"""``make demo-cluster``: the demo with its counters on a local ClickHouse cluster (2 shards x 2
replicas and a ZooKeeper, Debian's packages, installed when missing), for anyone who wants to
see the scale-out path run. The catalog is the demo's SQLite file; the cluster lives in a
temporary directory and is stopped and removed when the demo ends (Ctrl-C)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from devtools.clickhouse_cluster import LocalCluster


def main() -> int:
    cluster = LocalCluster(Path(tempfile.mkdtemp(prefix="engagement-demo-cluster-")))
    print("starting a ClickHouse cluster: 2 shards x 2 replicas and a ZooKeeper ...", flush=True)
    cluster.start()
    try:
        url = cluster.counters_url("engagement_demo")
        print(f"counters: {url}", flush=True)
        command = [sys.executable, "-m", "engagement_api.cli", "demo", "--counters-url", url]
        try:
            return subprocess.run([*command, *sys.argv[1:]], check=False).returncode
        except KeyboardInterrupt:
            return 130
    finally:
        cluster.destroy()


if __name__ == "__main__":
    sys.exit(main())
