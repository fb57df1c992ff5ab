"""The guide for the next person stays true: the README's layout table against the tree, and the command
reference (docs/cli.md, the README's command table) against the click commands."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "houfu"
DATA_ROOMS = {"policies", "templates"}  # data, not modules: their rows name files as examples


def _layout_rows() -> dict[str, dict[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Layout\n"):]
    section = section[:section.index("\n## ", 1)]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| `") or len(cells) != 4:
            continue
        folder, link, name, holds = cells
        rows[folder.strip("`")] = {"link": link.strip("`"), "name": name.strip("`"), "holds": holds}
    return rows


def _ignored(name: str) -> bool:
    patterns = [p.strip().rstrip("/") for p in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
                if p.strip() and not p.startswith("#")]
    return name.startswith(".") or any(fnmatch.fnmatch(name, p) for p in patterns)


def test_every_room_of_the_package_has_a_row_and_every_row_a_folder():
    rows = _layout_rows()
    rooms = {f"houfu/{p.name}/" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    top = {f"{p.name}/" for p in ROOT.iterdir() if p.is_dir() and not p.is_symlink() and p.name != "houfu"
           and not _ignored(p.name)}
    assert set(rows) == rooms | top, f"missing: {sorted((rooms | top) - set(rows))}; not in the tree: " \
                                     f"{sorted(set(rows) - rooms - top)}"
    for folder, row in rows.items():
        expected = folder.rstrip("/").replace("/", ".") if folder.startswith("houfu/") else ""
        assert row["name"] == expected, (folder, row["name"])


def test_the_links_listed_are_the_top_level_links_into_their_rooms():
    rows = _layout_rows()
    listed = {row["link"]: folder for folder, row in rows.items() if row["link"]}
    links = {f"{p.name}/" for p in ROOT.iterdir() if p.is_symlink() and not _ignored(p.name)}
    assert set(listed) == links
    for link, folder in listed.items():
        assert (ROOT / link).resolve() == (ROOT / folder).resolve(), (link, folder)


def test_each_room_s_row_names_every_module_in_it_and_only_those():
    for folder, row in _layout_rows().items():
        room = ROOT / folder
        if not folder.startswith("houfu/") or room.name in DATA_ROOMS:
            continue
        modules = {p.name for p in room.glob("*.py") if p.name != "__init__.py"}
        packages = {f"{p.name}/" for p in room.iterdir() if (p / "__init__.py").is_file()}
        named = set(re.findall(r"`([\w]+\.py)`", row["holds"])) | set(re.findall(r"`([\w]+/)`", row["holds"]))
        assert modules | packages <= named, f"{folder}: not named: {sorted((modules | packages) - named)}"
        assert named <= modules | packages, f"{folder}: named, not there: {sorted(named - modules - packages)}"


def test_the_command_reference_is_what_the_commands_say_whatever_the_terminal():
    # `make lint` runs the same check; here it also runs with a narrow terminal, which must not matter.
    env = {**os.environ, "COLUMNS": "40"}
    got = subprocess.run([sys.executable, "-m", "cogapp", "--check", "docs/cli.md", "README.md"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, env=env)
    assert got.returncode == 0, got.stdout + got.stderr


def test_every_command_has_a_section_and_a_row():
    from houfu.cli.reference import commands

    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for ctx, cmd in commands():
        assert f"## `{ctx.command_path}`" in reference
        if not hasattr(cmd, "commands"):
            assert f"[`{ctx.command_path}`](docs/cli.md#{ctx.command_path.replace(' ', '-')})" in readme
