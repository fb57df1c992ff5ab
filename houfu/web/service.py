"""``houfu serve``: the JSON API and the caseworker's pages, each route one call into the library.

Every determination made here is kept as a decision record (``houfu.records``) and answered with its
``record_id``. Request bodies go through the same hardened reader and strict parser as the CLI, so a bad
body gets the same one-line, field-named error, as JSON. Pages are server-rendered jinja2 in zh (``?lang=en``
for English) and work without JavaScript.

Access: users log in (``houfu users add``); a caseworker creates and reads households, a supervisor also sees
sites and every record. Passwords are argon2 hashes; the session is a signed cookie (HttpOnly, Secure,
SameSite=Strict) and every form carries a CSRF token. The API also takes HTTP Basic credentials, for another
system. In ``--dev`` mode nobody logs in, and every page says so.

The app is built by ``houfu.web.app.create_app`` (re-exported here) from the routers in ``houfu.web.routes``;
this module runs it.
"""

from __future__ import annotations

from pathlib import Path

from houfu.engine.evaluator import Evaluator
from houfu.kb.loader import KB
from houfu.records.store import RecordStore

from .app import create_app

__all__ = ["create_app", "serve", "session_secret"]


def serve(kb: KB, evaluator: Evaluator, store: RecordStore, host: str, port: int, dev: bool,
          secret: str | None = None) -> None:
    """Run the service with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(kb, evaluator, store, dev, secret), host=host, port=port, log_level="warning")


def session_secret(data_dir: Path | None) -> str:
    """The key that signs session cookies: $HOUFU_SECRET, else a file made once in the data directory (0600)."""
    import os
    import secrets

    if os.environ.get("HOUFU_SECRET"):
        return os.environ["HOUFU_SECRET"]
    folder = data_dir or Path(os.environ.get("HOUFU_DATA_DIR", "houfu-data"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "session.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()
