"""Time to add one real regulation to the library, index included, and to remove it again.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_add.py [--data-dir ~/.cache/policyqa] [--member …]

Works on a fresh data folder: the model is hard-linked (or copied) from --data-dir, and so are that
folder's index of the bundled corpus and jieba cache when it has them (otherwise they are built
first and not timed),
so what is timed is what a user meets on a machine already in use: `policy-rag add FILE` from the
command line (a new process: corpus, model and index loaded, the document read and parsed, its new
passages embedded, the index rebuilt and switched), then `policy-rag remove`.
The document is read from ../shared/scale/laws-md.tar.xz (a 30-article regulation by default).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from machine import cpu_name

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ARCHIVE = Path(os.environ.get("POLICYQA_SHARED_DIR") or REPO.parent / "shared") / "scale" / "laws-md.tar.xz"
MEMBER = "DLC/上海地方法规/地方性法规/上海/上海市经济技术开发区条例.md"


def machine() -> str:
    cpu = cpu_name()
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.1f}"
    return f"{cpu}, {os.cpu_count()} cores{load}"


def link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def extract(archive: Path, member: str, folder: Path) -> Path:
    with tarfile.open(archive, mode="r:xz") as tar:
        for info in tar:
            if info.name.removeprefix("./") == member:
                target = folder / Path(member).name
                with tar.extractfile(info) as source:  # type: ignore[union-attr]
                    target.write_bytes(source.read())
                return target
    raise SystemExit(f"{member} is not in {archive}")


def run(*args: str, data_dir: Path) -> tuple[float, subprocess.CompletedProcess]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", POLICYQA_DATA_DIR=str(data_dir))
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=REPO, env=env, capture_output=True,
                            text=True, encoding="utf-8", check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"policy-rag {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return elapsed, result


def main() -> None:
    from rag.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Settings.from_env().data_dir,
                        help="where the model (and an index of the bundled corpus) already are")
    parser.add_argument("--archive", type=Path, default=ARCHIVE)
    parser.add_argument("--member", default=MEMBER, help="the document in the archive")
    args = parser.parse_args()

    usual = Settings.from_env(data_dir=args.data_dir)
    with tempfile.TemporaryDirectory(prefix="policyqa-bench-add-") as tmp:
        data = Path(tmp) / "data"
        if usual.models_dir.is_dir():
            shutil.copytree(usual.models_dir, data / "models", copy_function=link_or_copy)
        fresh = Settings.from_env(data_dir=data)
        if usual.index_dir.is_dir():
            shutil.copytree(usual.index_dir, fresh.index_dir, copy_function=link_or_copy)
        if usual.jieba_dir.is_dir():
            shutil.copytree(usual.jieba_dir, fresh.jieba_dir, copy_function=link_or_copy)
        index_s, _ = run("index", data_dir=data)
        document = extract(args.archive, args.member, Path(tmp))
        articles = len(re.findall(r"(?m)^第[一二三四五六七八九十百零〇]+条", document.read_text(encoding="utf-8")))
        size_kib = document.stat().st_size / 1024
        add_s, added = run("add", str(document), data_dir=data)
        embedded = max((int(n) for n in re.findall(r"Embedding (\d+) texts", added.stderr)), default=0)
        updated = next((line for line in added.stdout.splitlines() if line.startswith("index updated")), "")
        title = re.search(r"(?m)^  title +(\S+)", added.stdout)
        again_s, _ = run("add", str(document), data_dir=data)
        remove_s, removed = run("remove", title.group(1) if title else document.stem, data_dir=data)

    print(f"machine: {machine()}")
    print(f"document: {args.member} ({articles} articles, {size_kib:.0f} KiB)")
    print(f"policy-rag index (nothing to change, the process and model start): {index_s:.1f} s")
    print(f"policy-rag add (index included, new process): {add_s:.1f} s; {embedded} passages embedded; {updated}")
    print(f"policy-rag add of the same document again (reported as present): {again_s:.1f} s")
    print(f"policy-rag remove (index included): {remove_s:.1f} s; {removed.stdout.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
