#!/usr/bin/env python3
"""Run the ack-rs AWS emulator: moto's server with the fidelity rules in front of it.

    launcher.py --host 127.0.0.1 --port 0

Port 0 picks a free port. Once listening, prints exactly one line to stdout,
``ready http://HOST:PORT``, and nothing else there afterwards. SIGTERM / SIGINT stop it
with exit status 0. See README.md for the rules and the ``/_ackrs/`` control endpoints.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from types import FrameType

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from fidelity.middleware import FidelityMiddleware


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--log-requests", action="store_true", help="log each HTTP request to stderr"
    )
    return parser.parse_args(argv)


def build_server(host: str, port: int) -> BaseWSGIServer:
    # The same app `moto_server` runs, wrapped by the fidelity middleware.
    moto_app = DomainDispatcherApplication(create_backend_app)
    return make_server(
        host,
        port,
        FidelityMiddleware(moto_app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


def _stop(signum: int, frame: FrameType | None) -> None:
    # Raised in the main thread, which is inside serve_forever(): it unwinds from there.
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.log_requests:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

    server = build_server(args.host, args.port)
    host, port = server.server_address[:2]
    # moto builds some URLs from MOTO_PORT, as moto_server sets it.
    os.environ["MOTO_PORT"] = str(port)
    url_host = f"[{host}]" if ":" in host else host  # IPv6 literals go in brackets
    print(f"ready http://{url_host}:{port}", flush=True)
    # stdout carries only the ready line; moto's occasional print()s go to stderr.
    sys.stdout = sys.stderr
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
