"""Run daphne and a django-q2 cluster together; Ctrl-C (or SIGTERM) stops both.

``python -m config.serve --host 127.0.0.1 --port 8000``. Each child runs in its own
session so a terminal's Ctrl-C reaches only this supervisor, which then signals each
child exactly once (django-q2's cluster does not like being told twice).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    args = parser.parse_args()

    children = [
        subprocess.Popen([sys.executable, "manage.py", "qcluster"], start_new_session=True),
        subprocess.Popen(
            [str(BIN / "daphne"), "-b", args.host, "-p", str(args.port),
             "config.asgi:application"],
            start_new_session=True,
        ),
    ]
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        print("\nStopping daphne and the task cluster…", flush=True)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    # If either child dies on its own, stop the other too.
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    stop(signal.SIGTERM, None)
    deadline = time.monotonic() + 20
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
