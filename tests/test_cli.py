"""The CLI through CliRunner: exit codes, output, bad input, --json on every command."""

import datetime as dt
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import click
import networkx as nx
import pytest
from click.testing import CliRunner

from houfu.cli.commands import main
from houfu.kb.graph import build_graph

EX = Path(__file__).resolve().parents[1] / "examples"


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def test_the_version_a_report_names_is_the_installed_packages():
    """houfu.__version__ is the one source (pyproject.toml reads it); a report and the KB cache use it without
    importlib.metadata. An install made before a version change would name the old one: this says so."""
    from importlib.metadata import version

    import houfu
    from houfu.engine.evaluator import HOUFU_VERSION

    assert HOUFU_VERSION == houfu.__version__ == version("houfu")
    report = json.loads(CliRunner().invoke(main, ["check", "examples/walk-in.yaml", "--json"]).output)
    assert [r["houfu_version"] for r in report] == [houfu.__version__]


def test_kb_validate_passes():
    r = run("kb", "validate")
    assert r.exit_code == 0 and "knowledge base OK" in r.output


def test_kb_stats_json_counts_both_documents():
    data = json.loads(run("kb", "stats", "--json").output)
    assert data["documents"]["dingnan-2023"]["clauses"] == 20
    assert data["documents"]["shiyan-2019"]["clauses"] == 18


def test_kb_show_measure_and_unknown_id_suggests():
    r = run("kb", "show", "dn.4.3.incubation_subsidy", "--json")
    data = json.loads(r.output)
    assert data["clause_number"] == "四(三)" and data["parameters"][1]["value"] == 10000
    bad = run("kb", "show", "dn.4.3.incubation_subsidi")
    assert bad.exit_code == 1 and "did you mean dn.4.3.incubation_subsidy" in bad.output


def test_kb_search_chinese():
    hits = json.loads(run("kb", "search", "公益性岗位", "--json").output)
    assert {"dn.4.2.public_welfare_posts", "sy.5.public_welfare_posts"} <= {h["id"] for h in hits}


def test_check_json_entry_fields():
    [data] = json.loads(run("check", EX / "dingnan-household.yaml", "--json", "--as-of", "2025-01-01").stdout)
    e = next(m for m in data["determinations"] if m["measure_id"] == "dn.4.3.incubation_subsidy")
    assert e["status"] == "applies" and e["document"] == "dingnan-2023" and e["clause_number"] == "四(三)"
    assert e["clause_id"] == "dn.4.3"
    assert e["force"] == "mandatory" and "60%" in e["quote"]
    assert {"name": "县人社局", "role": "shared", "body_id": "dn_hrss", "handles": True} in e["owners"]
    assert e["amounts"][0]["quantity"] == "quarterly_subsidy" and e["amounts"][0]["value"] == 9360.0
    assert {p["id"] for p in e["parameters"]} >= {"dn.4.3.subsidy_rate", "dn.4.3.quarterly_cap"}
    assert any(f["rule"].startswith("measure:dn.4.3.incubation_subsidy#T") for f in e["why"])
    assert len(data["kb_version"]) == 12 and data["houfu_version"]


def test_check_lists_missing_and_failed():
    [data] = json.loads(run("check", EX / "shiyan-household.yaml", "--json").stdout)
    by = {m["measure_id"]: m for m in data["determinations"]}
    assert by["sy.12.medical_insurance"]["status"] == "satisfied"
    assert by["sy.12.hukou_guidance"]["status"] == "applies"
    assert by["sy.12.temporary_assistance"]["status"] == "does_not_apply"
    assert by["sy.12.temporary_assistance"]["failed"] == ["sudden_hardship = true (is false)"]
    assert by["sy.4.annual_training"]["amounts"][0]["value"] == 1


