"""One emulator (launcher.py on a free port) for the whole test session, and its clients."""

from __future__ import annotations

import pytest

from support import Emulator, launch_emulator, stop_emulator


@pytest.fixture(scope="session")
def emulator():
    launched = launch_emulator()
    try:
        yield Emulator(launched)
    finally:
        stop_emulator(launched)


@pytest.fixture(scope="session")
def s3(emulator):
    return emulator.client("s3")


@pytest.fixture(scope="session")
def sqs(emulator):
    return emulator.client("sqs")


@pytest.fixture(scope="session")
def sns(emulator):
    return emulator.client("sns")


@pytest.fixture(scope="session")
def dynamodb(emulator):
    return emulator.client("dynamodb")


@pytest.fixture(scope="session")
def cloudformation(emulator):
    return emulator.client("cloudformation")
