"""POST /v1/screen and GET /v1/screens: screen an uploaded caseload (its summary is the one ``houfu screen
--json`` writes, a ``ScreenSummary``), and the caseloads screened so far. Supervisors."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from houfu.engine.evaluator import HOUFU_VERSION
from houfu.records.store import ScreenRecord
from houfu.screen.summary import ScreenSummary

from ..deps import MAX_BODY, MAX_UPLOAD, Lang, ServiceDep, StoreDep, SupervisorUser
from ..errors import BadRequest

router = APIRouter(prefix="/v1", tags=["caseloads"])


@router.post("/screen", summary="Screen an uploaded caseload (CSV in UTF-8 or GBK, XLSX, Parquet or JSON Lines); "
                                "the format is read from the content, never the file name",
             response_model=ScreenSummary, response_model_exclude_none=False)
async def screen(request: Request, user: SupervisorUser, service: ServiceDep,
                 caseload: UploadFile = File(...), members: UploadFile | None = File(None),
                 businesses: UploadFile | None = File(None),
                 columns: UploadFile | None = File(None, description="a county's column mapping (YAML), as "
                                                                      "houfu screen --columns reads"),
                 clocks: UploadFile | None = File(None, description="a county's own deadlines (YAML, saying whose "
                                                                     "rule it is), as houfu screen --clocks reads"),
                 sites: bool = False,
                 as_of: dt.date | None = None,
                 encoding: str | None = Query(None, max_length=40, description="the CSV files' text encoding "
                                                                             "(default: detected)"),
                 jurisdiction: str | None = Query(None, max_length=100,
                                                  description="the county of rows whose own columns do not "
                                                              "say (an id, a name or a division code)"),
                 lang: Lang = Query("zh", description="the language of the labels, notes and errors"),
                 determinations: str | None = Query(None, pattern="^(csv|parquet|jsonl|xlsx)$",
                                                    description="answer with the determinations file, "
                                                                "one row per (household, measure); when no "
                                                                "household is screened (every row rejected) "
                                                                "there is none, and the summary is answered"),
                 worklists: bool = Query(False, description="answer with a zip: each responsible department's "
                                                            "worklist (XLSX, one per department, as houfu screen "
                                                            "--worklists writes), summary.json and the "
                                                            "determinations file if asked; the run and the rows "
                                                            "sent are kept for the supervisor's import")) -> Any:
    # The screener and its readers load on the first caseload, not with the service.
    from houfu.io.tables import TableError
    from houfu.screen.run import screen_files
    from houfu.screen.summary import summarize

    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_UPLOAD:
        raise BadRequest("-", f"{int(length):,} bytes; at most {MAX_UPLOAD:,} are accepted", 413)
    kb = service.kb
    # The upload's folder is removed whatever happens: here, unless the determinations file is answered (then
    # once it has been sent).
    folder = Path(tempfile.mkdtemp(prefix="houfu-screen-"))
    handed_over = False
    try:
        try:
            paths, files = {}, []
            for name, upload in (("caseload", caseload), ("members", members), ("businesses", businesses)):
                if upload is not None:
                    paths[name], info = await _save_upload(upload, folder, name)
                    files.append(info)
            mapping = await _save_mapping(columns, folder) if columns is not None else None
            timing = await _save_mapping(clocks, folder, "clocks") if clocks is not None else None
            if worklists and sites:
                raise BadRequest("worklists", "worklists are of households; a table of sites has none")
            out = folder / f"determinations.{determinations or 'parquet'}" if determinations else None
            # Screening takes seconds for a large caseload: off the event loop, so other requests go on.
            run = await run_in_threadpool(
                screen_files, kb, service.evaluator, paths["caseload"], paths.get("members"),
                paths.get("businesses"), encoding, "site" if sites else "household", as_of or dt.date.today(), out,
                None, folder / "errors.csv", lang, None, 1, mapping, jurisdiction,
                worklists=folder / "worklists" if worklists else None, clocks=timing,
                store=service.store if worklists else None, user=user.name,
                long=True)  # one file answers: the long form carries its owners on every row
        except TableError as exc:
            # "<folder>/members.csv: 年龄: reason" -> field "members" (or "members.年龄"): no server path leaks;
            # a limit refused before the work is 413, anything else the file cannot be read as is 422.
            file, _, rest = str(exc).replace(f"{folder}/", "").partition(": ")
            field, _, message = rest.partition(": ")
            where = (file.removeprefix("--") if file.startswith("--") else Path(file.split(" [")[0]).stem) + \
                ("" if field in ("-", "") else f".{field}")
            raise BadRequest(where, message or rest, exc.status) from None
        except OSError as exc:  # a full disk, say: named, not a traceback, and nothing left behind
            raise BadRequest("caseload", f"could not be stored: {exc.strerror or type(exc).__name__}", 507) from None
        t = run.totals
        # The CLI's summary (houfu screen --json), naming no server file. The screen's record keeps its counts,
        # not the households listed (their ids and names stay with the answer).
        summary = summarize(kb, run, lang, files=False, folder=str(folder))
        kept = summary.model_dump(mode="json", exclude={
            "lists": {"__all__": {"confirmed": {"households"}, "to_check": {"households"}}},
            "data_requests": {"__all__": {"listed"}}, "training": {"listed"}, "subsidies": {"listed"}})
        if run.screen_id is not None:
            screen_id = run.screen_id  # the run with its worklists, kept as houfu screen --worklists keeps it
        else:
            with service.lock:
                screen_id = service.store.add_screen(user.name, t.as_of, t.kb_version, HOUFU_VERSION, files,
                                                     t.rows_in, t.screened, t.rejected, kept)
        answer = summary.model_copy(update={"screen_id": screen_id})
        if out is not None and run.output is None:
            out = None  # no household screened, so no determinations were written: the summary says why
        headers = {"X-Houfu-Rows-In": str(t.rows_in), "X-Houfu-Screened": str(t.screened),
                   "X-Houfu-Rejected": str(t.rejected), "X-Houfu-Kb-Version": t.kb_version,
                   "X-Houfu-Screen-Id": str(screen_id)}
        if worklists:
            bundle = await run_in_threadpool(_zip, folder, run.worklists, out, answer)
            handed_over = True
            return FileResponse(bundle, filename=bundle.name, media_type="application/zip",
                                background=BackgroundTask(_remove, folder), headers=headers)
        if out is not None:
            handed_over = True
            return FileResponse(out, filename=out.name, background=BackgroundTask(_remove, folder), headers=headers)
        return answer
    finally:
        if not handed_over:
            _remove(folder)


@router.get("/screens", response_model=list[ScreenRecord],
            summary="The caseloads screened through the service, newest first (supervisors)")
def screens(user: SupervisorUser, store: StoreDep, limit: int = Query(20, ge=1, le=1000)) -> list[ScreenRecord]:
    return store.screens(limit)


async def _save_upload(upload: UploadFile, folder: Path, name: str) -> tuple[Path, dict[str, Any]]:
    """Write an uploaded file under a name its content chooses (never the name it came with), within the
    limit; with what the screen record keeps of it (its role, format, size and sha256)."""
    from houfu.io.tables import TableError, sniff_format

    head = await upload.read(4096)
    try:
        suffix = sniff_format(head)
    except TableError as exc:
        raise BadRequest(name, str(exc).removeprefix("-: ")) from None
    path = folder / f"{name}{suffix}"
    size, digest = len(head), hashlib.sha256(head)
    with path.open("wb") as fh:
        fh.write(head)
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > MAX_UPLOAD:
                raise BadRequest(name, f"more than {MAX_UPLOAD:,} bytes; split the caseload", 413)
            digest.update(chunk)
            fh.write(chunk)
    return path, {"role": name, "format": suffix.lstrip("."), "bytes": size, "sha256": digest.hexdigest(),
                  "name_given": (upload.filename or "")[:200]}


async def _save_mapping(upload: UploadFile, folder: Path, name: str = "columns") -> Path:
    """A column mapping (or a clocks file) uploaded beside the caseload: YAML of at most the request body limit."""
    data = await upload.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise BadRequest(name, f"more than {MAX_BODY:,} bytes; a {name} file is a short YAML file", 413)
    path = folder / f"{name}.yaml"
    path.write_bytes(data)
    return path


def _zip(folder: Path, worklists: dict[str, str], determinations: Path | None, summary: ScreenSummary) -> Path:
    """The answer of ``?worklists=1``: each department's workbook under worklists/, summary.json, and the
    determinations file if asked."""
    import zipfile

    path = folder / f"worklists-{summary.screen_id}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for book in sorted(worklists.values()):
            z.write(book, f"worklists/{Path(book).name}")
        if determinations is not None:
            z.write(determinations, determinations.name)
        z.writestr("summary.json", summary.model_dump_json(indent=1))
    return path


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