def test_site_violated_gives_gap():
    [data] = json.loads(run("site", EX / "dingnan-site.yaml", "--json", "--as-of", "2026-06-01").stdout)
    fairs = next(m for m in data["determinations"] if m["measure_id"] == "dn.4.1.job_fairs")
    assert fairs["status"] == "violated"
    assert fairs["gap"]["en"] == "1 job fair(s) or career-guidance event(s) held in 2025, at least 2 a year required"
    # Every year of the plan to the as-of date: 2023 only partly under it (not judged), 2024 met, 2025 missed,
    # 2026 under way.
    assert [(p["period"], p["judged"], p["status"], p["count"], p["required"]) for p in fairs["periods"]] == [
        ("2023", False, None, 1, None), ("2024", True, "met", 2, 2.0), ("2025", True, "violated", 1, 2.0),
        ("2026", True, "not_due", None, 2.0)]
    assert fairs["periods"][0]["start"] == "2023-07-17" and fairs["periods"][0]["partial"] is True
    assert "2023-07-17" in fairs["periods"][0]["reading"]


def test_unknown_field_gets_did_you_mean_and_exit_2(tmp_path):
    f = tmp_path / "h.yaml"
    f.write_text("id: x\njurisdiction: shiyan\nsite_typ: scattered\n", encoding="utf-8")
    r = run("check", f)
    assert r.exit_code == 2
    assert "site_typ: unknown field 'site_typ'; did you mean 'site_type'?" in r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize("body,needle", [
    ("id: x\njurisdiction: shiyan\nmembers: [{age: -1}]\n", "members[0].age"),
    ("id: x\njurisdiction: shiyan\nmembers: [{age: ten}]\n", "members[0].age"),
    ("id: x\njurisdiction: [\n", "malformed YAML"),
    ("id: x\njurisdiction: 北京\n", "unknown jurisdiction"),
])
def test_bad_values_are_one_line_errors(tmp_path, body, needle):
    f = tmp_path / "h.yaml"
    f.write_text(body, encoding="utf-8")
    r = run("check", f)
    assert r.exit_code == 2 and needle in r.output and "Traceback" not in r.output
    assert len([ln for ln in r.output.splitlines() if ln.startswith("Error")]) == 1


def test_batch_goes_on_past_bad_records():
    r = run("check", EX / "batch-households.yaml", "--json")
    assert r.exit_code == 2
    data = json.loads(r.stdout)
    assert isinstance(data, list) and len(data) == 2
    assert "3 record(s): 2 evaluated, 1 rejected" in r.stderr
    assert "did you mean 'members'" in r.stderr


def test_stdin_json_input():
    r = run("check", "-", "--json", input='{"id": "s", "jurisdiction": "420300", "sudden_hardship": true}')
    [report] = json.loads(r.stdout)
    by = {m["measure_id"]: m["status"] for m in report["determinations"]}
    assert by["sy.12.temporary_assistance"] == "applies"


def test_explain_shows_chain_with_clauses():
    r = run("explain", EX / "shiyan-site.yaml", "sy.8.separate_community")
    assert r.exit_code == 0
    assert "concept:sy_large_site#T0 → sy_large_site = true  [shiyan-2019 8]" in r.output


def test_ask_fills_missing_facts_in_order(tmp_path):
    f = tmp_path / "h.yaml"
    f.write_text("id: a\njurisdiction: shiyan\nmembers: [{labor_capacity: full}]\n", encoding="utf-8")
    r = run("check", f, "--ask", input="16\n" + "q\n")
    assert "[1] 第1位: 多大年龄(周岁)?" in r.stderr and "sy.4.annual_training" in r.stdout
    assert "1 question(s) answered" in r.stderr


def test_schema_household():
    data = json.loads(run("schema", "household").output)
    assert "members" in data["properties"]


