"""Every endpoint of the OpenAPI document fuzzed with schemathesis (issue 13, §4): valid and invalid requests
generated from the schema, and the check that matters to a calling system: never a 500, and every error is
JSON naming the field, the message and the status.

Twice: in --dev mode (every handler reached) and with a login required and none given (the 401s).
"""

from __future__ import annotations

import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

import houfu
from houfu.records.store import RecordStore
from houfu.web.service import create_app

# Built at import (schemathesis reads the schema when it parametrizes); removed when the test process ends, not
# left in the temporary folder as mkdtemp did (one a run).
_SCRATCH = tempfile.TemporaryDirectory(prefix="houfu-fuzz-")
_STORE = RecordStore(f"sqlite:///{_SCRATCH.name}/records.sqlite3")
_DEV = schemathesis.openapi.from_asgi("/openapi.json", create_app(houfu.load(), houfu.evaluator(), _STORE, dev=True))
_LOCKED = schemathesis.openapi.from_asgi("/openapi.json", create_app(houfu.load(), houfu.evaluator(), _STORE,
                                                                      dev=False, secret="fuzz"))


def _holds(response) -> None:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
    if response.status_code >= 400:
        kind = response.headers.get("content-type", [""])
        assert (kind[0] if isinstance(kind, list) else kind).startswith("application/json"), response.text[:300]
        body = response.json()
        assert set(body) >= {"error", "field", "status"} and body["status"] == response.status_code, body


@_DEV.parametrize()
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_request_makes_the_service_fail_and_every_error_is_json(case):
    _holds(case.call())


@_LOCKED.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_without_credentials_every_endpoint_but_health_refuses_in_json(case):
    response = case.call()
    _holds(response)
    if case.path != "/healthz":
        # 405: schemathesis also tries the methods a path does not take; 400: a multipart body that cannot be
        # parsed is refused before the login is looked at
        assert response.status_code in (400, 401, 405, 422), (response.status_code, case.method, case.path, response.text)


def test_the_fuzzing_covers_every_api_endpoint():
    paths = set(_DEV.raw_schema["paths"])
    assert {"/v1/check", "/v1/site", "/v1/explain", "/v1/owners", "/v1/duties/{department}",
            "/v1/measures/{measure_id}", "/v1/screen", "/v1/records/{record_id}", "/healthz"} <= paths
    assert not any(p.startswith(("/records", "/households", "/login")) for p in paths)  # pages stay out


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
