"""The interview, end to end in a pseudo-terminal (pexpect), and its rules through CliRunner."""

from __future__ import annotations

import sys
from pathlib import Path

import pexpect
import yaml
from click.testing import CliRunner

from houfu.cli.commands import main

HOUFU = str(Path(sys.executable).with_name("houfu"))
EX = Path(__file__).resolve().parents[1] / "examples"


def _household(tmp_path: Path) -> Path:
    f = tmp_path / "h.yaml"
    f.write_text("# 窗口登记\nid: w1  # 来访编号\njurisdiction: shiyan\nmembers:\n  - {name: 甲, age: 40}\n",
                 encoding="utf-8")
    return f


def test_a_scripted_session_with_bad_answers_and_chinese_choices(tmp_path: Path) -> None:
    f, out = _household(tmp_path), tmp_path / "answered.yaml"
    child = pexpect.spawn(HOUFU, ["check", str(f), "--ask", "--save", str(out), "--as-of", "2026-01-01"],
                          encoding="utf-8", timeout=30, cwd=str(tmp_path))
    child.expect("甲: 有没有劳动能力")
    child.expect("1 完全 \\(full\\)  2 部分 \\(partial\\)  3 没有 \\(none\\)")
    child.sendline("很强")  # not a choice: re-prompted with the reason, nothing lost
    child.expect("not accepted: choose one of: 1 完全")
    child.expect("甲: 有没有劳动能力")
    child.sendline("完全")  # the Chinese label
    child.expect("安置在哪类安置点")
    child.sendline("")  # blank skips
    child.expect("甲: 现在有没有工作")
    child.sendline("否")
    child.expect("甲: 想不想找工作")
    child.sendline("9")  # out of range
    child.expect("not accepted")
    child.sendline("2")  # the number: 县内 (local)
    child.expect("家庭是脱贫户")
    child.sendline("q")
    child.expect("3 question\\(s\\) answered")
    child.expect(f"saved to {out}")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    saved = out.read_text(encoding="utf-8")
    assert "# 窗口登记" in saved and "# 来访编号" in saved, "the original's comments are kept"
    member = yaml.safe_load(saved)["members"][0]
    assert member == {"name": "甲", "age": 40, "labor_capacity": "full", "employed": False, "wants_job": "local"}


def test_ctrl_d_ends_cleanly_and_still_saves(tmp_path: Path) -> None:
    f, out = _household(tmp_path), tmp_path / "answered.yaml"
    child = pexpect.spawn(HOUFU, ["check", str(f), "--ask", "--save", str(out)], encoding="utf-8", timeout=30)
    child.expect("有没有劳动能力")
    child.sendline("部分")
    child.expect(r"\[2\]")
    child.sendeof()
    child.expect("1 question\\(s\\) answered")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["members"][0]["labor_capacity"] == "partial"


def test_prompts_go_to_stderr_and_the_result_to_stdout(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["check", str(_household(tmp_path)), "--ask"], input="完全\nq\n")
    assert r.exit_code == 0
    assert "有没有劳动能力" in r.stderr and "有没有劳动能力" not in r.stdout
    assert r.stdout.startswith("Household w1")


def test_an_unknown_member_list_is_a_sub_interview(tmp_path: Path) -> None:
    f = tmp_path / "h.yaml"
    f.write_text("id: w2\njurisdiction: shiyan\n", encoding="utf-8")
    out = tmp_path / "out.yaml"
    r = CliRunner().invoke(main, ["check", str(f), "--ask", "--save", str(out)], input="two\n2\n70\n12\nq\n")
    assert r.exit_code == 0 and "not accepted: give how many" in r.stderr
    members = yaml.safe_load(out.read_text(encoding="utf-8"))["members"]
    assert [m.get("age") for m in members] == [70, 12]


def test_ask_refuses_a_batch_and_a_missing_file_in_one_line(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["check", str(EX / "batch-households.yaml"), "--ask"])
    assert r.exit_code == 2 and "--ask interviews one household; the file holds 3" in r.output
    r = CliRunner().invoke(main, ["check", str(tmp_path / "nope.yaml"), "--ask"])
    assert r.exit_code == 2 and "cannot read file" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["check", str(EX / "walk-in.yaml"), "--save", str(tmp_path / "x.yaml")])
    assert r.exit_code == 2 and "--save goes with --ask" in r.output


def test_a_page_s_batch_of_answers_sets_the_good_skips_the_blank_and_keeps_out_the_wrong() -> None:
    """``apply_answers``, as the interview page uses it: three answers at a time."""
    import houfu
    from houfu.present.interview import apply_answers

    kb = houfu.load()
    raw = {"id": "w1", "jurisdiction": "dingnan", "members": [{"name": "甲", "age": 30}]}
    asked = {q.fact: q for q in houfu.check(raw).questions}
    given = [("members[0].labor_capacity", "完全"), ("hukou_at_site", " "), ("members[0].disability", "很强"),
             ("not_asked", "是")]
    answered, skipped, problems = apply_answers(raw, asked, given, kb)
    assert answered["members"][0]["labor_capacity"] == "full"
    assert "disability" not in answered["members"][0] and "not_asked" not in answered
    assert skipped == ["hukou_at_site"]
    assert list(problems) == ["members[0].disability"] and problems["members[0].disability"].code == "yes_no"
    assert raw["members"][0] == {"name": "甲", "age": 30}  # the record given is unchanged


def test_ask_ends_with_the_action_summary_that_check_gives_for_the_same_answers(tmp_path: Path) -> None:
    f, out = _household(tmp_path), tmp_path / "answered.yaml"
    r = CliRunner().invoke(main, ["check", str(f), "--ask", "--save", str(out), "--as-of", "2026-01-01"],
                           input="完全\nq\n")
    assert r.exit_code == 0, r.output
    asked = r.stdout
    assert "DO THESE FIRST" in asked and "DO THESE FIRST" not in r.stderr
    again = CliRunner().invoke(main, ["check", str(out), "--as-of", "2026-01-01"])
    summary = again.stdout.split("DO THESE FIRST")[1].split("\n\n")[0]
    assert summary.strip() and summary in asked.split("DO THESE FIRST")[1]
    english = CliRunner().invoke(main, ["check", str(f), "--ask", "--lang", "en", "--as-of", "2026-01-01"],
                                 input="q\n")
    in_english = english.stdout.split("DO THESE FIRST")[1].split("\n\n")[0]
    assert in_english.strip() and in_english != asked.split("DO THESE FIRST")[1].split("\n\n")[0]  # --lang en