def test_owners_and_duties_json():
    o = json.loads(run("owners", "dn.8.1", "--json").output)
    roles = {d["name"]: d["roles"] for d in o["documents"]["dingnan-2023"]["departments"]}
    assert roles["县乡村振兴局"] == {"lead": 1}
    d = json.loads(run("duties", "Human Resources and Social Security", "--json").output)
    assert d["id"] == "dn_hrss" and "shared" in d["documents"]["dingnan-2023"]
    bad = run("duties", "人社")
    assert bad.exit_code == 1 and "did you mean" in bad.output
    pboc = json.loads(run("duties", "人民银行定南支行", "--json").output)
    assert pboc["successor"]["id"] == "pboc_ganzhou"


def test_a_shiyan_measure_naming_no_body_shows_its_declared_implicit_bearer(kb):
    o = json.loads(run("owners", "sy.16.supervision", "--json").output)
    [owner] = o["documents"]["shiyan-2019"]["matches"][0]["owners"]
    assert (owner["id"], owner["role"]) == ("sy_localities", "implicit")
    assert kb.measures["sy.16.supervision"].bearer.implicit


def test_a_body_the_sentence_only_mentions_is_not_an_owner():
    for mid, body in [("dn.7.2.self_governance", "building_heads"), ("sy.9.membership_transfer", "sy_destination_party_org"),
                      ("dn.3.2.social_participation", "mass_organizations")]:
        o = json.loads(run("owners", mid, "--json").output)
        owners = next(iter(o["documents"].values()))["matches"][0]["owners"]
        assert body not in {x["id"] for x in owners if isinstance(x, dict)}, mid


def test_owners_of_dibao_in_shiyan_do_not_include_the_police():
    o = json.loads(run("owners", "低保", "--json").output)
    assert "sy_public_security" not in {d["id"] for d in o["documents"]["shiyan-2019"]["departments"]}


def test_a_department_duty_sits_under_its_own_topic():
    d = json.loads(run("duties", "县民政局", "--json").output)
    shared = d["documents"]["dingnan-2023"]["shared"]
    assert "dn.3.3.dibao" in [i["id"] for i in shared["social-assistance"]]
    assert "dn.3.3.dibao" not in [i["id"] for i in shared.get("land", [])]


def test_every_dingnan_list_traced_both_ways(kb):
    """Task -> owners and owner -> tasks, against the lists parsed straight from the seed text."""
    from tests.test_kb import _seed_lists

    clauses = [c for c in kb.documents["dingnan-2023"].clauses if c.responsibility]
    for raw, c in zip(_seed_lists(), clauses, strict=True):
        *names, role_text = raw
        role = "lead" if role_text == "牵头负责" else "shared"
        o = json.loads(run("owners", c.id, "--json").output)
        got = {(d["name"], r) for d in o["documents"]["dingnan-2023"]["departments"] for r in d["roles"]}
        assert {(n, role) for n in names} <= got, c.id
        for n in names:
            # the name within its county: another county's plan may list a 县人社局 too (issue 26)
            d = json.loads(run("duties", n, "--jurisdiction", "dingnan", "--json").output)
            items = [i["id"] for t in d["documents"]["dingnan-2023"][role].values() for i in t]
            assert {m.id for m in c.measures} <= set(items), (n, c.id)


def test_every_body_named_in_shiyan_traced_both_ways(kb):
    named = {(n.body, n.as_written, m.id) for c in kb.documents["shiyan-2019"].clauses
             for m in c.measures for n in m.named if n.role == "bearer"}
    assert len({b for b, _, _ in named}) >= 20
    for body, written, mid in named:
        o = json.loads(run("owners", mid, "--json").output)
        owners = o["documents"]["shiyan-2019"]["matches"][0]["owners"]
        assert {"name": written, "role": "named"}.items() <= next(x for x in owners if x["id"] == body).items()
        d = json.loads(run("duties", body, "--json").output)
        items = [i["id"] for t in d["documents"]["shiyan-2019"]["named"].values() for i in t]
        assert mid in items


