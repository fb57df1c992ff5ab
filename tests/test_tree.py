"""One tree that every tool sees once (issue 21, item 4).

Every module lives under houfu/. The design card's top-level kb/, engine/, policies/ and templates/ are links
into it, so: a clone without symlinks (Git for Windows' default writes each link as a small file holding its
target) still builds and installs; ``import kb`` from the root is refused rather than loading a second copy;
and the package's modules each have one name.
"""

from __future__ import annotations

import os
import pkgutil
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import houfu

ROOT = Path(__file__).resolve().parent.parent
LINKS = ("kb", "engine", "policies", "templates")


def test_the_top_level_folders_are_links_into_the_one_tree() -> None:
    for name in LINKS:
        top = ROOT / name
        assert top.is_symlink(), f"{name}/ should be a link into houfu/"
        assert top.resolve() == (ROOT / "houfu" / name).resolve()
    assert not (ROOT / "app").exists(), "the application layer lives in houfu/'s rooms"


@pytest.mark.parametrize("name", LINKS)
def test_importing_a_top_level_folder_under_its_short_name_is_refused_in_one_line(name: str) -> None:
    got = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert got.returncode != 0
    last = got.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError:") and f"import houfu.{name}" in last


def test_deciding_a_household_from_the_root_uses_one_copy_of_every_module() -> None:
    """The failure the issue found: a KB loaded through ``kb`` and an evaluator through ``houfu`` disagreed on
    their classes (AssertionError … AnyMember). Now the short name is refused, and one tree decides."""
    script = ("import sys, yaml, houfu\n"
              "r = houfu.check(yaml.safe_load(open('examples/dingnan-household.yaml', encoding='utf-8')))\n"
              "assert r.determinations\n"
              "mine = [m for m, mod in sys.modules.items() if getattr(mod, '__file__', None) and "
              "str(mod.__file__).startswith(sys.argv[1]) and not str(mod.__file__).startswith(sys.prefix)]\n"
              # a document's calculators.py is loaded by path, under a name of its own (houfu_policies_<doc>_<hash>)
              "assert all(m == 'houfu' or m.startswith(('houfu.', 'houfu_policies_')) for m in mine), mine\n"
              "print(len(mine))\n")
    got = subprocess.run([sys.executable, "-c", script, str(ROOT)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert got.returncode == 0, got.stderr
    assert int(got.stdout) >= 10  # the core was loaded from this tree, under houfu


def test_houfu_check_imports_no_pandas_matplotlib_fastapi_pyarrow_numpy_or_durable_rules() -> None:
    """A cold `houfu check FILE` pays only for what it uses (issue 25): the heavy libraries of the screener's
    report, the service and Dask stay unimported, and so do numpy (the column calculators) and durable-rules (the
    default engine is the compiled closures)."""
    script = ("import sys, runpy\n"
              "sys.argv = ['houfu', 'check', 'examples/dingnan-household.yaml', '--json']\n"
              "try:\n    runpy.run_module('houfu', run_name='__main__')\n"
              "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
              "heavy = ('pandas', 'matplotlib', 'fastapi', 'pyarrow', 'dask', 'openpyxl', 'numpy', 'durable', "
              "'sqlalchemy')\n"
              "print('heavy=' + ','.join(m for m in heavy if m in sys.modules), file=sys.stderr)\n")
    got = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stderr
    assert '"determinations"' in got.stdout  # it did decide the household
    assert got.stderr.strip().splitlines()[-1] == "heavy=", got.stderr


def test_every_module_of_the_package_has_one_file_and_one_name() -> None:
    files: dict[Path, str] = {}
    for info in pkgutil.walk_packages(houfu.__path__, "houfu."):
        spec = info.module_finder.find_spec(info.name, None)  # type: ignore[call-arg]
        assert spec is not None and spec.origin is not None
        path = Path(spec.origin).resolve()
        assert path.is_relative_to((ROOT / "houfu").resolve()), (info.name, path)
        assert path not in files, f"{path} is both {files[path]} and {info.name}"
        files[path] = info.name
    assert {"houfu.kb.loader", "houfu.engine.evaluator", "houfu.io.reader", "houfu.present.letters",
            "houfu.screen.screener", "houfu.records.store", "houfu.authoring.scaffold", "houfu.web.service",
            "houfu.cli.commands"} <= set(files.values())


def _copy_without_links(dest: Path) -> None:
    """The tracked files as a clone with ``core.symlinks=false`` writes them: a link becomes a file holding
    its target."""
    listed = subprocess.run(["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True, check=True)
    for line in listed.stdout.splitlines():
        meta, path = line.split("\t", 1)
        mode = meta.split()[0]
        src, out = ROOT / path, dest / path
        out.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":
            out.write_text(os.readlink(src), encoding="utf-8")
        elif src.is_file():
            shutil.copyfile(src, out)


def test_a_clone_without_symlinks_builds_a_wheel_that_installs_and_runs(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.fail("the tree test needs git and a checkout (git ls-files)")
    clone = tmp_path / "clone"
    _copy_without_links(clone)
    assert (clone / "kb").is_file() and (clone / "kb").read_text(encoding="utf-8") == "houfu/kb"
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels),
                            str(clone)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = wheels.glob("houfu-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"houfu/kb/loader.py", "houfu/engine/evaluator.py", "houfu/cli/commands.py",
            "houfu/records/migrations/env.py", "houfu/policies/bodies.yaml",
            "houfu/templates/household.md.j2"} <= names
    assert not any(n.split("/")[0] in ("kb", "engine", "app", "policies", "templates") for n in names)
    target = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target",
                                str(target), str(wheel)], capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr[-2000:]
    # Run from outside any checkout, with the installed copy first on the path.
    env = {**os.environ, "PYTHONPATH": str(target)}
    ran = subprocess.run([sys.executable, "-m", "houfu", "kb", "validate"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout[-1000:] + ran.stderr[-1000:]
    where = subprocess.run([sys.executable, "-c", "import houfu; print(houfu.__file__)"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60)
    assert Path(where.stdout.strip()).is_relative_to(target)


def test_the_web_room_pulls_in_no_terminal_library() -> None:
    """A web process built from houfu.web (the app, every route, a check answered) never imports click."""
    script = ("import sys\n"
              "from houfu.web.service import create_app\n"
              "from houfu.records.store import RecordStore\n"
              "import houfu\n"
              "app = create_app(houfu.load(), houfu.evaluator(), RecordStore(sys.argv[1]), dev=True)\n"
              "from fastapi.testclient import TestClient\n"
              "assert TestClient(app).get('/healthz').status_code == 200\n"
              "print(len(app.routes), 'click' in sys.modules, 'rich' in sys.modules)\n")
    got = subprocess.run([sys.executable, "-c", script, "sqlite://"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert got.returncode == 0, got.stderr[-2000:]
    routes, click, _rich = got.stdout.split()
    assert int(routes) > 10 and click == "False"
