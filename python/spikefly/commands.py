"""`spikefly` commands run in this process: train, report, export, eval.

Each call runs the C command on a worker thread (the binding releases the
GIL), so Python stays responsive: Ctrl-C during `train` asks the run to
stop at its next piece of work, which leaves its last checkpoint for
`train(resume=...)`, and then raises KeyboardInterrupt. What the command
prints is forwarded to sys.stdout / sys.stderr (a notebook shows it); a
command that fails raises `SpikeflyError` (`ValueError` for bad input, exit
code 2) with the command's message.
"""
import configparser
import io
import os
import pathlib
import sys
import threading

from ._native import ffi, lib


class SpikeflyError(RuntimeError):
    """A command that started and failed (exit code 1)."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


class BadInputError(SpikeflyError, ValueError):
    """A command refused its input: options, config, files (exit code 2)."""


_TOP_LEVEL = {"seed", "device"}


def _key(section, name):
    return name if "." in name or name in _TOP_LEVEL else f"{section}.{name}"


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    return str(value)


def _overrides(section, keys):
    """{name: value} to `section.key=value` arguments; a name without a dot
    is taken as `section.name` (seed and device are top-level keys)."""
    return [f"{_key(section, k)}={_text(v)}" for k, v in keys.items()]


class _Forward:
    """For the duration of a command: the C side's stdout and stderr (file
    descriptors 1 and 2) go through pipes to Python's sys.stdout/stderr, and
    the last lines of stderr are kept for an exception's message."""

    def __init__(self):
        self.tail = []

    def _target(self, stream, fd):
        try:
            if stream.fileno() == fd:
                return None  # the real descriptor: write to the saved copy
        except (AttributeError, OSError, io.UnsupportedOperation, ValueError):
            pass
        return stream

    def _pump(self, rfd, saved, stream, keep):
        target = self._target(stream, saved[1])
        with os.fdopen(rfd, "rb", buffering=0) as r:
            while True:
                data = r.read(65536)
                if not data:
                    break
                if keep:
                    self.tail = (self.tail + data.decode(errors="replace").splitlines())[-40:]
                if target is None:
                    os.write(saved[0], data)
                else:
                    target.write(data.decode(errors="replace"))
                    target.flush()

    def __enter__(self):
        sys.stdout.flush()
        sys.stderr.flush()
        self.saved, self.threads = [], []
        for fd, stream, keep in ((1, sys.stdout, False), (2, sys.stderr, True)):
            r, w = os.pipe()
            copy = os.dup(fd)
            os.dup2(w, fd)
            os.close(w)
            self.saved.append((copy, fd))
            t = threading.Thread(target=self._pump, args=(r, (copy, fd), stream, keep), daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def __exit__(self, *exc):
        for copy, fd in self.saved:
            os.dup2(copy, fd)  # closes the pipe's write end held by fd: the pump sees its end
        for t in self.threads:
            t.join()
        for copy, _ in self.saved:
            os.close(copy)
        return False


# One command at a time in a process: they share file descriptors 1 and 2
# while their output is forwarded, and a stop request is process-wide.
_one_at_a_time = threading.Lock()


def run(command, *args):
    """Run `spikefly COMMAND ARGS...` in this process; returns 0 or raises.

    `BadInputError` (also a ValueError) for exit code 2, `SpikeflyError`
    for others, KeyboardInterrupt after Ctrl-C stopped a training run.
    Calls from several threads run one after the other."""
    with _one_at_a_time:
        return _run(command, args)


def _run(command, args):
    argv_text = ["spikefly", command, *(os.fspath(a) if isinstance(a, os.PathLike) else str(a) for a in args)]
    keep = [ffi.new("char[]", a.encode()) for a in argv_text]
    argv = ffi.new("char *[]", keep + [ffi.NULL])
    result = {}

    def work():
        result["code"] = lib.sf_py_command(len(keep), argv)

    interrupted = False
    with _Forward() as fwd:
        worker = threading.Thread(target=work, name=f"spikefly {command}", daemon=True)
        worker.start()
        while worker.is_alive():
            try:
                worker.join(0.1)
            except KeyboardInterrupt:
                interrupted = True
                lib.sf_py_request_stop()
    code = result.get("code", 1)
    if interrupted:
        raise KeyboardInterrupt(f"spikefly {command} stopped on request (exit code {code})")
    if code == 0:
        return 0
    # The engine's messages start with its name ("spikefly train: ..."); a
    # usage text may follow them.
    said = [line for line in fwd.tail if line.startswith("spikefly")]
    message = "\n".join(said[-3:] or fwd.tail[-8:]) or f"spikefly {command} failed (exit code {code})"
    if code == 2:
        raise BadInputError(message, code)
    raise SpikeflyError(message, code)


def train(config=None, out=None, *, resume=None, sweep=None, guide_mode=False, **keys):
    """Train as `spikefly train` does, in this process; returns the run
    directory (a pathlib.Path).

    config: an INI file (configs/*.ini or experiments/*.ini); out: the run
    directory (default runs/train); resume: an interrupted run's directory
    to continue (keys given with it, e.g. epochs=150, are written to its
    config); sweep: {key: [values]} trained side by side; keys: any config
    key, `train.` implied where the name has no dot (epochs=10, guide="pid",
    **{"model.slope": 5}). guide_mode=True runs `train-guide` instead.
    """
    args = []
    if config is not None:
        args += ["--config", config]
    if resume is not None:
        if out is not None:
            raise ValueError("train: give out or resume, not both (a resumed run keeps its directory)")
        args += ["--resume", resume]
    elif out is not None:
        args += ["--out", out]
    for k, values in (sweep or {}).items():
        vals = values if isinstance(values, (list, tuple)) else [values]
        args += ["--sweep", f"{_key('train', k)}={_text(list(vals))}"]
    args += _overrides("train", keys)
    run("train-guide" if guide_mode else "train", *args)
    if resume is not None:
        return pathlib.Path(resume)
    return pathlib.Path(out if out is not None else _config_out(config))


def _config_out(config):
    """The run directory a config names ([train] out), else the default."""
    if config is not None:
        ini = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#", ";"))
        try:
            ini.read(config)
            if ini.has_option("train", "out"):
                return ini.get("train", "out")
        except configparser.Error:
            pass
    return "runs/train"


def report(*run_dirs, out):
    """An experiment's figure and table (`spikefly report RUN_DIR... --out DIR`);
    returns the output directory."""
    if not run_dirs:
        raise ValueError("report: give one or more run directories")
    run("report", *run_dirs, "--out", out)
    return pathlib.Path(out)


def _embedded_sources():
    here = pathlib.Path(__file__).resolve().parent / "embedded"
    return str(here) if here.is_dir() else None


def export(checkpoint, out, format="int8", **keys):
    """Export a spiking actor as deployable C (`spikefly export`); returns the
    output directory. keys: export.* keys without the section (agent=1)."""
    keys = dict(keys)
    sources = _embedded_sources()
    if sources and "sources" not in keys:
        keys["sources"] = sources  # an installed package carries the module's sources
    run("export", checkpoint, "--format", format, "--out", out, *_overrides("export", keys))
    return pathlib.Path(out)


# eval's options that are environment keys.
_EVAL_ENV_KEYS = {"trajectory": "env.trajectory", "steps": "env.time_limit"}


def evaluate(checkpoint, **keys):
    """`spikefly eval CHECKPOINT` with its options as keys (episodes=100,
    trajectory="figure8", csv="flight.csv", agent=1); prints its figures."""
    keys = {_EVAL_ENV_KEYS.get(k, k): v for k, v in keys.items()}
    run("eval", checkpoint, *_overrides("eval", keys))
