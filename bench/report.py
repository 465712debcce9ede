"""The machine, the versions, the tables, the targets; JSON to bench/results/latest.json."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import profile

PACKAGES = ["django", "channels", "daphne", "channels-redis", "redis", "asgiref", "twisted",
            "autobahn", "websockets", "psycopg", "djangorestframework", "httpx"]


def _meminfo() -> dict[str, int]:
    out = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0]) * 1024
    except (OSError, ValueError):
        pass
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def machine() -> dict[str, Any]:
    memory = _meminfo()
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": round(memory.get("MemTotal", 0) / 2**30, 1),
        "memory_available_gib": round(memory.get("MemAvailable", 0) / 2**30, 1),
        "platform": platform.platform(),
        "loadavg": list(os.getloadavg()),
    }


def versions(redis_url: str | None = None, database_url: str | None = None) -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "-"
    if redis_url:
        try:
            import redis

            out["redis-server"] = redis.Redis.from_url(redis_url).info("server")["redis_version"]
        except Exception:  # noqa: BLE001
            out["redis-server"] = "?"
    if database_url:
        try:
            import psycopg

            with psycopg.connect(database_url, connect_timeout=3) as conn:
                out["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
        except Exception:  # noqa: BLE001
            out["postgresql"] = "?"
    return out


def git_state() -> dict[str, Any]:
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain"], cwd=root,
                                    capture_output=True, text=True, timeout=10).stdout.strip())
        return {"commit": commit, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {}


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# --- tables -------------------------------------------------------------------------------


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join("  " + line for line in lines)


def _g(d: dict | None, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def ladder_table(result: dict[str, Any]) -> str:
    rows = []
    for step in result.get("steps", []) + ([result["half"]] if result.get("half") else []):
        rows.append([
            step["label"], step["offered"], step["sent_rate"], step["achieved"], step["sent"],
            step["delivered"], step["lost"], _g(step, "latency_ms", "p50"),
            _g(step, "latency_ms", "p95"), _g(step, "latency_ms", "p99"),
            _g(step, "ack_ms", "p50"), _g(step, "ack_ms", "p99"),
            "/".join(str(c) for c in step["server_cpu"]), step["loadgen_cpu"],
            step.get("other_cpu"),
            "ok" if step["ok"] else "FAIL" + (f" {step['errors']}" if step["errors"] else ""),
        ])
    return _table(["step", "offered/s", "sent/s", "recv/s", "sent", "recv", "lost", "p50 ms",
                   "p95 ms", "p99 ms", "ack p50", "ack p99", "srv CPU%", "gen CPU%", "other CPU%",
                   ""], rows)


def _max_line(result: dict[str, Any]) -> str:
    best = result.get("max_ok_rate")
    half = result.get("half") or {}
    text = (f"  max rate with p99 < limit and zero loss: {best:g} msg/s"
            if best else "  no step passed")
    if result.get("first_bad_rate"):
        text += f" (first failing step: {result['first_bad_rate']:g})"
    if half:
        text += f"; at half of it ({half['offered']:g}/s) p99 = {_g(half, 'latency_ms', 'p99')} ms"
    cap = result.get("capacity")
    if cap:
        text += (f"\n  capacity, closed loop ({cap['in_flight']} in flight, {cap['seconds']} s): "
                 f"{cap['throughput']} msg/s, p50 {_g(cap, 'latency_ms', 'p50')} ms, "
                 f"p99 {_g(cap, 'latency_ms', 'p99')} ms, server CPU "
                 f"{'/'.join(map(str, cap['server_cpu']))}%, timeouts {cap['timeouts']}")
    return text


def _common_rates(ours: dict, bare: dict) -> list[str]:
    def by_rate(res: dict) -> dict[float, dict]:
        return {s["offered"]: s for s in res.get("steps", []) if s["ok"]}

    a, b = by_rate(ours), by_rate(bare)
    out = []
    for rate in sorted(set(a) & set(b)):
        pa, pb = _g(a[rate], "latency_ms", "p50"), _g(b[rate], "latency_ms", "p50")
        qa, qb = _g(a[rate], "latency_ms", "p99"), _g(b[rate], "latency_ms", "p99")
        out.append(f"    at {rate:g}/s: p50 {pa} vs {pb} ms (×{_ratio(pa, pb)}), "
                   f"p99 {qa} vs {qb} ms (×{_ratio(qa, qb)})")
    return out


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}"


def render(report: dict[str, Any]) -> str:
    out: list[str] = []
    m, v = report["machine"], report["versions"]
    out.append(f"Benchmark {report['date']}  ({report.get('git', {}).get('commit', '?')}"
               f"{' dirty' if report.get('git', {}).get('dirty') else ''})")
    out.append(f"  machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, "
               f"{m['platform']}")
    out.append(f"  machine CPU busy before the run: {m.get('busy_before_pct', '?')}% "
               f"(200% = both cores); load avg {m['loadavg'][0]:.2f} at start, "
               f"{m.get('loadavg_end', [0])[0]:.2f} at end; run took "
               f"{report.get('elapsed_seconds', '?')} s")
    out.append("  versions: " + ", ".join(f"{k} {val}" for k, val in v.items()))
    out.append(f"  our app: {report.get('app')}; server env: {report['server_env']}")
    res = report["scenarios"]

    if "live" in res and "steps" in res["live"]:
        out.append("\n1. Live messages, ours (1 daphne, "
                   f"{res['live']['config']['rooms']} rooms × 2 sockets, "
                   f"{res['live']['config']['body_bytes']} B, "
                   f"{res['live']['config']['step_seconds']} s steps)")
        out.append(ladder_table(res["live"]))
        out.append(_max_line(res["live"]))
    for name, label in (("core", "core layer"), ("pubsub", "pub/sub layer")):
        bare = _g(res, "baseline", name)
        if bare and "steps" in bare:
            out.append(f"\n2. Baseline: bare consumer, {label} (1 daphne, same rooms and load)")
            out.append(ladder_table(bare))
            out.append(_max_line(bare))
            ours = res.get("live", {})
            if ours.get("max_ok_rate") and bare.get("max_ok_rate"):
                out.append(f"  ours / bare {label}: max rate ×"
                           f"{ours['max_ok_rate'] / bare['max_ok_rate']:.2f}")
            if _g(ours, "capacity", "throughput") and _g(bare, "capacity", "throughput"):
                out.append(f"  ours / bare {label}: closed-loop capacity ×"
                           f"{ours['capacity']['throughput'] / bare['capacity']['throughput']:.2f}")
            out += _common_rates(ours, bare)
    if res.get("profile") and res["profile"].get("summary"):
        out.append(f"\nProfile of ours at {res['profile']['rate']:g} msg/s "
                   f"({res['profile']['raw']})")
        out.append(profile.format_summary(res["profile"]["summary"]))
    elif res.get("profile"):
        out.append(f"\nProfile: {res['profile']}")
    two = res.get("two")
    if two and "steps" in two:
        out.append("\n6. Two processes (each room's members on different daphne processes, "
                   "senders alternating, shared Redis)")
        out.append(ladder_table(two))
        out.append(_max_line(two))
        one = _g(res, "live", "max_ok_rate")
        if one and two.get("max_ok_rate"):
            out.append(f"  two processes / one: ×{two['max_ok_rate'] / one:.2f}")
    idle = res.get("idle")
    if idle and "opened" in idle:
        out.append(f"\n3. Idle connections ({idle['requested']} authenticated sockets, "
                   f"{idle['batch']} at a time, one daphne)")
        rows = [
            ["opened / failed", f"{idle['opened']} / {sum(idle['failed'].values())} "
                                f"{idle['failed'] or ''}"],
            ["open time (excl. tickets)", f"{idle['open_seconds'] - idle['ticket_seconds']:.1f} s "
                                          f"({idle['sockets_per_second']}/s); tickets "
                                          f"{idle['ticket_seconds']} s"],
            ["handshake ms p50/p95/p99/max", _pcts(idle["handshake_ms"])],
            ["ready (first pong) ms p50/p95/p99/max", _pcts(idle["ready_ms"])],
            ["server RSS before → open", f"{idle['rss_before_mib']} → {idle['rss_open_mib']} MiB"],
            ["RSS per socket", f"{idle['rss_per_socket_kib']} KiB"],
            ["room fan-out (2 members) ms p50/max",
             f"{_g(idle, 'room_fanout', 'all_members_ms', 'p50')} / "
             f"{_g(idle, 'room_fanout', 'all_members_ms', 'max')}"],
            ["request fan-out to user groups",
             f"{idle['user_fanout']['received']}/{idle['user_fanout']['sockets']} received; "
             f"POST {idle['user_fanout']['post_ms']} ms, first {idle['user_fanout']['first_ms']}"
             f" ms, p50 {idle['user_fanout']['p50_ms']} ms, last "
             f"{idle['user_fanout']['last_ms']} ms; 'over capacity' logged "
             f"{idle.get('over_capacity_logged', '?')}×"],
            ["close all at once", f"{idle['close_seconds']} s, codes {idle['close_codes']}"],
            ["stale in Redis after close",
             f"{idle['stale']['group_entries']} group entries, {idle['stale']['presence_keys']}"
             f" presence keys (clean after {idle['stale']['seconds_to_clean']} s)"],
            ["RSS after close", f"{idle['rss_after_close_mib']} MiB"],
        ]
        bare = idle.get("bare")
        if bare and "opened" in bare:
            rows += [
                ["bare consumer: opened / failed",
                 f"{bare['opened']} / {sum(bare['failed'].values())}"],
                ["bare consumer: handshake ms p50/p99", f"{_g(bare, 'handshake_ms', 'p50')} / "
                                                        f"{_g(bare, 'handshake_ms', 'p99')}"],
                ["bare consumer: RSS per socket",
                 f"{bare['rss_per_socket_kib']} KiB (ours ×"
                 f"{_ratio(idle['rss_per_socket_kib'], bare['rss_per_socket_kib'])})"],
            ]
        out.append(_table(["", ""], rows))
    cu = res.get("catchup")
    if cu and "ws_rejoin_ms" in cu:
        out.append(f"\n4. Catch-up of {cu['missed']} missed events (ms, 5 runs)")
        out.append(_table(["path", "p50", "max", "events"], [
            ["WS join with after (open socket)", _g(cu, "ws_rejoin_ms", "p50"),
             _g(cu, "ws_rejoin_ms", "max"), cu["ws_events"][0]],
            ["WS reconnect: ticket + handshake + join", _g(cu, "ws_reconnect_ms", "p50"),
             _g(cu, "ws_reconnect_ms", "max"), cu["ws_reconnect_events"][0]],
            [f"REST one page (limit={cu['missed']})", _g(cu, "rest_one_page_ms", "p50"),
             _g(cu, "rest_one_page_ms", "max"), cu["rest_one_page_events"][0]],
            ["REST pages of 100", _g(cu, "rest_pages_of_100_ms", "p50"),
             _g(cu, "rest_pages_of_100_ms", "max"), cu["rest_pages_of_100_events"][0]],
        ]))
    rest = res.get("rest")
    if rest and "endpoints" in rest:
        out.append(f"\n5. REST ({rest['concurrency']} concurrent clients, {rest['seconds']} s "
                   "each)")
        out.append(_table(["endpoint", "req/s", "p50 ms", "p95 ms", "p99 ms", "srv CPU%",
                           "statuses"], [
            [e["name"], e["rps"], _g(e, "latency_ms", "p50"), _g(e, "latency_ms", "p95"),
             _g(e, "latency_ms", "p99"), "/".join(map(str, e["server_cpu"])), e["statuses"]]
            for e in rest["endpoints"]]))
        sql = rest.get("sql", {})
        out.append("  SQL queries per request by page size: "
                   + "; ".join(f"{name}: " + ", ".join(
                       f"{row.get('page', row.get('body'))}→{row['queries']}" for row in rows)
                               for name, rows in sql.items()))
    up = res.get("uploads")
    if up and up.get("sizes"):
        out.append(f"\n7. Uploads ({up.get('server', 'daphne')}, peak RSS around each transfer, "
                   f"{up.get('runs')} run(s) per size; bench/upload_memory.py)")
        out.append(_table(["file MiB", "upload peak +MiB", "download peak +MiB",
                           "RSS before MiB", "peak MiB"],
                          [[r["size_mib"], r["upload_growth_mib"], r["download_growth_mib"],
                            r["rss_before_mib"], r["peak_mib"]] for r in up["sizes"]]))
    elif up:
        out.append("\n7. Uploads")
        out.append("  " + json.dumps(up)[:1000])
    for name, value in res.items():
        if isinstance(value, dict) and "error" in value:
            out.append(f"\n{name}: ERROR {value['error']}")
    out.append("\nTargets")
    out.append(_table(["target", "measured", "status", "note"],
                      [[t["target"], t["measured"], t["status"], t.get("note", "")]
                       for t in report["targets"]]))
    return "\n".join(out)


def _pcts(s: dict[str, Any]) -> str:
    return f"{s.get('p50')} / {s.get('p95')} / {s.get('p99')} / {s.get('max')}"


# --- targets ------------------------------------------------------------------------------


def _hotspots(report_scenarios: dict[str, Any]) -> str:
    summary = _g(report_scenarios, "profile", "summary")
    if not summary or not summary.get("threads"):
        return ""
    parts = []
    for entry in summary["threads"][:2]:
        name = entry["thread"].split(": ", 1)[-1]
        parts.append(f"{name}: " + ", ".join(
            f"{k} {v}%" for k, v in list(entry["wall_pct"].items())[:3]))
    return "profile (% of wall time): " + "; ".join(parts)


def targets(res: dict[str, Any], idle_target: int = 10_000) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    ours = _g(res, "live", "max_ok_rate")
    hot = _hotspots(res)

    def ratio_target(name: str, bare: float | None, factor: float) -> None:
        if ours is None or bare is None:
            out.append({"target": name, "measured": "-", "status": "not run"})
            return
        ratio = (ours or 0) / bare
        ok = ratio >= factor
        note = "" if ok else (f"missed by {100 * (1 - ratio / factor):.0f}%: ours {ours:g} "
                              f"msg/s, needs ≥ {factor * bare:g}. {hot}")
        out.append({"target": name, "measured": f"×{ratio:.2f} ({ours:g} vs {bare:g} msg/s)",
                    "status": "met" if ok else "MISSED", "note": note})

    ratio_target("live ≥ 1.0 × bare consumer, core layer", _g(res, "baseline", "core",
                                                               "max_ok_rate"), 1.0)
    ratio_target("live ≥ 0.7 × bare consumer, pub/sub layer",
                 _g(res, "baseline", "pubsub", "max_ok_rate"), 0.7)
    half = _g(res, "live", "half")
    if half:
        p99 = _g(half, "latency_ms", "p99")
        ok = p99 is not None and p99 < 50
        out.append({"target": "p99 < 50 ms at half of our max",
                    "measured": f"{p99} ms at {half['offered']:g}/s",
                    "status": "met" if ok else "MISSED",
                    "note": "" if ok else f"missed by {p99 - 50:.1f} ms"})
    idle = res.get("idle")
    if idle and "opened" in idle:
        n = idle["requested"]
        scale = "" if n >= idle_target else f" (measured at {n}; target is {idle_target:,})"
        per = idle["rss_per_socket_kib"]
        out.append({"target": "idle sockets ≤ 40 KiB each", "measured": f"{per} KiB{scale}",
                    "status": ("met" if per <= 40 else "MISSED") + ("" if not scale else "*"),
                    "note": "" if per <= 40 else f"over by {per - 40:.1f} KiB"})
        failed = sum(idle["failed"].values())
        out.append({"target": f"{idle_target:,} sockets, {idle['batch']} at a time, "
                              "no failed handshake",
                    "measured": f"{idle['opened']}/{n} opened{scale}",
                    "status": ("met" if failed == 0 else "MISSED") + ("" if not scale else "*"),
                    "note": "" if failed == 0 else f"{failed} failed: {idle['failed']}"})
        fan = idle["user_fanout"]
        missing = fan["sockets"] - fan["received"]
        dropped = idle.get("over_capacity_logged")
        out.append({"target": "one event reaches every idle socket",
                    "measured": f"{fan['received']}/{fan['sockets']} in {fan['last_ms']} ms",
                    "status": "met" if not missing else "MISSED",
                    "note": "" if not missing else (
                        f"{missing} never arrived; channels-redis logged 'over capacity' "
                        f"{dropped}× (a core layer's capacity)"
                        if dropped else f"{missing} never arrived")})
        stale = idle["stale"]
        out.append({"target": "closed all at once, nothing stale in Redis",
                    "measured": f"{stale['group_entries']} group entries, "
                                f"{stale['presence_keys']} presence keys",
                    "status": "met" if stale["clean"] else "MISSED",
                    "note": f"clean {stale['seconds_to_clean']} s after close"})
    cu = res.get("catchup")
    if cu and "ws_rejoin_ms" in cu:
        for label, key in (("WS", "ws_rejoin_ms"), ("WS reconnect", "ws_reconnect_ms"),
                           ("REST", "rest_one_page_ms")):
            p50 = _g(cu, key, "p50")
            ok = p50 is not None and p50 < 250
            out.append({"target": f"catch-up of {cu['missed']} events < 250 ms ({label})",
                        "measured": f"{p50} ms (p50)", "status": "met" if ok else "MISSED",
                        "note": "" if ok else f"over by {p50 - 250:.0f} ms"})
    sql = _g(res, "rest", "sql")
    if sql:
        for name in ("engagements", "events"):
            counts = [row["queries"] for row in sql.get(name, [])]
            pages = [row["page"] for row in sql.get(name, [])]
            ok = len(set(counts)) == 1
            out.append({"target": f"SQL per REST page constant ({name})",
                        "measured": f"pages {pages} → queries {counts}",
                        "status": "met" if ok else "MISSED"})
    two = res.get("two")
    if two and "steps" in two:
        best = two.get("max_ok_rate")
        lost_total = sum(s["lost"] for s in two["steps"])
        ratio = f"×{best / ours:.2f} of one process" if (ours and best) else "-"
        out.append({"target": "two processes: zero loss",
                    "measured": f"max {best} msg/s with zero loss; {ratio}",
                    "status": "met" if best else "MISSED",
                    "note": (f"{lost_total} lost in steps above the max" if lost_total
                             else "no message lost in any step")})
    up = res.get("uploads")
    if up is not None and "pending" in up:
        out.append({"target": "upload peak memory vs 25 MiB", "measured": "-",
                    "status": "pending", "note": up["pending"][:60]})
    elif up and up.get("sizes"):
        biggest = max(up["sizes"], key=lambda r: (r["size_mib"], r["upload_growth_mib"]))
        out.append({"target": "upload: server memory does not grow with the file",
                    "measured": f"+{biggest['upload_growth_mib']} MiB peak for a "
                                f"{biggest['size_mib']:g} MiB upload",
                    "status": "reported", "note": "no numeric target in the issue"})
    return out


def write(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
