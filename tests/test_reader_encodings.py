"""The reader's encodings on real text (issues 20 and 27): every GB2312 hanzi in a GBK export is read as GBK, never
judged CESU-8 or broken UTF-8; a file that mixes encodings is refused naming the line."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest

from houfu.app.reader import LIMITS, ReadError, decode, read_bytes


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
