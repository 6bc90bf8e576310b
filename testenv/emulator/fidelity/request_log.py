"""The list of every AWS request served, for tests ("no rejected call") and benchmarks."""

from __future__ import annotations

import threading
import time
from typing import Any

from .operations import Operation


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def record(
        self, operation: Operation, status: int, error_code: str | None, fault: str | None = None
    ) -> None:
        entry = {
            "service": operation.service,
            "operation": operation.name,
            "status": status,
            "error_code": error_code,
            "resource": operation.resource,
            # Set when the answer was an injected fault (see faults.py); 0 status = dropped.
            "fault": fault,
            "time": time.time(),
        }
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
