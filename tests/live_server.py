"""A real uvicorn server in a thread, on a free port of 127.0.0.1, for the tests that need HTTP and a browser."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(app: Any, config: Callable[[int], Any] | None = None) -> Iterator[str]:
    """``config``: the uvicorn.Config for a port, where a test needs the service's own (else a plain one)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(config(port) if config else
                            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
