"""Forged requests (issue 23, §3): a page on another origin makes the browser of a logged-in caseworker post
to the JSON API as a ``text/plain`` fetch (which a browser sends without asking first); it is refused, in a real Chromium, and no decision
record is stored. The API reads only JSON (415), and a request from another site is refused (403)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

import houfu
from houfu.records.store import RecordStore, Users, default_url
from houfu.web.app import create_app
from tests.live_server import live_server

EX = Path(__file__).resolve().parent.parent / "examples"
BODY = yaml.safe_load((EX / "dingnan-household.yaml").read_text(encoding="utf-8"))
PASSWORD = "caseworker-password-1"


@pytest.fixture
def store(tmp_path):
    store = RecordStore(default_url(tmp_path / "data"))
    Users(store).add("cw1", PASSWORD, "caseworker")
    yield store
    store.close()


def _count(store: RecordStore) -> int:
    return len(store.list(limit=1000))


def _basic() -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"cw1:{PASSWORD}".encode()).decode()}


def test_the_api_reads_only_json_and_refuses_text_plain_with_415(store):
    app = create_app(houfu.load(), houfu.evaluator(), store, dev=False, secret="forgery")
    with TestClient(app, base_url="https://testserver") as c:
        r = c.post("/v1/check", content=json.dumps(BODY), headers={"Content-Type": "text/plain", **_basic()})
        assert r.status_code == 415 and r.json()["field"] == "Content-Type"
        assert c.post("/v1/check", json=BODY, headers=_basic()).status_code == 200
    assert _count(store) == 1


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                                     {"Sec-Fetch-Site": "same-site", "Origin": "https://other.testserver"},
                                     {"Origin": "null"}])
def test_a_request_from_another_site_is_refused_even_with_good_credentials(store, headers):
    app = create_app(houfu.load(), houfu.evaluator(), store, dev=False, secret="forgery")
    with TestClient(app, base_url="https://testserver") as c:
        r = c.post("/v1/check", json=BODY, headers={**_basic(), **headers})
    assert r.status_code == 403 and r.json()["field"] == "Origin"
    assert _count(store) == 0


def test_a_request_from_the_services_own_origin_goes_through(store):
    app = create_app(houfu.load(), houfu.evaluator(), store, dev=False, secret="forgery")
    with TestClient(app, base_url="https://testserver") as c:
        r = c.post("/v1/check", json=BODY, headers={**_basic(), "Origin": "https://testserver",
                                                      "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 200


ATTACK = """<!doctype html><html><body><script>
fetch("{target}/v1/check", {{method: "POST", mode: "no-cors", credentials: "include",
       headers: {{"Content-Type": "text/plain"}}, body: {body}}})
  .then(() => {{ document.title = "fetched"; }}, () => {{ document.title = "fetched"; }});
</script></body></html>"""


def test_a_text_plain_forgery_from_another_origin_is_refused_in_chromium(store, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    app = create_app(houfu.load(), houfu.evaluator(), store, dev=False, secret="forgery")
    with live_server(app) as base:
        # The attacker's page: the same host, another port (another origin, the same site: the strict
        # session cookie goes with the request).
        page = ATTACK.format(target=base, body=json.dumps(json.dumps(BODY)))
        evil = Starlette(routes=[Route("/", lambda request: HTMLResponse(page))])
        with live_server(evil) as evil_base:
            browser.get(f"{base}/login")
            browser.find_element(By.NAME, "name").send_keys("cw1")
            browser.find_element(By.NAME, "password").send_keys(PASSWORD)
            browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
            WebDriverWait(browser, 15).until(lambda d: "/login" not in d.current_url)
            # Logged in: the browser holds the session cookie; an honest decision from the page is kept.
            assert "cw1" in browser.page_source
            before = _count(store)
            browser.get(evil_base)
            WebDriverWait(browser, 15).until(lambda d: d.title == "fetched")
            time.sleep(0.5)
            assert _count(store) == before, "a forged request stored a decision record"


@pytest.fixture
def browser(chromium, tmp_path_factory):
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver_path = shutil.which("chromedriver")
    assert driver_path, "chromedriver is not installed; `make test` installs chromium-driver"
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-forgery')}"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()
