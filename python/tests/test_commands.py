"""train, report, export and evaluate in this process; Ctrl-C during train;
bad input as Python exceptions; the installed package."""
import csv
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import spikefly
from conftest import ROOT, TINY


def rows(run):
    with open(run / "progress.csv") as f:
        return list(csv.DictReader(f))


def test_train_returns_its_run_directory_with_the_records(trained):
    got = rows(trained)
    assert [int(r["epoch"]) for r in got] == [1, 2, 3, 4]
    assert (trained / "summary.csv").is_file() and (trained / "config.ini").is_file()
    config = (trained / "config.ini").read_text()
    assert "train.hidden = 64,32" in config and "train.guide = pid" in config


def test_train_sweep_and_printed_output(tmp_path, capfd):
    run = spikefly.train(out=tmp_path / "sweep", sweep={"seed": [1, 2]}, **{**TINY, "epochs": 2})
    assert sorted({r["agent"] for r in rows(run)}) == ["0", "1"]
    out = capfd.readouterr()
    assert "run directory" in out.out  # the C side's output reaches Python's streams


def test_bad_input_raises_value_errors_naming_the_problem(tmp_path):
    with pytest.raises(ValueError, match="train.no_such_key"):
        spikefly.train(out=tmp_path / "bad", guide="pid", no_such_key=1)
    with pytest.raises(spikefly.BadInputError, match="epochs"):
        spikefly.train(out=tmp_path / "bad2", guide="pid", epochs=0)
    with pytest.raises(ValueError, match="missing.ini"):
        spikefly.train(config=tmp_path / "missing.ini", out=tmp_path / "bad3")
    assert not (tmp_path / "bad").exists() and not (tmp_path / "bad2").exists()
    with pytest.raises(ValueError, match="unknown command"):
        spikefly.run("no-such-command")


def test_report_export_and_evaluate(trained, tmp_path, capfd):
    out = spikefly.report(trained, out=tmp_path / "report")
    assert any(out.glob("*.md")) and any(out.glob("*.csv"))
    ctrl = spikefly.export(trained / "checkpoint.safetensors", tmp_path / "ctrl", format="int8")
    assert (ctrl / "sf_ctrl.c").is_file() or any(ctrl.glob("*.h"))
    spikefly.evaluate(trained / "checkpoint.safetensors", episodes=4, trajectory="circle")
    assert "trajectory circle" in capfd.readouterr().out


def test_ctrl_c_stops_training_leaving_a_resumable_run(tmp_path):
    """Ctrl-C (SIGINT) while spikefly.train runs: KeyboardInterrupt once the
    run stopped at its next piece of work; train(resume=...) then finishes
    it, every epoch recorded once."""
    run = tmp_path / "long"
    script = textwrap.dedent(f"""
        import spikefly
        spikefly.train(out={str(run)!r}, guide="pid", epochs=400, envs=8, collect_steps=200, updates=20,
                       batch=8, eval_every=1, eval_episodes=4, hidden=[32, 16])
    """)
    env = dict(os.environ)
    child = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and child.poll() is None:
        if (run / "progress.csv").is_file() and len(rows(run)) >= 3:
            break
        time.sleep(0.1)
    assert child.poll() is None, child.communicate()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert child.returncode != 0
    assert "KeyboardInterrupt" in err and "stopped on request" in err, err[-2000:]
    kept = [int(r["epoch"]) for r in rows(run)]
    assert 3 <= len(kept) < 400
    spikefly.train(resume=run, epochs=kept[-1] + 2)
    assert [int(r["epoch"]) for r in rows(run)] == list(range(1, kept[-1] + 3))
    assert (run / "summary.csv").is_file()


def test_installed_package_imports_from_site_packages(tmp_path):
    """The package as `pip install .` (scripts/setup.sh) put it in the
    project's environment: imported from site-packages with its own library,
    its `spikefly` program beside the interpreter."""
    venv = pathlib.Path(os.environ.get("SF_PYENV", ROOT / ".venv"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SPIKEFLY_LIB")}
    code = ("import spikefly, numpy as np; e = spikefly.VecEnv(3); e.reset(); "
            "e.step(np.zeros((3, 4), np.float32)); print(spikefly.LIB_PATH, spikefly.__version__)")
    r = subprocess.run([str(venv / "bin" / "python"), "-c", code], cwd=tmp_path, env=env, capture_output=True,
                       text=True)
    assert r.returncode == 0, f"spikefly is not installed in {venv} (bash scripts/setup.sh installs it):\n{r.stderr}"
    lib, version = r.stdout.split()
    assert "site-packages" in lib and version == spikefly.__version__
    prog = subprocess.run([str(venv / "bin" / "spikefly"), "--version"], capture_output=True, text=True)
    assert prog.returncode == 0 and version in prog.stdout