def test_graphml_round_trip(tmp_path, kb):
    out = tmp_path / "g.graphml"
    assert run("graph", "export", "--format", "graphml", "-o", out).exit_code == 0
    back = nx.read_graphml(out)
    G = build_graph(kb)
    assert set(back.nodes) == set(G.nodes) and set(back.edges) == set(G.edges)
    assert all(back.edges[e] == G.edges[e] for e in G.edges)


@pytest.mark.parametrize("fmt", ["gexf", "json", "dot", "mermaid"])
def test_other_exports(fmt):
    r = run("graph", "export", "--format", fmt)
    assert r.exit_code == 0 and len(r.output) > 1000


def test_render_pictures(tmp_path):
    for name, extra in (("all.svg", []), ("hrss.png", ["--department", "dn_hrss"])):
        out = tmp_path / name
        assert run("graph", "render", out, *extra).exit_code == 0
        assert out.stat().st_size > 10_000


def test_compare_topic_and_unknown_topic():
    data = json.loads(run("compare", "--topic", "training", "--json").output)
    assert data["documents"]["shiyan-2019"]["measures"] and data["documents"]["dingnan-2023"]["measures"]
    assert run("compare", "--topic", "trainig").exit_code == 1


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.text = [], ""

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta",):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack.pop() == tag

    def handle_data(self, data):
        self.text += data


@pytest.mark.parametrize("kind,arg", [("household", EX / "dingnan-household.yaml"), ("site", EX / "shiyan-site.yaml"),
                                      ("department", "dn_hrss"), ("compare", None)])
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("fmt", ["md", "html", "txt"])
def test_briefs_render_and_cite_real_clauses(kb, kind, arg, lang, fmt):
    args = ["brief", kind] + (["--topic", "training"] if kind == "compare" else [arg])
    r = run(*args, "--lang", lang, "--format", fmt)
    assert r.exit_code == 0, r.output
    titles = {d.doc.title: d for d in kb.documents.values()}
    number = r"([一二三四五六七八\d序言]+(?:\([一二三四五六七八]\))?)"
    if kind == "household":
        # A letter cites by a short title (定南方案 三(一)); each full title appears once, under sources.
        short = {getattr(d.doc.cite_as, lang): d for d in kb.documents.values()}
        cites = re.findall(r"(定南方案|十堰意见|Dingnan plan|Shiyan opinions) " + number, r.output)
        assert cites
        for name, number in cites:
            assert number in {c.number for c in short[name].clauses}
        assert {t for t in titles if f"《{t}》" in r.output} == {short[name].doc.title for name, _ in cites}
        assert all(r.output.count(f"《{t}》") <= 1 for t in titles)
    else:
        cites = re.findall((r"依据《([^》]+)》" if lang == "zh" else r"Source: 《([^》]+)》 \([^)]*\), ") + number,
                           r.output)
        assert cites
        for title, number in cites:
            assert number in {c.number for c in titles[title].clauses}
    if fmt == "html":
        p = _Parser()
        p.feed(r.output)
        assert p.stack == []


def test_html_brief_escapes_household_id(tmp_path):
    f = tmp_path / "h.yaml"
    f.write_text('id: "<script>alert(1)</script>"\njurisdiction: shiyan\nsudden_hardship: true\n', encoding="utf-8")
    r = run("brief", "household", f, "--format", "html")
    assert "<script>" not in r.output and "&lt;script&gt;" in r.output


def test_user_templates_override(tmp_path):
    (tmp_path / "site.md.j2").write_text("custom {{ ctx.site_id }}\n", encoding="utf-8")
    r = run("brief", "site", EX / "shiyan-site.yaml", "--templates", tmp_path)
    assert r.output == "custom SY-YY-QLQ\n"


def test_strict_undefined_in_templates(tmp_path):
    (tmp_path / "site.md.j2").write_text("{{ ctx.no_such_field }}\n", encoding="utf-8")
    r = run("brief", "site", EX / "shiyan-site.yaml", "--templates", tmp_path)
    assert r.exit_code != 0


def _commands(group, prefix=()):
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))
        else:
            yield (*prefix, name)


