"""The load state every local model shares: UNLOADED → LOADING → READY, or FAILED with the reason.

A model owns one `ModelLifecycle` and does its loading inside `loading()` while holding `lock`; the
state and error it reports in `ModelInfo` come from here, so every model moves through the same
states the same way (a failed load says why and can be retried; unload returns to UNLOADED).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import ModelState


def describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class ModelLifecycle:
    def __init__(self) -> None:
        self.lock = threading.RLock()  # held by the model around load, unload and inference
        self._state = ModelState.UNLOADED
        self._error = ""

    @property
    def state(self) -> ModelState:
        return self._state

    @property
    def error(self) -> str:
        return self._error

    @contextmanager
    def loading(
        self, describe: Callable[[Exception], str] = describe_error, *, what: str = "", fix: str = ""
    ) -> Iterator[None]:
        """LOADING for the body; READY when it returns, FAILED (reason by `describe`) when it raises.

        With `what`, the failure goes on as ModelUnavailableError "<what> failed to load (<reason>);
        <fix>", chained to the original; without it the original goes on as it was."""
        with self.lock:
            self._state = ModelState.LOADING
            try:
                yield
            except Exception as exc:
                self._state, self._error = ModelState.FAILED, describe(exc)
                if what:
                    raise ModelUnavailableError(f"{what} failed to load ({self._error}); {fix}") from exc
                raise
            self._state, self._error = ModelState.READY, ""

    def mark_ready(self) -> None:
        """For a model handed weights that are already in memory (nothing to load)."""
        with self.lock:
            self._state, self._error = ModelState.READY, ""

    def mark_unloaded(self) -> None:
        with self.lock:
            self._state = ModelState.UNLOADED
