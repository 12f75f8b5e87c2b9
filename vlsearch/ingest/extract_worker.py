"""The child side of vlsearch.ingest.isolation: `python -m vlsearch.ingest.extract_worker IN OUT MB`.

Says "ready" on fd OUT once the extractors are imported, then reads (path, limits, OcrSpec | None)
pickles from fd IN and answers ("ok", Sniffed) | ("error", VlsearchError) | ("bug", traceback
text) on fd OUT, until IN closes; before OCR'ing n images it says ("ocr", n) (the parent extends
the file's time limit). One OCR engine per settings, loaded on first use, serves every file.
The address space is capped at MB MiB first, so an allocation bomb ends in MemoryError (or this
process dying), never in the host swapping.
"""

from __future__ import annotations

import sys
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from vlsearch.errors import ExtractionError, VlsearchError


def serve(recv: Connection, send: Connection, memory_mb: int) -> None:
    from vlsearch.ingest.isolation import sniff_and_extract
    from vlsearch.ingest.visual import VisualEnricher
    from vlsearch.media.ocr import OcrEngine, OcrSpec

    enrichers: dict[OcrSpec, VisualEnricher] = {}
    while True:
        try:
            path_str, limits, ocr = recv.recv()
        except EOFError:
            return
        enricher = None
        if ocr is not None:
            enricher = enrichers.get(ocr)
            if enricher is None:
                enricher = enrichers[ocr] = VisualEnricher(ocr=OcrEngine.from_spec(ocr))
        try:
            outcome: tuple[str, Any] = (
                "ok",
                sniff_and_extract(
                    Path(path_str),
                    limits=limits,
                    enricher=enricher,
                    on_images=lambda n: send.send(("ocr", n)),
                ),
            )
        except VlsearchError as exc:
            outcome = ("error", exc)
        except MemoryError:
            outcome = (
                "error",
                ExtractionError(
                    f"{Path(path_str).name}: reading this file needs more than the {memory_mb} MB "
                    "memory cap (VLSEARCH_EXTRACT_MEMORY_MB); it is pathological or very large"
                ),
            )
        except Exception:
            outcome = ("bug", traceback.format_exc(limit=20))
        try:
            send.send(outcome)
        except (OSError, EOFError):
            return
        except Exception:  # the result did not pickle: report that instead of dying silently
            send.send(("bug", traceback.format_exc(limit=5)))


def _die_with_parent() -> None:
    """Exit when the process that started us dies, even if a sibling still holds our pipe open
    (a SIGKILLed server otherwise left an idle worker behind). Linux only; elsewhere the pipe's EOF
    is the signal."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import os
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(0)


def main(argv: list[str]) -> None:
    in_fd, out_fd, memory_mb = int(argv[0]), int(argv[1]), int(argv[2])
    _die_with_parent()
    if memory_mb > 0:
        import resource

        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    # import the extractors now, so the first file does not pay for it inside its time limit
    import vlsearch.ingest.extractors
    import vlsearch.ingest.sniff  # noqa: F401

    send = Connection(out_fd, readable=False)
    send.send("ready")
    serve(Connection(in_fd, writable=False), send, memory_mb)


if __name__ == "__main__":
    main(sys.argv[1:])