@pytest.mark.parametrize("command", list(_commands(main)), ids=" ".join)
def test_every_command_has_help_with_example(command):
    r = run(*command, "--help")
    assert r.exit_code == 0 and "Example:" in r.output


def test_batch_accounts_for_records_rejected_after_parsing(tmp_path):
    f = tmp_path / "b.yaml"
    f.write_text("- {id: a, jurisdiction: shiyan}\n- {id: b, jurisdiction: 北京}\n", encoding="utf-8")
    r = run("check", f, "--json")
    data = json.loads(r.stdout)
    assert r.exit_code == 2
    assert [d["id"] for d in data] == ["a"]
    assert "2 record(s): 1 evaluated, 1 rejected" in r.stderr
    assert "b.yaml[1]: jurisdiction: unknown jurisdiction '北京'" in r.stderr


def test_explain_shows_each_member_against_the_member_concept(tmp_path):
    f = tmp_path / "h.yaml"
    f.write_text("id: e\njurisdiction: shiyan\nmembers:\n  - {name: 甲, age: 15, labor_capacity: full}\n"
                 "  - {name: 乙, age: 16, labor_capacity: full}\n  - {name: 丙, labor_capacity: full}\n", encoding="utf-8")
    data = json.loads(run("explain", f, "sy.4.annual_training", "--json").output)
    test = data["member_tests"][0]
    assert test["concepts"][0]["name"] == "sy_working_age_able" and test["concepts"][0]["clause_number"] == "4"
    assert [m["value"] for m in test["members"]] == [False, True, None]


def test_check_json_is_a_list_for_one_record_and_validates_against_the_report_schema():
    import jsonschema

    schema = json.loads(run("schema", "report").stdout)
    for example in ("dingnan-household.yaml", "shiyan-household.yaml"):
        data = json.loads(run("check", EX / example, "--json").stdout)
        assert isinstance(data, list) and len(data) == 1
        jsonschema.validate(data[0], schema)
    site = json.loads(run("site", EX / "shiyan-site.yaml", "--json").stdout)
    jsonschema.validate(site[0], schema)
    lines = run("check", EX / "batch-households.yaml", "--jsonl").stdout.splitlines()
    assert len(lines) == 2 and all(json.loads(line)["entity"] == "household" for line in lines)


def test_houfu_test_runs_every_rule_case_on_every_evaluator():
    r = run("test")
    assert r.exit_code == 0, r.output
    passed = int(re.search(r"(\d+) passed, 0 failed", r.output).group(1))
    assert passed >= 180 and passed % 3 == 0  # durable-rules, the plain reference and the compiled closures


def test_houfu_test_names_a_misspelt_key_with_a_suggestion(tmp_path):
    f = tmp_path / "cases.yaml"
    f.write_text("- name: A typo in a case is an error\n  input: {id: x, jurisdiction: shiyan}\n"
                 "  output: {applies: []}\n  amount: {sy.4.annual_training: {0.value: 1}}\n", encoding="utf-8")
    r = run("test", f)
    assert r.exit_code == 2
    assert "case 'A typo in a case is an error': unknown key 'amount'; did you mean 'amounts'?" in r.output


def test_houfu_test_reports_a_failing_case(tmp_path):
    f = tmp_path / "cases.yaml"
    f.write_text("- name: A wrong expectation fails on every evaluator\n  input: {id: x, jurisdiction: shiyan}\n"
                 "  output: {does_not_apply: [sy.12.temporary_assistance]}\n", encoding="utf-8")
    r = run("test", f)
    assert r.exit_code == 1 and "0 passed, 3 failed" in r.output
    assert "sy.12.temporary_assistance: expected does_not_apply, got undetermined" in r.output


