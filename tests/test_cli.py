"""The curvestat command: exit codes, JSON output, examples, error lines."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from curvestat import __version__
from curvestat.cli import main
from curvestat.examples import EXAMPLES


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_healthy_example_exits_0(capsys):
    assert main(["analyze", "--example", "healthy"]) == 0
    assert "healthy" in capsys.readouterr().out


def test_explosion_example_exits_1(capsys):
    assert main(["analyze", "--example", "explosion"]) == 1
    out = capsys.readouterr().out
    assert "explosion/non_finite" in out and "step 1610" in out


def test_examples_json_lists_every_example(capsys):
    code = main(["analyze", "--examples", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert [d["run_id"] for d in payload] == list(EXAMPLES)
    assert code == (0 if all(d["healthy"] for d in payload) else 1)


def test_json_output_for_a_file(tmp_path, capsys):
    p = tmp_path / "run.csv"
    p.write_text("step,loss\n0,1.0\n1,0.5\n2,nan\n")
    assert main(["analyze", str(p), "--json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["findings"][0]["onset_step"] == 2 and d["healthy"] is False


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["analyze", "does-not-exist.csv"], "no such file"),
        (["analyze", "--example", "nope"], "no example named"),
        (["analyze", "--example", "healthy", "--alpha", "3"], "alpha"),
        (["analyze", "--example", "healthy", "--steps-per-epoch", "0"], "steps_per_epoch"),
        (["analyze", "--example", "healthy", "--role", "broken"], "NAME=ROLE"),
        (["analyze", "--example", "healthy", "--role", "x=train_loss"], "absent series"),
    ],
)
def test_input_errors_exit_2_with_one_line(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err


def test_debug_shows_traceback(capsys):
    assert main(["--debug", "analyze", "does-not-exist.csv"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_empty_file_exits_2(tmp_path, capsys):
    p = tmp_path / "empty.csv"
    p.write_text("")
    assert main(["analyze", str(p)]) == 2
    assert "empty" in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "analyze" in capsys.readouterr().out


def test_console_script_runs_as_module():
    # the installed entry point and `python -m curvestat` share main()
    proc = subprocess.run([sys.executable, "-m", "curvestat", "analyze", "--example", "explosion"], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert "non_finite" in proc.stdout


def test_a_run_too_short_to_judge_is_not_healthy(tmp_path, capsys):
    p = tmp_path / "short.csv"
    p.write_text("step,loss\n0,1.0\n1,0.9\n2,0.8\n")
    assert main(["analyze", str(p)]) == 3
    out = capsys.readouterr().out
    assert "not judged" in out and "healthy" not in out.splitlines()[0]


def test_warnings_print_as_one_line(tmp_path, capsys):
    p = tmp_path / "dup.csv"
    rows = "".join(f"{i},{1.0 / (1 + i)}\n" for i in range(40))
    p.write_text("step,loss\n" + rows + "39,0.5\n")
    import warnings

    saved = warnings.showwarning
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            main(["analyze", str(p)])
            err = capsys.readouterr().err
            assert err.startswith("curvestat: warning: ") and err.count("\n") == 1
            main(["-q", "analyze", str(p)])
            assert capsys.readouterr().err == ""
    finally:
        warnings.showwarning = saved
