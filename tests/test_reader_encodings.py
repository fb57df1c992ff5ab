"""The reader's encodings on real text (issues 20 and 27): every GB2312 hanzi in a GBK export is read as GBK, never
judged CESU-8 or broken UTF-8; a file that mixes encodings is refused naming the line."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest

from houfu.io.reader import LIMITS, ReadError, decode, read_bytes


def _gb2312_hanzi() -> list[str]:
    out = []
    for hi in range(0xB0, 0xF8):  # rows 16-87: the 6,763 hanzi of GB2312
        for lo in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):  # the row's unused cells
                out.append(bytes([hi, lo]).decode("gb2312"))
    return out


HANZI = _gb2312_hanzi()


def test_the_sample_is_every_gb2312_hanzi():
    assert len(HANZI) == 6763


def test_a_two_line_gbk_csv_with_any_gb2312_hanzi_reads_as_gbk():
    # 彭 (C5ED) puts ED BA A3 in the bytes of "彭海户", which once looked like a CESU-8 surrogate.
    wrong = []
    for ch in HANZI:
        text = f"户编号,户名,所在县\nH1,{ch}海户,定南县\n"
        got, encoding = decode(text.encode("gbk"))
        if (got, encoding) != (text, "gb18030"):
            wrong.append(ch)
    assert wrong == []


def test_every_gb2312_hanzi_in_one_gbk_yaml_file_reads_back_exactly():
    lines = [f"  - {{name: {''.join(HANZI[i:i + 3])}, age: 30}}" for i in range(0, len(HANZI), 3)]
    text = "id: H1\njurisdiction: 定南县\nnames:\n" + "\n".join(lines) + "\n"
    data = read_bytes(text.encode("gbk"), as_json=False, limits=dataclasses.replace(LIMITS, max_items=5000)).data
    assert data["jurisdiction"] == "定南县" and "".join(m["name"] for m in data["names"]) == "".join(HANZI)


@pytest.mark.parametrize("odd_line", [2, 4])
def test_a_gbk_file_with_one_utf8_line_is_refused_naming_it(odd_line):
    lines = ["id: H1", "name: 钟建华户", "jurisdiction: 定南县", "site: 县城安置点"]
    data = b"\n".join(ln.encode("utf-8" if i + 1 == odd_line else "gbk") for i, ln in enumerate(lines)) + b"\n"
    with pytest.raises(ReadError) as exc:
        decode(data)
    assert exc.value.field.startswith(f"line {odd_line},") and "UTF-8 while the rest" in exc.value.message


def test_a_utf8_file_with_one_gbk_line_is_refused_naming_it():
    lines = ["id: H1", "name: 钟建华户", "jurisdiction: 定南县", "site: 县城安置点"]
    data = b"\n".join(ln.encode("gbk" if i == 1 else "utf-8") for i, ln in enumerate(lines)) + b"\n"
    with pytest.raises(ReadError) as exc:
        decode(data)
    assert exc.value.field.startswith("line 2,") and "GBK/GB18030 while the rest" in exc.value.message


def test_cesu8_is_still_refused_with_its_line():
    data = "id: H1\nname: 王".encode() + b"\xed\xa0\x80\xed\xb0\x80\n"
    with pytest.raises(ReadError) as exc:
        decode(data)
    assert exc.value.field.startswith("line 2,") and "CESU-8" in exc.value.message


def test_big5_bytes_are_not_read_as_gbk():
    big5 = "戶編號,戶名,所在縣,安置點名稱\nH1,王海戶,定南縣,縣城安置點\nH2,陳大明戶,定南縣,縣城安置點\n".encode("big5")
    with pytest.raises(ReadError) as exc:
        decode(big5)
    assert "--encoding" in exc.value.message
    assert decode(big5, "big5")[0].startswith("戶編號")


# --- every command that reads a file takes --encoding, and detects GBK without it (issue 20, item 1) ---------------

import re  # noqa: E402
from pathlib import Path  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from houfu.cli.commands import main  # noqa: E402

HOUSEHOLD_GBK = ("id: H1\nname: 彭海户\njurisdiction: 定南县\nsite_type: 县城集中安置\n"
                 "members:\n  - {name: 彭海, age: 40, labor_capacity: 完全}\n  - {name: 彭小红, age: 12}\n")
SITE_GBK = "id: S1\nname: 彭家安置点\njurisdiction: 定南县\npopulation: 900\n"
PAGE_GBK = "定南县彭家安置点工作方案\n一、总体要求\n(一)稳定就业。每年开展不少于2次招聘会。(县人社局牵头)\n"


def _commands(tmp_path: Path, enc: str) -> list[tuple[list[str], bytes]]:
    csv = "户编号,户名,所在县\nH1,彭海户,定南县\n"
    members = "户编号,姓名,年龄\nH1,彭海,40\n"
    (tmp_path / f"m-{enc}.csv").write_bytes(members.encode(enc))
    return [
        (["check", "{f}"], HOUSEHOLD_GBK.encode(enc)),
        (["check", "{f}", "--json"], HOUSEHOLD_GBK.encode(enc)),
        (["site", "{f}"], SITE_GBK.encode(enc)),
        (["explain", "{f}", "dn.4.3.incubation_subsidy"], HOUSEHOLD_GBK.encode(enc)),
        (["brief", "household", "{f}"], HOUSEHOLD_GBK.encode(enc)),
        (["brief", "site", "{f}"], SITE_GBK.encode(enc)),
        (["screen", "{f}", "--members", str(tmp_path / f"m-{enc}.csv"), "-q", "--json"], csv.encode(enc)),
        (["kb", "scaffold", "{f}", "--id", "pengjia-2025", "-o", str(tmp_path / "drafts"), "--force", "--json"],
         PAGE_GBK.encode(enc)),
    ]


def _run(argv: list[str]) -> tuple[int, str]:
    r = CliRunner().invoke(main, [*argv, "--as-of", "2026-01-01"] if argv[0] != "kb" else argv)
    # Times and the file's own name are the run's, not its reading.
    text = re.sub(r'"?(seconds|households_per_second|peak_rss_mb)"?: [0-9.]+', r"\1", r.output)
    return r.exit_code, re.sub(r"(in|m)-(utf-8|gbk)\.(yaml|csv|txt)", "FILE", text)


@pytest.mark.parametrize("at", range(8))
def test_every_command_that_reads_a_file_reads_gbk_as_its_utf8_twin_and_takes_encoding(tmp_path, at):
    runs = {}
    for enc in ("utf-8", "gbk"):
        args, data = _commands(tmp_path, enc)[at]
        kind = args[0] if args[0] != "kb" else args[1]
        path = tmp_path / f"in-{enc}.{ {'screen': 'csv', 'scaffold': 'txt'}.get(kind, 'yaml')}"
        path.write_bytes(data)
        argv = [a.replace("{f}", str(path)) for a in args]
        runs[enc] = (argv, _run(argv))
    argv = runs["gbk"][0]
    assert runs["gbk"][1] == runs["utf-8"][1] and runs["gbk"][1][0] == 0, runs
    for encoding in ("gbk", "gb18030"):
        assert _run([*argv, "--encoding", encoding]) == runs["utf-8"][1]
    # Told the wrong encoding, one line naming the file and the place, never a guess.
    r = CliRunner().invoke(main, argv + ["--encoding", "utf-8"])
    assert r.exit_code == 2 and "not valid utf-8" in r.output and "Traceback" not in r.output, r.output
    assert len([ln for ln in r.output.splitlines() if ln.startswith("Error:")]) == 1


def test_check_reads_a_gbk_yaml_whose_bytes_look_like_cesu8(tmp_path):
    """彭 (C5ED) puts ED BA A3 in the bytes: once refused as "a UTF-16 surrogate written as UTF-8 (CESU-8)"."""
    gbk, utf8 = tmp_path / "gbk.yaml", tmp_path / "utf8.yaml"
    gbk.write_bytes(HOUSEHOLD_GBK.encode("gbk"))
    utf8.write_text(HOUSEHOLD_GBK, encoding="utf-8")
    assert b"\xed\xba\xa3" in gbk.read_bytes()
    got = CliRunner().invoke(main, ["check", str(gbk), "--json", "--as-of", "2026-01-01"])
    want = CliRunner().invoke(main, ["check", str(utf8), "--json", "--as-of", "2026-01-01"])
    assert got.exit_code == 0 and "CESU-8" not in got.output, got.output
    assert got.output == want.output
