"""The running service under load: 200 checks from 20 concurrent clients, each answer equal to the sequential
one and every one recorded (issue 13, §4)."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

import houfu
from houfu.kb.loader import load_default
from houfu.records.store import RecordStore, default_url
from houfu.web.service import create_app
from tests.live_server import live_server

EX = Path(__file__).resolve().parent.parent / "examples"
NAMES = ["dingnan-household", "dingnan-elderly-couple", "dingnan-school-family", "dingnan-incubator-business",
         "shiyan-household", "walk-in", "dingnan-town-household"]


def _bodies() -> list[dict]:
    out = []
    for i in range(200):
        body = yaml.safe_load((EX / f"{NAMES[i % len(NAMES)]}.yaml").read_text(encoding="utf-8"))
        body["id"] = f"{body['id']}-{i:03d}"
        out.append(body)
    return out


def _post(base: str, body: dict) -> dict:
    req = urllib.request.Request(f"{base}/v1/check?as_of=2026-01-01", data=json.dumps(body).encode("utf-8"),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)


def test_two_hundred_checks_from_twenty_clients_equal_the_sequential_answers_and_are_all_recorded(tmp_path):
    store = RecordStore(default_url(tmp_path / "data"))
    ev = houfu.evaluator()
    bodies = _bodies()
    sequential = [ev.determine(load_default().models.household.model_validate(b), dt.date(2026, 1, 1)) for b in bodies]
    with live_server(create_app(houfu.load(), ev, store, dev=True)) as base, ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda b: _post(base, b), bodies))
    for got, want in zip(answers, sequential, strict=True):
        assert got["id"] == want.id
        assert [(d["measure_id"], d["status"], d["missing"]) for d in got["determinations"]] == [
            (d.measure_id, d.status.value, d.missing) for d in want.determinations]
    records = store.list(limit=1000)
    assert len(records) == 200 and {r.record_id for r in records} == {a["record_id"] for a in answers}
    store.close()
