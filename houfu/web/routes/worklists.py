"""The supervisor's worklist pages (政策找人, issue 24): where each department stands on a screen run's worklists
(open, confirmed, done, returned, needing information, overdue), the upload that takes filled worklists back (the
library call of ``houfu worklist import``, each refused row shown with its reason in the page's language), and the
动态清零 tracker. Supervisors only; a stranger is sent to /login, a caseworker told no."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from houfu.screen.worklists import (
    ImportResult,
    WorklistError,
    import_worklists,
    kept_clock,
    track_list,
    worklist_status,
)

from ..deps import WORKLIST_UPLOAD, CsrfChecked, Lang, ServiceDep, SupervisorPage, supervisor_page
from ..errors import BadRequest

router = APIRouter(include_in_schema=False, dependencies=[Depends(supervisor_page)])

#: Runs offered on the status page (the latest first).
RUNS_SHOWN = 24
#: Households the tracker page lists (all are counted).
TRACKED_SHOWN = 500
_NAME_BAD = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def _status(request: Request, service: ServiceDep, screen: str | None, as_of: dt.date | None, lang: Lang,
            **ctx: Any) -> HTMLResponse:
    store = service.store
    day = as_of or dt.date.today()
    runs = [r for r in (store.screen(i) for i in store.worklist_screens()[:RUNS_SHOWN]) if r is not None]
    if screen is not None and screen not in {r.screen_id for r in runs} and store.screen(screen) is None:
        screen = None
    shown, departments = worklist_status(service.kb, store, day, screen, None, lang)
    return service.pages.render("service_worklists.html.j2", lang, request, runs=runs, shown=shown,
                                departments=departments, as_of=day, **{"result": None, "errors": [], **ctx})


@router.get("/worklists", response_class=HTMLResponse)
def worklists_page(request: Request, service: ServiceDep, screen: str = Query("", max_length=32),
                   as_of: dt.date | None = None, lang: Lang = "zh") -> HTMLResponse:
    return _status(request, service, screen or None, as_of, lang)


@router.post("/worklists/import", response_class=HTMLResponse)
async def import_page(request: Request, user: SupervisorPage, _: CsrfChecked, service: ServiceDep,
                      files: list[UploadFile] = File(...), lang: Lang = Form("zh")) -> HTMLResponse:
    folder = Path(tempfile.mkdtemp(prefix="houfu-import-"))
    got, errors = ImportResult(), []
    try:
        size = 0
        for i, upload in enumerate(files):
            name = _NAME_BAD.sub("_", Path(upload.filename or "worklist.xlsx").name)[:120] or "worklist.xlsx"
            path = folder / str(i) / name
            path.parent.mkdir()
            with path.open("wb") as fh:
                while chunk := await upload.read(1 << 20):
                    size += len(chunk)
                    if size > WORKLIST_UPLOAD:
                        raise BadRequest("files", f"more than {WORKLIST_UPLOAD:,} bytes; send fewer files at once",
                                         413)
                    fh.write(chunk)
            # One file at a time: a file that is not a worklist is named, and the others are still read.
            try:
                one = await run_in_threadpool(import_worklists, service.store, [path], user.name, dt.date.today())
            except WorklistError as exc:
                errors.append(re.sub(re.escape(str(folder)) + r"/\d+/", "", str(exc)))
                continue
            got.added += one.added
            got.already += one.already
            got.unanswered += one.unanswered
            got.refused += one.refused
            got.files += [name]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _status(request, service, None, None, lang, result=got, errors=errors)


@router.get("/tracker", response_class=HTMLResponse)
def tracker_page(request: Request, service: ServiceDep, as_of: dt.date | None = None,
                 list_id: str = Query("zero_employment", alias="list", max_length=80),
                 lang: Lang = "zh") -> HTMLResponse:
    day = as_of or dt.date.today()
    store = service.store
    tracker = track_list(service.kb, store, day, kept_clock(store, list_id, day), list_id, lang, TRACKED_SHOWN)
    return service.pages.render("service_tracker.html.j2", lang, request, tracker=tracker, as_of=day,
                                list_id=list_id)