def test_an_unknown_calculator_is_a_kb_defect_not_a_traceback(tmp_path):
    from tests.test_kb import _copy, _edit

    root = _copy(tmp_path)

    def typo(data):
        for c in data["clauses"]:
            for m in c["measures"]:
                if (m.get("rule") or {}).get("amounts") == "training_shortfall":
                    m["rule"]["amounts"] = "training_shortfal"

    _edit(root / "shiyan-2019" / "clauses.yaml", typo)
    r = run("--policies", root, "kb", "validate")
    assert r.exit_code == 1
    assert "unknown calculator 'training_shortfal'; did you mean 'training_shortfall'?" in r.output
    r = run("--policies", root, "check", EX / "shiyan-household.yaml")
    assert r.exit_code == 1 and "unknown calculator" in r.output and "Traceback" not in r.output


def test_an_old_document_with_no_end_date_carries_a_visible_notice():
    [late] = json.loads(run("check", EX / "shiyan-household.yaml", "--json", "--as-of", "2099-01-01").stdout)
    assert [n["code"] for n in late["notices"]] == ["no_end_date"]
    assert "no end date" in late["notices"][0]["en"] and late["determinations"]
    [early] = json.loads(run("check", EX / "shiyan-household.yaml", "--json", "--as-of", "2024-09-15").stdout)
    assert early["notices"] == []
    # Signed 2019-09-16: on the fifth anniversary five years have passed, not more; the day after, more have.
    [edge] = json.loads(run("check", EX / "shiyan-household.yaml", "--json", "--as-of", "2024-09-16").stdout)
    assert edge["notices"] == []
    [after] = json.loads(run("check", EX / "shiyan-household.yaml", "--json", "--as-of", "2024-09-17").stdout)
    assert [n["code"] for n in after["notices"]] == ["no_end_date"]
    text = run("check", EX / "shiyan-household.yaml", "--as-of", "2099-01-01").output
    assert "note: shiyan-2019 was issued in 2019 and its text gives no end date" in text
    # A notice for staff, not for the household (issue 19): the letter leaves it out.
    letter = run("brief", "household", EX / "shiyan-household.yaml", "--as-of", "2099-01-01").output
    assert "文中没有写明有效期" not in letter and "请核实" not in letter


def test_a_span_of_years_from_29_february_ends_on_28_february_when_the_year_has_none():
    from houfu.engine.evaluator import anniversary

    assert anniversary(dt.date(2019, 9, 16), 5) == dt.date(2024, 9, 16)
    assert anniversary(dt.date(2016, 2, 29), 5) == dt.date(2021, 2, 28)
    assert anniversary(dt.date(2016, 2, 29), 4) == dt.date(2020, 2, 29)


def test_a_document_whose_end_date_has_passed_is_not_in_force(tmp_path):
    from tests.test_kb import _copy, _edit

    root = _copy(tmp_path)
    _edit(root / "shiyan-2019" / "document.yaml", lambda d: d.update(in_force_until="2024-12-31"))
    [before] = json.loads(run("--policies", root, "check", EX / "shiyan-household.yaml", "--json",
                              "--as-of", "2024-12-31").stdout)
    assert before["documents"] and before["determinations"]
    [after] = json.loads(run("--policies", root, "check", EX / "shiyan-household.yaml", "--json",
                             "--as-of", "2025-01-01").stdout)
    assert after["documents"] == [] and after["determinations"] == []
    assert [n["code"] for n in after["notices"]] == ["ended"]


GARBAGE_ARGS = [[], ["--bogus"], ["\x1b[2J", "\x00"], ["/nonexistent/file.yaml"], ["-"], ["--json", "--json", "x"],
                ["--as-of", "not-a-date", "x"], ["--format", "pdf", "x"], ["" * 3, "--lang", "fr"], ["a" * 5000]]


@pytest.mark.parametrize("command", list(_commands(main)), ids=" ".join)
def test_every_command_meets_garbage_arguments_without_a_traceback(command, tmp_path):
    for args in GARBAGE_ARGS:
        r = CliRunner().invoke(main, [*command, *args], input="{{{ not yaml")
        assert r.exception is None or isinstance(r.exception, SystemExit), (command, args, r.exception)
        assert "Traceback" not in r.output and r.exit_code != 3, (command, args, r.output)


