"""Start and stop real `policy-rag serve` processes (and nginx in front of several) for bench_load.py.

Everything listens on 127.0.0.1 only. The nginx configuration is deploy/nginx-policyqa.conf, the
same file docs/deployment.md shows, with its upstream ports and paths filled in.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = REPO / "deploy" / "nginx-policyqa.conf"
READY_TIMEOUT_S = 900.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mib(pid: int) -> float | None:
    """Resident memory of a process in MiB (None once it has exited)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def wait_until_up(url: str, process: subprocess.Popen, log_path: Path, timeout: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url + "/config", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s (log: {log_path})")


@dataclass
class Served:
    """The URL clients use, and the processes behind it (serve workers first, then nginx if any)."""

    url: str
    workers: list[subprocess.Popen]
    proxy: subprocess.Popen | None = None
    folder: Path = field(default_factory=Path)
    worker_urls: list[str] = field(default_factory=list)

    @property
    def worker_pids(self) -> list[int]:
        return [p.pid for p in self.workers]

    def stop(self) -> None:
        for process in [*self.workers, *([self.proxy] if self.proxy else [])]:
            if process.poll() is None:
                process.terminate()
        for process in [*self.workers, *([self.proxy] if self.proxy else [])]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def serve_command() -> list[str]:
    return [sys.executable, "-m", "ui.cli", "serve"]


def start(data_dir: Path, workers: int = 1, serve_args: list[str] | None = None) -> Served:
    """`workers` serve processes on free loopback ports sharing data_dir; nginx in front when more than one."""
    folder = Path(tempfile.mkdtemp(prefix="policyqa-load-"))
    env = dict(os.environ, HF_HUB_OFFLINE="1", POLICYQA_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1",
               GRADIO_ANALYTICS_ENABLED="False",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    ports = [free_port() for _ in range(workers)]
    processes: list[subprocess.Popen] = []
    served = Served("", processes, folder=folder, worker_urls=[f"http://127.0.0.1:{port}" for port in ports])
    try:
        for port in ports:
            log_path = folder / f"serve-{port}.log"
            with open(log_path, "wb") as log:
                processes.append(subprocess.Popen(
                    [*serve_command(), "--port", str(port), *(serve_args or [])],
                    stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO))
        for port, process in zip(ports, processes, strict=True):
            wait_until_up(f"http://127.0.0.1:{port}", process, folder / f"serve-{port}.log")
        if workers == 1:
            served.url = f"http://127.0.0.1:{ports[0]}"
        else:
            served.proxy, served.url = start_nginx(ports, folder)
    except BaseException:
        served.stop()
        raise
    return served


def start_nginx(ports: list[int], folder: Path) -> tuple[subprocess.Popen, str]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise RuntimeError("nginx is not installed; on Debian: apt-get install nginx")
    listen = free_port()
    site = NGINX_TEMPLATE.read_text(encoding="utf-8")
    site = site.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{listen};")
    servers = "\n".join(f"    server 127.0.0.1:{port};" for port in ports)
    site = site.replace("    server 127.0.0.1:7861;\n    server 127.0.0.1:7862;", servers)
    if str(listen) not in site or all(str(p) not in site for p in ports):
        raise RuntimeError(f"{NGINX_TEMPLATE} no longer has the lines this benchmark replaces")
    (folder / "nginx-temp").mkdir()
    conf = folder / "nginx.conf"
    conf.write_text(
        "daemon off;\nworker_processes 1;\n"
        f"pid {folder}/nginx.pid;\nerror_log {folder}/nginx-error.log warn;\n"
        "events { worker_connections 4096; }\n"
        "http {\n"
        f"  access_log off;\n  client_body_temp_path {folder}/nginx-temp/body;\n"
        f"  proxy_temp_path {folder}/nginx-temp/proxy;\n"
        + site + "\n}\n",
        encoding="utf-8",
    )
    log_path = folder / "nginx.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(folder)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{listen}"
    wait_until_up(url, process, log_path, timeout=30)
    return process, url
