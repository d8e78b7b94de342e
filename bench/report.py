"""The printed table and the machine description."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def _rate(value: float) -> str:
    return f"{value:,.0f} ev/s"


def _ms(value: float) -> str:
    return f"{value:,.2f} ms"


def _x(value: float) -> str:
    return f"{value:,.2f}x"


def _backend(info: dict[str, Any]) -> str:
    return "PostgreSQL" if info.get("backend") == "postgresql" else "SQLite"


def table(figures: dict[str, dict[str, Any]], info: dict[str, Any]) -> Table:
    out = Table(
        title=f"engagement-api benchmark, {_backend(info)}: {info['events']:,} events",
        caption="ratio: ours relative to the baseline of its row, same run; higher is better",
    )
    out.add_column("figure")
    out.add_column("ours", justify="right")
    out.add_column("baseline", justify="right")
    out.add_column("ratio", justify="right")
    out.add_column("target (information)")
    ingest = figures.get("file_ingest")
    if ingest:
        verdict = "PASS" if ingest["target_met"] else "MISS"
        base = _rate(ingest["baseline_events_per_s"]) + (
            " raw_events COPY" if info.get("backend") == "postgresql" else " raw_events"
        )
        out.add_row(
            f"file ingest ({ingest['files']} files, one call)",
            _rate(ingest["ours_events_per_s"]),
            base,
            _x(ingest["ratio"]),
            f"≥ {ingest['target_events_per_s']:,} ev/s: {verdict}",
        )
        if ingest.get("single_events_per_s"):
            out.add_row(
                "file ingest (one file per call)",
                _rate(ingest["single_events_per_s"]),
                base,
                _x(ingest["single_ratio"]),
                "",
            )
    for name, label in (("totals", "/totals 250 Posts"), ("historical", "/historical 25x28 d")):
        read = figures.get(name)
        if not read:
            continue
        target = ""
        if name == "totals":
            verdict = "PASS" if read["target_met"] else "MISS"
            scale = "" if info["events"] >= read["target_events"] else " (set for 10M events)"
            target = f"≥ {read['target_speedup']:.0f}x at p50: {verdict}{scale}"
        for q in ("p50", "p99"):
            out.add_row(
                f"{label} {q}",
                _ms(read["ours"][f"{q}_ms"]),
                _ms(read["baseline"][f"{q}_ms"]) + " GROUP BY",
                _x(read[f"speedup_{q}"]),
                target if q == "p50" else "",
            )
    http = figures.get("http_ingest")
    if http:
        out.add_row(
            f"HTTP ingest ({http['batch_events']:,}-event batches)",
            _rate(http["http_events_per_s"]),
            _rate(http["in_process_events_per_s"]) + " in-process",
            _x(http["ratio"]),
            "",
        )
    for name, label in (("http_totals", "HTTP /totals"), ("http_historical", "HTTP /historical")):
        http_read = figures.get(name)
        if not http_read:
            continue
        for q in ("p50", "p99"):
            out.add_row(
                f"{label} {q}",
                _ms(http_read["http"][f"{q}_ms"]),
                _ms(http_read["in_process"][f"{q}_ms"]) + " in-process",
                _x(http_read[f"ratio_{q}"]),
                "",
            )
    throughput = figures.get("http_throughput")
    if throughput:
        out.add_row(
            f"HTTP /totals throughput, {throughput['clients']} clients",
            f"{throughput['requests_per_s']:,.1f} req/s",
            f"{throughput['single_client_requests_per_s']:,.1f} req/s 1 client",
            _x(throughput["ratio"]),
            f"{throughput['workers']} worker(s)",
        )
    return out


def print_report(
    console: Console, figures: dict[str, dict[str, Any]], info: dict[str, Any]
) -> None:
    host = info["machine"]
    load = info["load_average"]
    console.print(
        f"run: {info['started']}, now (fixed clock) = {info['now']}; 1-min load average "
        f"{load['start'][0]:.2f} at start, {load['end'][0]:.2f} at end"
    )
    settings = info.get("pg_settings")
    database = (
        f"PostgreSQL {settings['server_version']}" if settings else f"SQLite {host['sqlite']}"
    )
    console.print(
        f"machine: {host['cores']} cores, {host['memory']}, {host['cpu']}; "
        f"Python {host['python']}, {database}"
    )
    if settings:
        shown = ", ".join(f"{k}={v}" for k, v in settings.items() if k != "server_version")
        console.print(f"PostgreSQL: {info['pg_server']}; settings: {shown}")
    rows = info.get("rows", {})
    console.print(
        f"data: {info['users']} users, {info['posts']:,} Posts, {info['events']:,} events in "
        f"{info['files']} NDJSON files ({info['ndjson_mib']:,} MiB, synthesised in "
        f"{info['synthesis_seconds']} s)"
    )
    if rows:
        where = f"file {info['db_mib']:,} MiB"
        if settings:
            where = (
                f"database {info['db_mib']:,} MiB (raw_events {info['raw_events_mib']:,} MiB "
                f"with its index, counts_hourly {info['counts_hourly_mib']:,} MiB)"
            )
        console.print(
            f"store after file ingest: {rows['counts_hourly']:,} hourly rows, "
            f"{rows['counts_total']:,} total rows, {rows['raw_events']:,} raw_events rows; "
            f"{where}"
        )
    ingest = figures.get("file_ingest")
    if ingest:
        console.print(
            f"file ingest: ours {ingest['single_seconds']:.1f} s for "
            f"{ingest['single_events']:,} events one file per call (alternating with the "
            f"baseline), {ingest['ours_seconds']:.1f} s for {ingest['events']:,} in one call "
            f"(after the baseline took them); baseline "
            f"{ingest['baseline_insert_seconds']:.1f} s "
            f"{'COPY' if settings else 'inserts'} + "
            f"{ingest['baseline_index_seconds']:.1f} s index"
            + (
                f"; then VACUUM (ANALYZE) {info['pg_vacuum_analyze_seconds']} s and CHECKPOINT "
                f"{info['pg_checkpoint_seconds']} s before the reads (untimed)"
                if "pg_vacuum_analyze_seconds" in info
                else ""
            )
        )
    runs = [figures[n]["ours"]["runs"] for n in ("totals", "historical") if n in figures]
    if runs:
        console.print(
            f"reads: {runs[0]} runs each, ours and baseline interleaved; answers verified equal"
        )
    healthz = info.get("healthz")
    if healthz:
        read = figures.get("http_historical") or figures.get("http_totals") or {}
        console.print(
            f"HTTP: uvicorn, {info['workers']} worker(s), loopback, keep-alive, OAuth 1.0a user "
            f"context, Content-Encoding {read.get('content_encoding')}; GET /healthz round trip "
            f"p50 {healthz['p50_ms']:.2f} ms"
        )
    console.print(table(figures, info))