def test_an_unexpected_error_is_one_line_a_log_file_and_exit_3(tmp_path, monkeypatch):
    from houfu.cli import commands as cli_module

    def boom(*_args, **_kwargs):
        raise RuntimeError("kaboom\x1b[2J")

    monkeypatch.setenv("HOUFU_LOG_DIR", str(tmp_path))
    monkeypatch.setattr(cli_module.query, "stats", boom)
    r = CliRunner().invoke(main, ["kb", "stats"])
    assert r.exit_code == 3
    [line] = [ln for ln in r.output.splitlines() if ln]
    assert line.startswith("internal error: RuntimeError: kaboom; please report it (details in ") and "\x1b" not in line  # the whole escape sequence goes
    [log] = list(tmp_path.glob("error-*.log"))
    assert "Traceback" in log.read_text(encoding="utf-8") and "kaboom" in log.read_text(encoding="utf-8")


@pytest.mark.parametrize("errno_name,internal", [("EPIPE", False), ("ESHUTDOWN", True)])
def test_only_a_closed_pipe_is_quiet_any_other_broken_pipe_is_an_internal_error(tmp_path, monkeypatch,
                                                                                 errno_name, internal):
    import errno

    from houfu.cli import commands as cli_module

    def broken(*_args, **_kwargs):
        raise BrokenPipeError(getattr(errno, errno_name), "Broken pipe")

    monkeypatch.setenv("HOUFU_LOG_DIR", str(tmp_path))
    monkeypatch.setattr(cli_module.query, "stats", broken)
    r = CliRunner().invoke(main, ["kb", "stats"])
    assert "Traceback" not in r.output
    assert (r.exit_code == 3 and "internal error: BrokenPipeError" in r.output) if internal else (
        r.exit_code != 3 and "internal error" not in r.output), r.output
    assert bool(list(tmp_path.glob("error-*.log"))) is internal


def test_questions_are_gated_by_what_is_known_of_each_person():
    [r] = json.loads(run("check", EX / "walk-in.yaml", "--json", "--as-of", "2026-01-01").stdout)
    asked = {q["fact"] for q in r["questions"]}
    child_jobs = {f"members[1].{f}" for f in ("wants_job", "employed", "employment", "wants_training",
                                             "recognized_employment_difficulty", "labor_capacity")}
    assert not asked & child_jobs, "a 10-year-old is not asked about work"
    assert "members[0].school_stage" not in asked, "a 72-year-old is not asked about school"
    assert "members[0].labor_capacity" in asked
    first = r["questions"][0]
    assert first["fact"] == "members[0].labor_capacity" and first["number"] == 1 and first["about"] == "陈老汉"
    assert [c["code"] for c in first["choices"]] == ["full", "partial", "none"]
    assert first["choices"][0]["zh"] == "完全" and first["zh"] and first["en"]
    keys = [(-q["decides"], q["number"] is not None) for q in r["questions"]]
    assert keys == sorted(keys), "most decisive first; at equal weight household facts before member facts"


def test_a_gated_question_returns_once_the_gate_is_open(tmp_path):
    f = tmp_path / "h.yaml"
    f.write_text("id: g\njurisdiction: shiyan\nmembers: [{name: 甲, age: 30, labor_capacity: full}]\n", encoding="utf-8")
    [r] = json.loads(run("check", f, "--json").stdout)
    assert "members[0].wants_job" in {q["fact"] for q in r["questions"]}
    f.write_text("id: g\njurisdiction: shiyan\nmembers: [{name: 甲, age: 30, labor_capacity: none}]\n", encoding="utf-8")
    [r] = json.loads(run("check", f, "--json").stdout)
    assert "members[0].wants_job" not in {q["fact"] for q in r["questions"]}


