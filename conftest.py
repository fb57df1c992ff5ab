"""Repository-specific test setup: which tests ran against real servers.

The rule tests written as data (policies/<doc>/tests/*.yaml) are collected by houfu's pytest plugin,
``houfu.authoring.pytest_plugin``, installed with houfu as a ``pytest11`` entry point (a county's own policy
folder runs its cases with plain ``pytest``). It is named here too, so a checkout whose editable install predates
the entry point still collects them; the entry point has the module's name, so the plugin registers once.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest_plugins = ["houfu.authoring.pytest_plugin"]


# --- the longest files first -------------------------------------------------------------------------------
# `make test` runs the files on two workers, a whole file each (--dist loadfile), in the order collected
# (--no-loadscope-reorder: xdist's default order is by count of tests, which put the differential tests, few and
# long, last, and the run ended with one worker on them while the other was idle, 15.5 minutes in all). So the
# files that take longest start first (their durations in `pytest --durations`, 2026-12-03: 340, 280, 110, 60
# and 60 s); the rest keep their order.
LONGEST_FIRST = ("test_differential.py", "test_vector.py", "test_three_valued.py", "test_screen_report.py",
                 "test_browser.py")


def pytest_collection_modifyitems(items: list[Any]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file's tests keep their order


# --- which tests ran against real servers ----------------------------------------------------------------
# A test that used PostgreSQL or Chromium says so in its report (user_properties travel from pytest-xdist's
# workers to the controller); the run ends with a line per server, so nothing is skipped in silence.
# `make test` sets HOUFU_REAL_SERVERS (scripts/with-test-servers.sh), and then a server no test passed on fails
# the run.

REAL_SERVER_FIXTURES = {"PostgreSQL": {"postgres_url"}, "Chromium": {"chromium"}}
_real_runs: dict[str, dict[str, int]] = {name: {} for name in REAL_SERVER_FIXTURES}
_outcomes: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _record_real_servers(request: Any) -> Any:
    yield
    used = set(request.fixturenames)  # includes fixtures a test asked for by name at run time
    for server, fixtures in REAL_SERVER_FIXTURES.items():
        if used & fixtures:
            request.node.user_properties.append(("real_server", server))


def pytest_runtest_logreport(report: Any) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _outcomes[report.nodeid] = report.outcome
    if report.when == "teardown":
        for key, server in report.user_properties:
            if key == "real_server":
                outcome = _outcomes.get(report.nodeid, "error")
                counts = _real_runs[server]
                counts[outcome] = counts.get(outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    import os

    if hasattr(config, "workerinput"):
        return
    # HOUFU_REAL_SERVERS: "PostgreSQL=15.18 on 127.0.0.1:41234;Chromium=156.0 headless"
    described = dict(part.partition("=")[::2] for part in (os.environ.get("HOUFU_REAL_SERVERS") or "").split(";"))
    terminalreporter.section("real servers")
    for server in REAL_SERVER_FIXTURES:
        counts = _real_runs[server]
        what = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "no test ran"
        terminalreporter.write_line(f"{server}: {what}" + (f" ({described[server]})" if described.get(server) else ""))


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    import os

    if hasattr(session.config, "workerinput") or not os.environ.get("HOUFU_REAL_SERVERS"):
        return
    whole = session.config.args_source is pytest.Config.ArgsSource.TESTPATHS
    if not whole or session.config.option.keyword or session.config.option.markexpr or exitstatus != 0:
        return  # a selection, or already failing: the summary lines say what ran
    idle = [s for s in REAL_SERVER_FIXTURES if not _real_runs[s].get("passed")]
    if idle:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nno test passed against {', '.join(idle)}: the real-server tests did not run", flush=True)
    skipped = sorted(n for n, outcome in _outcomes.items() if outcome == "skipped")
    if skipped:  # a full run skips nothing: a skip would hide a part that did not run
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\n{len(skipped)} test(s) skipped in a full run: {', '.join(skipped[:5])}", flush=True)
