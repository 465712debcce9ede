"""``python -m bench`` (``make bench``): start the real stack, run the scenarios, print the
table and write ``bench/results/latest.json``. See bench/README.md."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from bench import report
from bench.procs import machine_jiffies
from bench.scenarios import RESULTS, SCENARIOS, Run, profile_live
from bench.stack import bench_stack, resolve_services

ORDER = ["live", "baseline", "two", "idle", "catchup", "rest", "uploads"]


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--scenario", action="append", choices=ORDER,
                        help="run only these (repeatable); default: all")
    parser.add_argument("--quick", action="store_true",
                        help="the default sizes (each scenario within about a minute)")
    parser.add_argument("--full", action="store_true",
                        help="the sizes of the targets: 10 s steps, 10,000 idle sockets, "
                             "10 s REST runs")
    live = parser.add_argument_group("live messages (1, 2, 6)")
    live.add_argument("--rooms", type=int, default=50, help="rooms of 2 sockets")
    live.add_argument("--step-seconds", type=float, default=4)
    live.add_argument("--rates", type=_floats, default=None,
                      help="comma-separated offered rates (msg/s) instead of the ladder")
    live.add_argument("--start-rate", type=float, default=50)
    live.add_argument("--factor", type=float, default=1.5, help="ladder: next rate = rate × this")
    live.add_argument("--max-rate", type=float, default=20000)
    live.add_argument("--no-refine", action="store_true",
                      help="no extra step between the last good and the first bad rate")
    live.add_argument("--retries", type=int, default=1,
                      help="run a failed step again this many times before believing it "
                           "(the machine may be shared)")
    live.add_argument("--closed-loop-seconds", type=float, default=5,
                      help="after the ladder, capacity with one message in flight per sender "
                           "(0: skip)")
    live.add_argument("--p99-limit", type=float, default=100, help="ms")
    live.add_argument("--drain-seconds", type=float, default=3,
                      help="after a step, how long a message may take and not count as lost")
    live.add_argument("--body-bytes", type=int, default=64)
    live.add_argument("--baseline-layers", type=lambda s: s.split(","), default=["core", "pubsub"])
    prof = parser.add_argument_group("profile")
    prof.add_argument("--profile", action=argparse.BooleanOptionalAction, default=None,
                      help="py-spy our live path at its max rate (default: when it misses a "
                           "baseline target)")
    prof.add_argument("--profile-seconds", type=int, default=10)
    idle = parser.add_argument_group("idle connections (3)")
    idle.add_argument("--idle", type=int, default=1000, help="sockets")
    idle.add_argument("--idle-batch", type=int, default=200, help="opened at a time")
    idle.add_argument("--idle-baseline", action=argparse.BooleanOptionalAction, default=True,
                      help="also open as many sockets to the bare consumer, for comparison")
    other = parser.add_argument_group("catch-up (4), REST (5)")
    other.add_argument("--catchup-events", type=int, default=1000)
    other.add_argument("--rest-seconds", type=float, default=5)
    other.add_argument("--rest-concurrency", type=int, default=8)
    other.add_argument("--rest-pages", type=_ints, default=[1, 10, 50],
                       help="engagements per user for the SQL-per-page check")
    up = parser.add_argument_group("uploads (7)")
    up.add_argument("--upload-sizes", type=_floats, default=[1, 25], help="MiB")
    up.add_argument("--upload-runs", type=int, default=1)
    parser.add_argument("--app", default="config.asgi:application",
                        help="our ASGI application (e.g. bench.whatif:application to measure "
                             "a suggested change)")
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for every server (e.g. DB_CONN_MAX_AGE=60)")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="wait up to this long for the machine to be nearly idle "
                             "(others' work skews every figure)")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    if args.full:
        args.step_seconds = max(args.step_seconds, 10)
        args.idle = max(args.idle, 10_000)
        args.rest_seconds = max(args.rest_seconds, 10)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    chosen = [name for name in ORDER if not args.scenario or name in args.scenario]
    server_env = dict(item.split("=", 1) for item in args.server_env)
    database_url, redis_url = resolve_services()
    busy = _machine_busy(args.wait_quiet)
    if busy > 50:
        print(f"bench: warning: the machine is {busy:.0f}% busy before the run (of "
              f"{100 * (os.cpu_count() or 1)}%); figures will be low and noisy",
              file=sys.stderr)
    started = time.monotonic()
    result = {
        "date": report.now(),
        "machine": report.machine(),
        "versions": report.versions(redis_url, database_url),
        "git": report.git_state(),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "app": args.app,
        "server_env": {"DATABASE_URL": "PostgreSQL (fresh database)", "REDIS_URL": redis_url,
                       "WS_RATE_PER_SECOND": "1000000", "WS_RATE_BURST": "1000000",
                       "AUTH_THROTTLE_RATE": "off", **server_env},
        "scenarios": {},
    }
    scenarios = result["scenarios"]
    print(f"bench: {', '.join(chosen)} on {os.cpu_count()} cores", file=sys.stderr)
    with bench_stack(**server_env) as bench:
        run = Run(bench, args)
        for name in chosen:
            t0 = time.monotonic()
            print(f"\n== {name}", file=sys.stderr, flush=True)
            try:
                scenarios[name] = SCENARIOS[name](run)
            except Exception as exc:  # noqa: BLE001 (one scenario failing ends no run)
                traceback.print_exc()
                scenarios[name] = {"error": f"{type(exc).__name__}: {exc}"}
            if isinstance(scenarios[name], dict):
                scenarios[name]["elapsed_seconds"] = round(time.monotonic() - t0, 1)
            if name == ("baseline" if "baseline" in chosen else "live"):
                _maybe_profile(run, scenarios, args)
    result["machine"]["busy_before_pct"] = round(busy, 1)
    result["elapsed_seconds"] = round(time.monotonic() - started, 1)
    result["machine"]["loadavg_end"] = list(os.getloadavg())
    result["targets"] = report.targets(scenarios)
    report.write(result, args.output)
    text = report.render(result)
    args.output.with_suffix(".txt").write_text(text + "\n")
    print("\n" + text)
    print(f"\nwrote {args.output} ({result['elapsed_seconds']} s)")
    return 0


def _machine_busy(wait: float) -> float:
    """CPU in use on the whole machine (% of one core; 200 = two cores busy), sampled
    over 2 s; with ``wait``, sampled again until under 30% or the time is up."""
    deadline = time.monotonic() + wait
    while True:
        busy0, total0 = machine_jiffies()
        time.sleep(2)
        busy1, total1 = machine_jiffies()
        busy = 100 * (os.cpu_count() or 1) * (busy1 - busy0) / max(1, total1 - total0)
        if busy < 30 or time.monotonic() >= deadline:
            return busy
        print(f"bench: machine {busy:.0f}% busy, waiting", file=sys.stderr, flush=True)
        time.sleep(10)


def _maybe_profile(run: Run, scenarios: dict, args: argparse.Namespace) -> None:
    ours = scenarios.get("live", {}).get("max_ok_rate")
    core = scenarios.get("baseline", {}).get("core", {}).get("max_ok_rate")
    pubsub = scenarios.get("baseline", {}).get("pubsub", {}).get("max_ok_rate")
    behind = bool(ours and ((core and ours < core) or (pubsub and ours < 0.7 * pubsub)))
    if args.profile is False or (args.profile is None and not behind):
        return
    if "live" not in scenarios or "error" in scenarios["live"]:
        return
    rate = ours or args.start_rate
    print("\n== profile", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    try:
        scenarios["profile"] = profile_live(run, rate)
    except Exception as exc:  # noqa: BLE001
        traceback.print_exc()
        scenarios["profile"] = {"error": f"{type(exc).__name__}: {exc}"}
    scenarios["profile"]["elapsed_seconds"] = round(time.monotonic() - t0, 1)


if __name__ == "__main__":
    sys.exit(main())