def test_a_letter_names_the_handling_office_with_its_basis_never_the_first_listed(tmp_path):
    f = tmp_path / "h.yaml"
    f.write_text("id: d\njurisdiction: dingnan\nsite_type: county_seat_centralized\nmeets_dibao_conditions: true\n"
                 "receives_dibao: false\n", encoding="utf-8")
    zh = run("brief", "household", f).output
    line = next(ln for ln in zh.splitlines() if ln.startswith("- 符合低保条件、还没有领取的,可以申请城乡低保"))
    assert "建议先到县民政局咨询。" in line and "个部门" not in zh
    assert "写“建议”的部门,是按部门职责给出的建议:文件本身没有指定办理部门" in zh
    en = run("brief", "household", f, "--lang", "en").output
    line = next(ln for ln in en.splitlines() if "dibao" in ln and "Suggested office" in ln)
    assert "Suggested office: County Civil Affairs Bureau." in line and "other departments" not in en


def test_only_a_document_that_names_a_one_stop_window_sends_people_to_one():
    assert "一站式" in run("brief", "household", EX / "dingnan-household.yaml").output
    shiyan = run("brief", "household", EX / "shiyan-household.yaml").output
    assert "一站式" not in shiyan and "可以问为您出具本告知书的工作人员" in shiyan
    town = run("brief", "household", EX / "dingnan-town-household.yaml").output
    assert "一站式" not in town and "不适用于您家" in town


def test_a_reader_that_stops_reading_ends_the_run_quietly(tmp_path):
    """``houfu check --json … | head``: the reader is gone before houfu writes. That is not houfu's error: no
    internal error, no log file, no traceback; click's own handler ends the run, as for a pipe closed later."""
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)  # the reader has gone
    env = {**os.environ, "HOUFU_LOG_DIR": str(tmp_path)}
    try:
        p = subprocess.run([sys.executable, "-m", "houfu", "check", str(EX / "dingnan-household.yaml"), "--json",
                            "--as-of", "2026-01-01"], stdout=write, stderr=subprocess.PIPE, env=env, timeout=120)
    finally:
        os.close(write)
    err = p.stderr.decode()
    assert p.returncode in (0, 1), err  # click's choice (1 from click 8.2 on), never 3
    assert "internal error" not in err and "Traceback" not in err and "Exception ignored" not in err, err
    assert not list(tmp_path.glob("error-*.log"))


def _python(code: str) -> str:
    """What a new Python process running ``code`` printed (it must succeed)."""
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.mark.parametrize("collecting", [True, False], ids=["collector on", "collector off"])
def test_the_command_line_loads_without_the_collector_and_leaves_it_as_it_found_it(collecting):
    """houfu.cli imports its modules with the cyclic collector off (a cold check spent about 30 ms collecting, issue
    25), then turns it on again; a caller who had turned it off finds it off. Importing it freezes nothing: a
    program's own objects stay collectable (a cycle made before the import is collected after it)."""
    code = ("import gc\n"
            f"{'' if collecting else 'gc.disable()'}\n"
            "class Cycle:\n"
            "    def __del__(self):\n"
            "        print('collected')\n"
            "c = Cycle()\n"
            "c.me = c\n"
            "import houfu.cli\n"
            "print(gc.isenabled(), gc.get_freeze_count())\n"
            "del c\n"
            "gc.collect()\n")
    assert _python(code).split() == [str(collecting), "0", "collected"]


def test_the_houfu_program_freezes_what_its_imports_made():
    """In houfu's own process (``run``: the ``houfu`` program and ``python -m houfu``), what the imports made is
    moved out of the collector's reach, so no collection walks it again."""
    code = ("import atexit, gc, sys\n"
            "from houfu.cli import run\n"
            "atexit.register(lambda: print(gc.get_freeze_count() > 10_000))\n"
            "sys.argv = ['houfu', '--version']\n"
            "run()\n")
    out = _python(code)
    assert out.split()[-1] == "True", out
