"""launcher.py's contract with whoever starts it (the Rust test harness, these tests)."""

from __future__ import annotations

import signal
import urllib.request

import pytest

from support import READY_LINE, launch_emulator, stop_emulator


def test_ready_line_names_the_listening_address(emulator):
    assert READY_LINE.match(emulator.launched.ready_line)
    assert emulator.launched.port != 0
    with urllib.request.urlopen(f"{emulator.url}/_ackrs/health", timeout=5) as answer:
        assert answer.status == 200


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_the_emulator_cleanly(stop_signal):
    launched = launch_emulator()
    try:
        launched.process.send_signal(stop_signal)
        assert launched.process.wait(timeout=10) == 0
        # Nothing but the ready line ever goes to stdout.
        assert launched.process.stdout.read() == ""
    finally:
        stop_emulator(launched)
