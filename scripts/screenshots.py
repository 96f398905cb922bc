"""Take the README screenshots: the first screen and an answered question.

    .venv/bin/python scripts/screenshots.py                    # starts `policy-rag serve` itself
    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:7860   # or uses a running server

Needs Debian's chromium (bash scripts/setup.sh --test) and, for Chinese text, a CJK font
(apt-get install fonts-noto-cjk). Writes docs/screenshot-first-screen.png and docs/screenshot-answer.png.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
QUESTION = "四川推动“一区多园”、整合托管产业园区，牵头单位是哪个？"
VIEWPORT = {"width": 1400, "height": 900}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running `policy-rag serve` (default: start one on a free port)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNG files (default docs/)")
    parser.add_argument("--question", default=QUESTION, help="the question for the answer screenshot")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args()

    server = None
    url = args.url
    if url is None:
        server, url = start_server()
    try:
        take(url.rstrip("/"), args.out, args.question, args.chromium)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    return 0


def start_server() -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    script = Path(sys.executable).with_name("policy-rag")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "ui.cli"]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    print(f"starting policy-rag serve on port {port} (the first start builds the model and index) ...")
    process = subprocess.Popen([*command, "serve", "--port", str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"policy-rag serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/config", timeout=5):
                return process, url
        except OSError:
            time.sleep(1)
    process.terminate()
    raise SystemExit("policy-rag serve did not answer in 15 minutes")


def take(url: str, out: Path, question: str, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="zh-CN", viewport=VIEWPORT)
        page.goto(url)
        page.wait_for_selector("#question textarea")
        page.wait_for_timeout(500)
        first = out / "screenshot-first-screen.png"
        page.screenshot(path=str(first))
        print(f"wrote {first}")

        page.fill("#question textarea", question)
        page.press("#question textarea", "Enter")
        page.wait_for_selector("#sources .turn-sources.latest .source-card", timeout=120_000)
        page.wait_for_timeout(800)  # let the streamed answer settle
        page.evaluate("() => window.scrollTo(0, 0)")
        answer = out / "screenshot-answer.png"
        page.screenshot(path=str(answer))
        print(f"wrote {answer}")
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
