"""The ray executor against a `ray start --head` cluster with Ray's token authentication, as docs/workshop.md says
to run one: a client with the token runs a job there; one without it gets one line saying what to set, exit code 2,
within seconds; a sweep's points run there with the numbers they have in one process. Loopback only; the cluster is this test's own (its own port, temporary folder and token)."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from mia_core.experiment.reproduce import read_csv

pytest.importorskip("ray")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
RAY = Path(sys.executable).with_name("ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    """A one-CPU head node on 127.0.0.1 with token authentication: its address and token."""
    token, port = uuid.uuid4().hex, free_port()
    temp = tempfile.mkdtemp(prefix="mia-ray-", dir="/tmp")  # short: Ray's socket paths must fit in 107 characters
    env = {**os.environ, "TMPDIR": temp, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token,
           "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
    head = subprocess.Popen([str(RAY), "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port",
                             str(port), "--num-cpus", "1", "--include-dashboard", "false", "--disable-usage-stats"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert head.poll() is None and time.monotonic() < deadline, "the head node did not start"
                time.sleep(0.5)
        yield f"127.0.0.1:{port}", token
    finally:
        os.killpg(head.pid, signal.SIGTERM)  # the head node's processes: `ray start` and what it started
        try:
            head.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):  # those that outlive it: `ray start --block` does
            os.killpg(head.pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


def command(address: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "mia_core", *args, "--executor", "ray", "--ray-address", address, "--quiet"]


RUN = ("run", "--preset", "overfit", "--epochs", "3", "--shadows", "2", "--attacks", "shadow,loss")
SWEEP = ("sweep", "--grid", "dropout=0,0.5", "--grid", "epochs=3", "--grid", "train_size=60", "--shadows", "1",
         "--attacks", "loss")


def started(cmd: list[str], env: dict) -> tuple[subprocess.Popen, float]:
    """`cmd` started (the client's own RAY_ variables only, as on a machine that never ran Ray), and when."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    return subprocess.Popen(cmd, cwd=ROOT, env={**base, "RAY_USAGE_STATS_ENABLED": "0", **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), time.monotonic()


@pytest.fixture(scope="module")
def refused(cluster) -> dict[str, tuple[int, str, float]]:
    """Three clients the cluster (or an address without one) turns away, started at once: each one's exit code,
    standard error and seconds."""
    address, _ = cluster
    clients = {"no token": started(command(address, *RUN), {}),
               "wrong token": started(command(address, *RUN), {"RAY_AUTH_MODE": "token",
                                                               "RAY_AUTH_TOKEN": uuid.uuid4().hex}),
               "no cluster": started(command(f"127.0.0.1:{free_port()}", *RUN), {})}
    ended = {}
    for name, (proc, start) in clients.items():
        _, stderr = proc.communicate(timeout=600)
        ended[name] = proc.returncode, stderr, time.monotonic() - start
    return ended


def test_a_client_without_the_token_is_told_what_to_set_in_one_line(refused, cluster):
    code, stderr, seconds = refused["no token"]
    assert seconds < 30
    assert code == 2
    assert stderr.strip().splitlines() == [
        f"python -m mia_core run: the Ray cluster at {cluster[0]} uses token authentication: set RAY_AUTH_MODE=token "
        "and RAY_AUTH_TOKEN to its token (`ray get-auth-token` on its head node)"]


def test_a_client_with_a_wrong_token_is_told_so(refused):
    code, stderr, _ = refused["wrong token"]
    assert code == 2 and "refused this client's token" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_no_cluster_at_the_address_is_one_line_too(refused):
    code, stderr, _ = refused["no cluster"]
    assert code == 2 and "no Ray cluster answers" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_a_client_with_the_token_runs_a_sweep_there_with_the_numbers_of_one_process(cluster, tmp_path):
    """A sweep's points as jobs on the cluster, and the same sweep in the command's own process (test_jobs checks
    that one process and worker processes give the same numbers), at once: the same rows."""
    address, token = cluster
    out = {executor: tmp_path / f"{executor}.csv" for executor in ("ray", "inline")}
    on_ray, _ = started(command(address, *SWEEP, "--out", str(out["ray"])),
                        {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token, "MIA_JOBS_DIR": str(tmp_path / "ray")})
    here = subprocess.run([sys.executable, "-m", "mia_core", *SWEEP, "--out", str(out["inline"]), "--executor",
                           "inline", "--quiet"], env={**os.environ, "MIA_JOBS_DIR": str(tmp_path / "inline")},
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
    _, stderr = on_ray.communicate(timeout=600)
    assert on_ray.returncode == 0, stderr[-2000:]
    assert here.returncode == 0, here.stderr[-2000:]
    rows = {executor: [{k: r[k] for k in ("dropout", "epochs", "test_accuracy", "loss_auc")} for r in read_csv(path)]
            for executor, path in out.items()}
    assert rows["ray"] == rows["inline"] and [r["dropout"] for r in rows["ray"]] == [0.0, 0.5]
