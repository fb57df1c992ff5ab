"""Compiled templates kept on disk (houfu.present.templating): loaded when the template is as it was and the
environment compiles as it did, never otherwise, and never from a file someone else could have written. Each test
has its own cache folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jinja2
import pytest

from houfu.present.templating import keep_compiled


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOUFU_CACHE", str(tmp_path / "cache"))
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "t.j2").write_text("{% for x in xs %}[{{ x }}]{% endfor %}", encoding="utf-8")
    return tmp_path


def _environment(folder: Path, compiles: list[str] | None = None, **settings: Any) -> jinja2.Environment:
    """A fresh environment (a new process's), counting what it compiles."""
    env = keep_compiled(jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder / "tpl")), **settings))
    if compiles is not None:
        compile_ = env.compile

        def counted(source: str, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
            compiles.append(str(name))
            return compile_(source, name, *args, **kwargs)

        env.compile = counted  # type: ignore[method-assign]
    return env


def _kept(folder: Path) -> list[Path]:
    return sorted((folder / "cache" / "templates").glob("*/__jinja2_*.cache"))


def test_a_template_compiled_once_is_read_compiled_by_the_next_process(folder: Path) -> None:
    first: list[str] = []
    assert _environment(folder, first).get_template("t.j2").render(xs=[1, 2]) == "[1][2]"
    assert first == ["t.j2"] and len(_kept(folder)) == 1
    again: list[str] = []
    assert _environment(folder, again).get_template("t.j2").render(xs=[3]) == "[3]"
    assert again == []


def test_an_environment_that_escapes_html_never_takes_the_code_of_one_that_does_not(folder: Path) -> None:
    """jinja2 keys compiled code by the template alone; whether it escapes is compiled in (an HTML letter and a
    Markdown one from the same template), so each way of compiling keeps its own."""
    assert _environment(folder, autoescape=False).get_template("t.j2").render(xs=["<b>"]) == "[<b>]"
    assert _environment(folder, autoescape=True).get_template("t.j2").render(xs=["<b>"]) == "[&lt;b&gt;]"
    assert _environment(folder, autoescape=False).get_template("t.j2").render(xs=["<b>"]) == "[<b>]"
    assert len(_kept(folder)) == 2


def test_an_edited_template_is_compiled_again_and_the_edit_is_seen(folder: Path) -> None:
    _environment(folder).get_template("t.j2").render(xs=[])
    (folder / "tpl" / "t.j2").write_text("{{ xs | length }} item(s)", encoding="utf-8")
    compiles: list[str] = []
    assert _environment(folder, compiles).get_template("t.j2").render(xs=[1, 2]) == "2 item(s)"
    assert compiles == ["t.j2"]


@pytest.mark.parametrize("damage", ["others may write it", "corrupt", "empty", "broken after its header"])
def test_a_kept_file_that_cannot_be_trusted_or_read_is_compiled_again(folder: Path, damage: str) -> None:
    _environment(folder).get_template("t.j2").render(xs=[])
    [kept] = _kept(folder)
    if damage == "others may write it":
        os.chmod(kept, 0o666)
    elif damage == "broken after its header":  # jinja2 checks the header itself, and not what follows it
        from jinja2.bccache import bc_magic

        kept.write_bytes(bc_magic + b"\x80\x05not a pickle")
    else:
        kept.write_bytes(b"" if damage == "empty" else b"not marshalled code at all" * 10)
    compiles: list[str] = []
    assert _environment(folder, compiles).get_template("t.j2").render(xs=[7]) == "[7]"
    assert compiles == ["t.j2"]


def test_houfu_cache_off_keeps_no_compiled_template(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOUFU_CACHE", "off")
    env = _environment(folder)
    assert env.bytecode_cache is None and env.get_template("t.j2").render(xs=[1]) == "[1]"
    assert not (folder / "cache").exists()


def test_a_cache_folder_that_cannot_be_made_is_not_used(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "file").write_text("", encoding="utf-8")
    monkeypatch.setenv("HOUFU_CACHE", str(folder / "file" / "cache"))
    env = _environment(folder)
    assert env.bytecode_cache is None and env.get_template("t.j2").render(xs=[1]) == "[1]"


def test_the_cache_works_under_a_umask_that_lets_the_group_write(folder: Path) -> None:
    """``templates/`` is made private itself: made as a parent, it took the umask's mode (0775 under umask
    002), which the trust check then refused on every run, so nothing was ever kept."""
    old = os.umask(0o002)
    try:
        _environment(folder).get_template("t.j2").render(xs=[])
    finally:
        os.umask(old)
    assert len(_kept(folder)) == 1
    compiles: list[str] = []
    _environment(folder, compiles).get_template("t.j2").render(xs=[])
    assert compiles == []
