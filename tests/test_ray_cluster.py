"""The ray executor against a `ray start --head` cluster with Ray's token authentication, as docs/workshop.md says
to run one: a client with the token runs a job there; one without it gets one line saying what to set, exit code 2,
within seconds. Loopback only; the cluster is this test's own (its own port, temporary folder and token)."""

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


def run_there(address: str, env: dict, *extra: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    return subprocess.run([sys.executable, "-m", "mia_core", "run", "--preset", "overfit", "--epochs", "3",
                           "--shadows", "2", "--attacks", "shadow,loss", "--executor", "ray", "--ray-address", address,
                           "--quiet", *extra],
                          cwd=ROOT, env={**base, "RAY_USAGE_STATS_ENABLED": "0", **env}, capture_output=True,
                          text=True, timeout=600)


def test_a_client_without_the_token_is_told_what_to_set_in_one_line(cluster):
    address, _ = cluster
    start = time.monotonic()
    done = run_there(address, {})
    assert time.monotonic() - start < 30
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"python -m mia_core run: the Ray cluster at {address} uses token authentication: set RAY_AUTH_MODE=token "
        "and RAY_AUTH_TOKEN to its token (`ray get-auth-token` on its head node)"]


def test_a_client_with_a_wrong_token_is_told_so(cluster):
    address, _ = cluster
    done = run_there(address, {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": uuid.uuid4().hex})
    assert done.returncode == 2 and "refused this client's token" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_no_cluster_at_the_address_is_one_line_too():
    done = run_there(f"127.0.0.1:{free_port()}", {})
    assert done.returncode == 2 and "no Ray cluster answers" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_client_with_the_token_runs_its_job_on_the_cluster(cluster, tmp_path):
    address, token = cluster
    done = run_there(address, {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token}, "--json", str(tmp_path / "r.json"))
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["config"]["train"]["epochs"] == 3 and {"shadow", "loss"} <= set(result["attacks"])
