"""Write the bad-input corpus: one fault per file, for households and sites, with a manifest.

Run it to regenerate the corpus after changing it:  python tests/badinput/make_corpus.py
tests/test_badinput.py runs every file through the real CLI and checks the manifest's expectation.

The caseload files (``houfu screen``) are small and huge: a workbook of a few kilobytes declaring 16,384 columns,
a value in column XFD, a zip whose cells or shared strings number millions, a zip directory declaring 400 MB, a
row of 20,000 cells; a Parquet file declaring 20 million rows, or one long value repeated a million times.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import zipfile
from pathlib import Path

HERE = Path(__file__).parent
FILES = HERE / "files"

HOUSEHOLD = "id: H1\njurisdiction: shiyan\nsite_type: town_centralized\nmembers:\n  - {name: 王德明, age: 52, labor_capacity: full}\n"
SITE = "id: S1\njurisdiction: shiyan\npopulation: 900\nemployment_service: center\n"
ENTRIES: list[dict[str, object]] = []


def add(name: str, content: bytes | str, category: str, expect: str, field: str = "", command: str = "check",
        args: tuple[str, ...] = ()) -> None:
    data = content.encode("utf-8") if isinstance(content, str) else content
    (FILES / name).write_bytes(data)
    ENTRIES.append({"file": name, "command": command, "category": category, "expect": expect, "field": field,
                    "args": list(args)})


def both(name: str, household: str, site: str, category: str, expect: str, field: str = "") -> None:
    add(f"household-{name}", household, category, expect, field, "check")
    add(f"site-{name}", site, category, expect, field, "site")


# --- caseloads: small files that are huge once read -------------------------------------------------------------

_CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                  '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                  '<Default Extension="xml" ContentType="application/xml"/>'
                  '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                  'spreadsheetml.sheet.main+xml"/>'
                  '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                  'officedocument.spreadsheetml.worksheet+xml"/>{extra}</Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/>{extra}</Relationships>')
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               '<dimension ref="{dimension}"/><sheetData>')
_HEADER_ROW = ('<row r="1"><c r="A1" t="inlineStr"><is><t>户编号</t></is></c>'
               '<c r="B1" t="inlineStr"><is><t>所在县</t></is></c></row>'
               '<row r="2"><c r="A2" t="inlineStr"><is><t>H1</t></is></c>'
               '<c r="B2" t="inlineStr"><is><t>定南县</t></is></c></row>')


def workbook(rows: str, dimension: str = "A1:B2", strings: str | None = None) -> bytes:
    """A minimal XLSX: one sheet of these rows (XML), and shared strings if given."""
    buf = io.BytesIO()
    extra_types = ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.sharedStrings+xml"/>') if strings is not None else ""
    extra_rels = ('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                  'sharedStrings" Target="sharedStrings.xml"/>') if strings is not None else ""
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES.format(extra=extra_types))
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS.format(extra=extra_rels))
        z.writestr("xl/worksheets/sheet1.xml", _SHEET_HEAD.format(dimension=dimension) + rows
                   + "</sheetData></worksheet>")
        if strings is not None:
            z.writestr("xl/sharedStrings.xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                       '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + strings + "</sst>")
    return buf.getvalue()


def declaring(data: bytes, part: str, size: int) -> bytes:
    """The zip with one part's uncompressed size, in its local header and the central directory, set to
    ``size``: a directory that declares what the data is not."""
    out = bytearray(data)
    name = part.encode()
    at = 0
    while (at := out.find(name, at)) >= 0:
        local = out.rfind(b"PK\x03\x04", 0, at)
        central = out.rfind(b"PK\x01\x02", 0, at)
        if central >= 0 and central + 46 == at:
            struct.pack_into("<I", out, central + 24, size)
        elif local >= 0 and local + 30 == at:
            struct.pack_into("<I", out, local + 22, size)
        at += len(name)
    return bytes(out)


def parquet(table: object, **options: object) -> bytes:
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(table, buf, **options)  # type: ignore[arg-type]
    return buf.getvalue()


def caseloads() -> None:
    import pyarrow as pa

    screen = ("--as-of", "2026-01-01", "-q")
    add("caseload-declares-16384-columns.xlsx", workbook(_HEADER_ROW, "A1:XFD1048576"), "caseload limits",
        "accepted", command="screen", args=screen)
    add("caseload-value-in-column-XFD.xlsx", workbook(_HEADER_ROW + '<row r="3"><c r="XFD3"><v>1</v></c></row>',
                                                      "A1:XFD3"),
        "caseload limits", "error", "column 16,384", "screen", screen)
    cells = "".join("<row>" + "<c><v>1</v></c>" * 1000 + "</row>" for _ in range(5_200))
    add("caseload-5.2-million-cells.xlsx", workbook(_HEADER_ROW + cells, "A1:ALL5202"), "caseload limits", "error",
        "cells hold a value", "screen", screen)
    add("caseload-5.1-million-shared-strings.xlsx", workbook(_HEADER_ROW, strings="<si><t/></si>" * 5_100_000),
        "caseload limits", "error", "shared strings", "screen", screen)
    add("caseload-zip-declares-400mb.xlsx", declaring(workbook(_HEADER_ROW), "xl/worksheets/sheet1.xml",
                                                      400_000_000),
        "caseload limits", "error", "bytes once uncompressed", "screen", screen)
    add("caseload-row-of-20000-cells.xlsx", workbook(_HEADER_ROW + '<row r="3">' + "<c/>" * 20_000 + "</row>"),
        "caseload limits", "error", "cells in one row", "screen", screen)
    add("caseload-2000-columns.csv", ",".join(["户编号"] + [f"c{i}" for i in range(1, 2000)]) + "\nH1\n",
        "caseload limits", "error", "columns", "screen", screen)
    nulls = pa.nulls(20_000_000, pa.string())
    add("caseload-declares-20-million-rows.parquet", parquet(pa.table({"户编号": nulls, "所在县": nulls})),
        "caseload limits", "error", "rows declared", "screen", screen)
    zeros = pa.array([0] * 1_000_000, pa.int32())
    long = pa.DictionaryArray.from_arrays(zeros, pa.array(["定" * 40_000]))
    add("caseload-one-long-value-a-million-times.parquet",
        parquet(pa.table({"户编号": pa.DictionaryArray.from_arrays(zeros, pa.array(["H1"])), "所在县": long}),
                compression="zstd"), "caseload limits", "error", "所在县", "screen", screen)
    # a column of lists or records where a cell holds one value (an internal error until issue 25's review)
    add("caseload-id-column-of-lists.parquet", parquet(pa.table({"户编号": pa.array([["H1"], ["H2"]]),
                                                                "所在县": ["定南县", "定南县"]})),
        "shape", "error", "户编号: holds lists or records", "screen", screen)
    add("caseload-id-column-of-records.parquet", parquet(pa.table({"户编号": pa.array([{"id": "H1"}]),
                                                                  "所在县": ["定南县"]})),
        "shape", "error", "户编号: holds lists or records", "screen", screen)


def main() -> None:
    FILES.mkdir(parents=True, exist_ok=True)
    for old in FILES.iterdir():
        old.unlink()
    # binary content
    for kind, head in (("elf", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256))), ("png", b"\x89PNG\r\n\x1a\n\x00\x00"),):
        add(f"household-{kind}.yaml", head, "binary", "error", "not a text file")
        add(f"site-{kind}.yaml", head, "binary", "error", "not a text file", "site")
    add("household-gzipped.yaml", gzip.compress(HOUSEHOLD.encode(), mtime=0), "binary", "error", "not a text file")
    add("site-gzipped.yaml", gzip.compress(SITE.encode(), mtime=0), "binary", "error", "not a text file", "site")
    add("household-nul.yaml", HOUSEHOLD.encode() + b"\x00\n", "binary", "error", "NUL")
    # encodings
    add("household-gbk.yaml", HOUSEHOLD.encode("gbk"), "encoding", "accepted")
    add("household-gb18030.yaml", (HOUSEHOLD + "  - {name: 𠀀明, age: 20}\n").encode("gb18030"), "encoding", "accepted")
    add("site-gbk.yaml", (SITE + "name: 青龙泉社区\n").encode("gbk"), "encoding", "accepted", command="site")
    add("household-utf8-bom.yaml", b"\xef\xbb\xbf" + HOUSEHOLD.encode(), "encoding", "accepted")
    add("household-utf16-bom.yaml", HOUSEHOLD.encode("utf-16"), "encoding", "accepted")
    add("site-utf16-bom.yaml", SITE.encode("utf-16"), "encoding", "accepted", command="site")
    add("household-cesu8.yaml", HOUSEHOLD.encode() + b"  - {name: \xed\xa0\x80\xed\xb0\x80}\n", "encoding", "error",
        "byte")
    add("household-broken-utf8.yaml", HOUSEHOLD.encode() + "  - {name: 李桂兰".encode() + b"\xff\xfe}\n", "encoding",
        "error", "byte")
    add("household-gbk-declared-utf8.yaml", HOUSEHOLD.encode("gbk"), "encoding", "error", "byte",
        args=("--encoding", "utf-8"))
    # shape: nesting, size, counts, lengths
    both("deep.json", "[" * 5000 + "]" * 5000, "[" * 5000 + "]" * 5000, "nesting", "error", "nested")
    add("household-deep.yaml", "a:\n" + "".join("  " * i + "- \n" for i in range(1, 40)), "nesting", "error", "nested")
    add("household-60-members.yaml", "id: H\njurisdiction: shiyan\nmembers:\n" + "  - {age: 30}\n" * 60, "size", "error",
        "members")
    add("household-long-id.yaml", "id: " + "x" * 300 + "\njurisdiction: shiyan\n", "size", "error", "id")
    add("site-long-name.yaml", SITE + "name: " + "青" * 300 + "\n", "size", "error", "name", "site")
    add("household-empty.yaml", "", "shape", "error", "empty")
    add("household-scalar.yaml", "just a line of text\n", "shape", "error", "mapping")
    add("household-no-records.json", "[]", "shape", "error", "no records")
    add("site-array-of-arrays.json", json.dumps([[{"id": "S1", "jurisdiction": "shiyan"}]]), "shape", "error",
        "mapping", "site")
    add("household-member-field-at-top.yaml", "id: H\njurisdiction: shiyan\nage: 30\n", "shape", "error",
        "give it under members")
    add("site-household-field.yaml", SITE + "members: []\n", "shape", "error", "members", "site")
    # numbers
    both("digits.yaml", "id: H\njurisdiction: shiyan\nsite_population: " + "9" * 4000 + "\n",
         "id: S\njurisdiction: shiyan\npopulation: " + "9" * 4000 + "\n", "numbers", "error", "digits")
    add("household-fee-1e16.yaml", "id: H\njurisdiction: dingnan\nsite_type: county_seat_centralized\nentities:\n"
        "  - {id: shop, in_incubator: true, months_subsidized_before_quarter: 0,\n"
        "     monthly_incubator_fees_yuan: {rent: 1.0e+16, sanitation: 0, property_management: 0}}\n",
        "numbers", "error", "monthly_incubator_fees_yuan.rent")
    add("household-fee-inf.yaml", "id: H\njurisdiction: dingnan\nentities:\n  - {id: shop, monthly_incubator_fees_yuan: "
        "{rent: .inf}}\n", "numbers", "error", "finite")
    add("household-fee-nan.json", '{"id": "H", "jurisdiction": "dingnan", "entities": [{"id": "s", '
        '"monthly_incubator_fees_yuan": {"rent": NaN}}]}', "numbers", "error", "NaN")
    add("household-age-200.yaml", "id: H\njurisdiction: shiyan\nmembers: [{age: 200}]\n", "numbers", "error",
        "members[0].age")
    add("site-negative-population.yaml", "id: S\njurisdiction: shiyan\npopulation: -5\n", "numbers", "error",
        "population", "site")
    # YAML that cannot explode, and no tags or duplicate keys
    bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        bomb += f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    both("alias-bomb.yaml", bomb, bomb, "hang", "error", "anchors")
    add("household-alias.yaml", "id: H\njurisdiction: &j shiyan\nsite_type: *j\n", "hang", "error", "anchors")
    both("binary-tag.yaml", "id: !!binary SDE=\njurisdiction: shiyan\n", "id: !!binary UzE=\njurisdiction: shiyan\n",
         "tags", "error", "explicit YAML tags")
    add("household-python-tag.yaml", "id: !!python/object/apply:os.system ['echo pwned']\njurisdiction: shiyan\n",
        "tags", "error", "explicit YAML tags")
    add("household-custom-tag.yaml", "id: H\njurisdiction: !shiyan x\n", "tags", "error", "explicit YAML tags")
    both("duplicate-key.yaml", "id: H\njurisdiction: shiyan\njurisdiction: dingnan\n",
         "id: S\njurisdiction: shiyan\npopulation: 900\npopulation: 90\n", "duplicates", "error", "twice")
    add("household-duplicate-key.json", '{"id": "H", "jurisdiction": "shiyan", "id": "H2"}', "duplicates", "error",
        "twice")
    add("household-duplicate-ids.yaml", "- {id: H, jurisdiction: shiyan}\n- {id: H, jurisdiction: shiyan}\n",
        "duplicates", "error", "duplicate id")
    add("site-duplicate-ids.yaml", "- {id: S, jurisdiction: shiyan}\n- {id: S, jurisdiction: shiyan}\n",
        "duplicates", "error", "duplicate id", "site")
    # strict types
    for label, value in (("0", "0"), ("1", "1"), ("1.0", "1.0"), ("Y", '"Y"'), ("yes", '"yes"'), ("true-string", '"true"')):
        add(f"household-bool-{label}.yaml", f"id: H\njurisdiction: shiyan\nhukou_at_site: {value}\n", "strict types",
            "error", "hukou_at_site")
    add("site-bool-1.yaml", "id: S\njurisdiction: shiyan\nhas_police_room: 1\n", "strict types", "error",
        "has_police_room", "site")
    add("household-int-as-bool.yaml", "id: H\njurisdiction: shiyan\nmembers: [{age: true}]\n", "strict types",
        "error", "members[0].age")
    add("household-enum-unknown.yaml", "id: H\njurisdiction: shiyan\nmembers: [{labor_capacity: 很强}]\n",
        "strict types", "error", "完全")
    add("household-enum-chinese.yaml", "id: H\njurisdiction: shiyan\ncategory: 脱贫户\nmembers: [{age: 40, labor_capacity: 完全}]\n",
        "strict types", "accepted")
    add("household-typo.yaml", "id: H\njurisdiction: shiyan\nsite_typ: scattered\n", "strict types", "error",
        "did you mean 'site_type'")
    # jurisdictions
    for name in ("湖北", "江西", "北京"):
        add(f"household-jurisdiction-{name}.yaml", f"id: H\njurisdiction: {name}\n", "jurisdiction", "error",
            "jurisdiction")
    add("site-jurisdiction-province.yaml", "id: S\njurisdiction: hubei\n", "jurisdiction", "error", "jurisdiction",
        "site")
    # unsafe characters
    both("ansi-id.yaml", 'id: "\\e]0;pwned\\a"\njurisdiction: shiyan\n', 'id: "\\e[31mred"\njurisdiction: shiyan\n',
         "characters", "error", "control character")
    both("crlf-id.json", json.dumps({"id": "a\r\nError: fake", "jurisdiction": "shiyan"}),
         json.dumps({"id": "s\rx", "jurisdiction": "shiyan"}), "characters", "error", "control character")
    both("bidi-id.json", json.dumps({"id": "abc\u202edcba", "jurisdiction": "shiyan"}),
         json.dumps({"id": "site\u2066x", "jurisdiction": "shiyan"}), "characters", "error", "invisible")
    add("household-raw-escape.yaml", b"id: H\x1b[2J\njurisdiction: shiyan\n", "characters", "error", "control character")
    add("household-name-bidi.json", json.dumps({"id": "H", "jurisdiction": "shiyan",
                                                 "members": [{"name": "王\u202e德明", "age": 40}]}),
        "characters", "warning", "members[0].name")
    add("site-name-zero-width.json", json.dumps({"id": "S", "jurisdiction": "shiyan", "name": "青龙\u200b泉"}),
        "characters", "warning", "name", "site")
    # contradictions: warnings, the answer still given
    add("household-child-able-to-work.yaml", "id: H\njurisdiction: shiyan\nmembers: [{age: 15, labor_capacity: full, "
        "employed: true}]\n", "contradictions", "warning", "members[0].labor_capacity")
    add("household-unemployed-with-job.yaml", "id: H\njurisdiction: shiyan\nmembers: [{age: 30, employed: false, "
        "employment: workshop}]\n", "contradictions", "warning", "members[0].employment")
    add("household-fees-outside-incubator.yaml", "id: H\njurisdiction: dingnan\nentities: [{id: s, in_incubator: false,"
        " monthly_incubator_fees_yuan: {rent: 500}}]\n", "contradictions", "warning", "entities[0].in_incubator")
    add("site-more-employed-than-people.yaml", "id: S\njurisdiction: shiyan\npopulation: 100\nemployed_count: 150\n",
        "contradictions", "warning", "employed_count", "site")
    add("household-child-strict.yaml", "id: H\njurisdiction: shiyan\nmembers: [{age: 15, labor_capacity: full}]\n",
        "contradictions", "error-strict", "members[0].labor_capacity", args=("--strict",))
    # issue 27: the reader's last gaps
    # integers in YAML 1.1's other forms: refused naming the field, never an internal error
    for form, value in (("hex", "0x7B"), ("octal", "017"), ("binary", "0b101101"), ("sexagesimal", "1:30"),
                        ("underscores", "1_000"), ("float-sexagesimal", "1:30.5")):
        add(f"household-int-{form}.yaml", f"id: H\njurisdiction: shiyan\nmembers: [{{age: {value}}}]\n",
            "integer forms", "error", "members[0].age")
        add(f"site-int-{form}.yaml", f"id: S\njurisdiction: shiyan\npopulation: {value}\n", "integer forms", "error",
            "population", "site")
    # structural limits while parsing: inside the 5,000,000-byte limit, refused at once
    member = "  - {age: 30, labor_capacity: full, employed: true}\n"
    add("household-members-1.4mb.yaml", "id: H\njurisdiction: shiyan\nmembers:\n" + member * 27_000, "structure",
        "error", "members")
    add("household-members-4.9mb.yaml", "id: H\njurisdiction: shiyan\nmembers:\n" + member * 95_000, "structure",
        "error", "members")
    add("household-members-4.9mb.json", '{"id": "H", "jurisdiction": "shiyan", "members": ['
        + ",".join(['{"age": 1}'] * 440_000) + "]}", "structure", "error", "objects")
    add("household-empty-maps.json", "[" + ",".join(["{}"] * 1_600_000) + "]", "structure", "error", "objects")
    add("site-fairs-4.9mb.yaml", SITE + "job_fairs:\n" + "".join(f"  '{i}': 1\n" for i in range(340_000)),
        "structure", "error", "job_fairs", "site")
    add("site-empty-lists.yaml", "[" + "[]," * 1_500_000 + "[]]\n", "structure", "error", "records", "site")
    add("site-records-4.9mb.yaml", "".join(f"- {{id: S{i}}}\n" for i in range(300_000)), "structure", "error",
        "records", "site")
    # encodings mixed in one file: refused naming the line
    mixed = HOUSEHOLD.encode("gbk") + "  - {name: 钟建华, age: 30}\n".encode()
    add("household-gbk-one-utf8-line.yaml", mixed, "mixed encodings", "error", "line 6")
    add("household-utf8-one-gbk-line.yaml", HOUSEHOLD.encode() + "  - {name: 钟建华, age: 30}\n".encode("gbk")
        + "  - {name: 李桂兰, age: 31}\n  - {name: 王德明, age: 32}\n".encode(), "mixed encodings", "error", "line 6")
    add("site-gbk-one-utf8-line.yaml", (SITE + "name: 青龙泉社区\n").encode("gbk") + "note_x: 十堰\n".encode(),
        "mixed encodings", "error", "line 6", "site")
    # periods: ASCII digits of the declared shape, and one key per period
    add("site-fullwidth-year.yaml", SITE + "job_fairs: {２０２５: 3}\n", "strict types", "error", "job_fairs", "site")
    add("site-year-twice.yaml", SITE + "job_fairs: {2025: 3, \"2025\": 30}\n", "duplicates", "error", "twice",
        "site")
    add("site-quarter-lowercase.yaml", SITE + "job_fairs: {2025-q1: 1}\n", "strict types", "error", "job_fairs",
        "site")
    # businesses: owners are members, ids are unique
    add("household-owner-not-a-member.yaml", "id: H\njurisdiction: dingnan\nmembers: [{age: 40}, {age: 38}, {age: 12}]"
        "\nentities: [{id: shop, owners: [4], in_incubator: true}]\n", "shape", "error", "entities[0].owners")
    add("household-business-twice.yaml", "id: H\njurisdiction: dingnan\nmembers: [{age: 40}]\nentities:\n"
        "  - {id: shop, owners: [1], in_incubator: true}\n  - {id: shop, owners: [1], in_incubator: true}\n",
        "duplicates", "error", "entities[1].id")
    caseloads()
    # well-formed input is accepted
    add("household-plain.yaml", HOUSEHOLD, "accepted", "accepted")
    add("site-plain.yaml", SITE, "accepted", "accepted", command="site")
    (HERE / "manifest.json").write_text(json.dumps(ENTRIES, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(ENTRIES)} files written to {FILES}")


if __name__ == "__main__":
    main()
