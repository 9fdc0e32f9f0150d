"""A two-node Ray cluster on loopback (`ray start` twice); a worker SIGKILLed mid-unit.

The cluster's processes are this test's own: `ray start` runs in a new session, so its daemons
share its process group, and the workers (their own groups) are the raylets' children. The
fixture kills exactly those processes at the end instead of `ray stop --force`, which would stop
every Ray instance on the machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.store import read_result

REPO = Path(__file__).resolve().parent.parent
MODEL = "minilm-l3-onnx"
# ~13 s of single-thread work in five units (LeeBackgroundLeadRetrieval alone takes ~5 s)
TASKS = "LeeBackgroundLeadRetrieval,MiniNewsgroupsClassification,MiniNewsgroupsSubjectRetrieval,WordSim353,PangLeePolarity"
ENV = {**os.environ, "RAY_AUTH_MODE": "disabled"}  # Ray 2.60: a joining node fails with InvalidAuthToken otherwise


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, process group, command line) of every process (Linux /proc)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), int(fields[2]), cmdline)
    return table


def cluster_processes(groups: list[int]) -> dict[int, str]:
    """The processes in ``groups`` and all their descendants: pid -> command line."""
    table = processes()
    found = {pid for pid, (_, group, _) in table.items() if group in groups}
    while True:
        more = {pid for pid, (parent, _, _) in table.items() if parent in found} - found
        if not more:
            return {pid: table[pid][2] for pid in found}
        found |= more


def ray_command() -> list[str]:
    script = Path(sys.executable).with_name("ray")
    return [str(script)] if script.exists() else [shutil.which("ray") or "ray"]


@pytest.fixture
def cluster() -> Iterator[tuple[str, list[int]]]:
    """A head and a second node, one CPU each: (address, process groups of the cluster)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("ray is not installed; CI installs it through the test extra")
        pytest.skip("ray is not installed (pip install -e .[ray])")
    temp = tempfile.mkdtemp(prefix="hr", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    port = free_port()
    address = f"127.0.0.1:{port}"
    groups: list[int] = []

    def start(*args: str) -> None:
        process = subprocess.Popen(
            [*ray_command(), "start", "--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV, start_new_session=True,
        )
        groups.append(process.pid)
        output, _ = process.communicate(timeout=180)
        assert process.returncode == 0, output

    try:
        start("--head", "--port", str(port), "--temp-dir", temp, "--include-dashboard=false",
              "--dashboard-port", str(free_port()))
        start("--address", address)
        wait = "import ray, time\nray.init(address=%r, log_to_driver=False)\n" \
               "while sum(n['Alive'] for n in ray.nodes()) < 2: time.sleep(0.2)\n" % address
        subprocess.run([sys.executable, "-c", wait], env=ENV, timeout=120, check=True, capture_output=True)
        yield address, groups
    finally:
        for pid in cluster_processes(groups):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(temp, ignore_errors=True)


def valid_store(results: Path) -> dict[str, tuple[dict, dict]]:
    """Every file of the store reads back valid: key -> (scores, per-item arrays)."""
    out = {}
    for path in results.rglob("*.json"):
        stored = read_result(path)  # raises StoreError on a corrupt file or a mismatched items file
        out[f"{stored.model_name}/{stored.task_name}"] = (stored.scores(), {k: v.tolist() for k, v in stored.items().items()})
    return out


def run_cli(results: Path, cache: Path, *extra: str, env: dict[str, str] = ENV) -> subprocess.Popen:
    command = [sys.executable, str(REPO / "run_benchmark.py"), "run", "--tasks", TASKS, "--models", MODEL,
               "--results", str(results), "--cache-dir", str(cache), "--no-report", *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.slow
def test_worker_killed_mid_unit_retries_and_scores_match_local(cluster: tuple[str, list[int]], tmp_path: Path) -> None:
    address, groups = cluster
    reference = run_cli(tmp_path / "local", tmp_path / "c0", env={**ENV, "HARNESS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    driver = run_cli(tmp_path / "ray", tmp_path / "c1", "--executor", "ray", "--ray-address", address)

    victim, deadline = None, time.monotonic() + 120
    while victim is None and time.monotonic() < deadline and driver.poll() is None:
        running = [pid for pid, command in cluster_processes(groups).items() if command.startswith("ray::Replica.run_unit")]
        if running:
            time.sleep(1.0)  # well inside the unit: model loaded, texts being encoded
            victim = running[0]
            os.kill(victim, signal.SIGKILL)
        else:
            time.sleep(0.05)
    _, err = driver.communicate(timeout=300)
    _, reference_err = reference.communicate(timeout=300)
    assert victim is not None, err
    assert reference.returncode == 0, reference_err
    assert driver.returncode == 0, err

    retries = [line for line in err.splitlines() if line.startswith("retry")]
    assert len(retries) == 1 and "lost" in retries[0] and "on node " in retries[0], err
    done = [line for line in err.splitlines() if line.startswith("done")]
    assert len(done) == 5, err
    assert len({line.rsplit("[node ", 1)[1] for line in done}) == 2, err  # both nodes ran units
    assert "run: 5 done" in err
    assert valid_store(tmp_path / "ray") == valid_store(tmp_path / "local")
    assert not list((tmp_path / "ray").rglob(".*.tmp"))  # the killed writer's temporary file, if any, is swept
