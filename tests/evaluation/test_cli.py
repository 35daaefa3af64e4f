import json

from evaluation.cli import main

NAVAB_EXPORT = ["export-tasks", "--benchmark", "navab"]


def test_export_tasks_writes_configs_and_a_readme(tiny_release, tmp_path, capsys):
    assert main([*NAVAB_EXPORT, str(tiny_release), str(tmp_path), "--methods", "mc"]) == 0
    assert (tmp_path / "navab_mc_cn_quoted.yaml").exists()
    assert "lm_eval" in (tmp_path / "README.md").read_text()
    assert "mc: 10 task(s)" in capsys.readouterr().out


def test_export_tasks_with_answers_adds_judge_tasks(tiny_release, tmp_path):
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"uid": "uk-quoted-00", "answer": "Yes."}) + "\n")
    out = tmp_path / "tasks"
    assert main([*NAVAB_EXPORT, str(tiny_release), str(out), "--answers", str(answers)]) == 0
    assert [p.name for p in out.glob("navab_aj_uk*.yaml") if "gen" not in p.name] == [
        "navab_aj_uk_quoted.yaml"
    ]


def test_run_reports_bad_input_without_a_traceback(tiny_release, tmp_path, capsys):
    argv = ["run", "--benchmark", "navab", "--model", "org/model"]
    code = main([*argv, "--release", str(tiny_release), "--out", str(tmp_path)])
    assert code == 2
    assert "40-character commit" in capsys.readouterr().err


def test_export_tasks_takes_any_benchmark_and_its_slices(tmp_path, capsys):
    from evaluation.benchmarks import get_benchmark
    from evaluation.benchmarks.divervalue.release import load_items, write_items

    release = tmp_path / "dvb"
    write_items(release, load_items(get_benchmark("divervalue").demo_dir))
    out = tmp_path / "tasks"
    argv = ["export-tasks", "--benchmark", "divervalue", str(release), str(out)]
    assert main([*argv, "--slice", "split=test"]) == 0
    assert "opa: 1 task(s): divervalue_opa" in capsys.readouterr().out
    assert (out / "divervalue_opa.yaml").is_file()
    assert main([*argv, "--methods", "mc"]) == 2
    assert "unknown method(s) mc" in capsys.readouterr().err
