"""The index folder on disk: manifest checks, plain-language errors, incremental and crash-safe builds."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from test_index_fakes import ITEMS, FakeEmbedder

from index.build import build_index
from index.errors import IndexStateError, ModelError
from index.manifest import FORMAT_VERSION, sha256_file
from index.store import (
    CURRENT_NAME,
    LOCK_NAME,
    is_current,
    load_index,
    read_manifest,
    remove_leftovers,
)
from index.tokenize import TokenizerConfig

QUERIES = ["公园里的桃花", "红烧肉", "地铁什么时候通车？", "python data", "图书馆晚上开放吗"]
MODES = ("hybrid", "dense", "sparse")
TESTS_DIR = Path(__file__).resolve().parent
REPO_DIR = TESTS_DIR.parent


@pytest.fixture(scope="module")
def jieba_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("jieba")


@pytest.fixture
def build(jieba_cache):
    def build_(root, items=ITEMS, embedder=None, corpus_hash="corpus-1", **options):
        embedder = embedder or FakeEmbedder()
        return build_index(root, items, embedder, corpus_hash, tokenizer_cache_dir=jieba_cache, **options)

    return build_


@pytest.fixture
def load(jieba_cache):
    def load_(root, embedder=None, expected_corpus_hash=None):
        return load_index(root, embedder or FakeEmbedder(), expected_corpus_hash, tokenizer_cache_dir=jieba_cache)

    return load_


def answers(index, k=5):
    return {mode: index.search_many(QUERIES, k, mode) for mode in MODES}


def current_folder(root: Path) -> Path:
    return root / "versions" / (root / CURRENT_NAME).read_text().strip()


def changed(items, **texts):
    return [(item_id, texts.get(item_id, text)) for item_id, text in items]


# Saving and loading.


def test_a_loaded_index_answers_exactly_like_the_built_one(tmp_path, build, load):
    built = build(tmp_path)
    loaded = load(tmp_path, expected_corpus_hash="corpus-1")
    assert answers(loaded) == answers(built)
    assert answers(loaded, k=100) == answers(built, k=100)
    assert loaded.ids == built.ids


def test_an_hnsw_index_round_trips(tmp_path, build, load):
    built = build(tmp_path, dense_kind="hnsw")
    assert answers(load(tmp_path)) == answers(built)
    assert read_manifest(tmp_path).dense_kind == "hnsw"


def test_the_manifest_describes_the_index(tmp_path, build):
    build(tmp_path, tokenizer_config=TokenizerConfig(user_words=("桃花",)))
    folder = current_folder(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["model_id"] == "fake-ngram-64" and manifest["dimension"] == 64
    assert manifest["corpus_hash"] == "corpus-1" and manifest["count"] == len(ITEMS)
    assert manifest["tokenizer"]["fingerprint"] == TokenizerConfig(user_words=("桃花",)).fingerprint
    assert manifest["tokenizer"]["user_words"] == 1 and len(manifest["tokenizer"]["user_words_sha256"]) == 64
    assert set(manifest["libraries"]) == {"faiss", "bm25s", "jieba", "numpy"}
    assert manifest["built_at"].endswith("Z") and manifest["build_id"] == folder.name
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == on_disk
    assert {"dense.faiss", "ids.json", "embeddings.npy", "embedding_keys.json"} <= on_disk
    for name, digest in manifest["files"].items():
        assert sha256_file(folder / name) == digest


def test_a_build_leaves_only_the_version_in_use(tmp_path, build):
    build(tmp_path)
    build(tmp_path, corpus_hash="corpus-2", items=changed(ITEMS, park="公园里的荷花"))
    assert [p.name for p in (tmp_path / "versions").iterdir()] == [current_folder(tmp_path).name]


# What goes wrong, in words for the user.


def test_loading_where_nothing_was_built_says_to_build(tmp_path, load):
    for root in (tmp_path / "absent", tmp_path):
        with pytest.raises(IndexStateError, match=r"no index at .*; run `policy-rag index`"):
            load(root)


@pytest.mark.parametrize(
    "name",
    ["dense.faiss", "ids.json", "tokenizer.json", "sparse/vocab.index.json", "sparse/data.csc.index.npy"],
)
def test_a_truncated_file_is_named(tmp_path, build, load, name):
    build(tmp_path)
    path = current_folder(tmp_path) / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IndexStateError, match=rf"{name}.*damaged or truncated.*policy-rag index --rebuild"):
        load(tmp_path)


def test_a_damaged_embedding_cache_leaves_search_working_and_the_index_not_current(tmp_path, build, load):
    """Searches never read the embedding cache (gigabytes at scale), so loading does not checksum it;
    the next build does, and repairs it."""
    before = answers(build(tmp_path))
    path = current_folder(tmp_path) / "embeddings.npy"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert answers(load(tmp_path)) == before
    assert not is_current(tmp_path, "corpus-1", "fake-ngram-64")


def test_a_missing_file_is_named(tmp_path, build, load):
    build(tmp_path)
    (current_folder(tmp_path) / "sparse" / "params.index.json").unlink()
    with pytest.raises(IndexStateError, match=r"params.index.json is missing"):
        load(tmp_path)


def test_an_unreadable_manifest_is_reported(tmp_path, build, load):
    build(tmp_path)
    (current_folder(tmp_path) / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexStateError, match=r"manifest.json is unreadable"):
        load(tmp_path)


def test_a_missing_manifest_is_reported(tmp_path, build, load):
    build(tmp_path)
    (current_folder(tmp_path) / "manifest.json").unlink()
    with pytest.raises(IndexStateError, match=r"has no manifest.json; it is incomplete"):
        load(tmp_path)


def test_another_format_version_asks_for_a_rebuild(tmp_path, build, load):
    build(tmp_path)
    path = current_folder(tmp_path) / "manifest.json"
    path.write_text(path.read_text().replace(f'"format_version": {FORMAT_VERSION}', '"format_version": 99'))
    with pytest.raises(IndexStateError, match=rf"format version 99 and this program reads version {FORMAT_VERSION}"):
        load(tmp_path)


def test_another_model_asks_for_a_rebuild(tmp_path, build, load):
    build(tmp_path)
    message = "built with model fake-ngram-64, settings say other-model; run `policy-rag index --rebuild`"
    with pytest.raises(IndexStateError, match=message):
        load(tmp_path, FakeEmbedder(model_id="other-model"))
    with pytest.raises(IndexStateError, match=message):
        load(tmp_path, "other-model")


def test_another_dimension_asks_for_a_rebuild(tmp_path, build, load):
    build(tmp_path)
    with pytest.raises(IndexStateError, match="64-dimensional vectors but model fake-ngram-64 makes 32-dimensional"):
        load(tmp_path, FakeEmbedder(dimension=32))


def test_a_stale_corpus_asks_for_an_update(tmp_path, build, load):
    build(tmp_path)
    with pytest.raises(IndexStateError, match=r"built from other documents .*run `policy-rag index` to update it"):
        load(tmp_path, expected_corpus_hash="corpus-2")


def test_a_pointer_to_a_missing_version_is_reported(tmp_path, build, load):
    build(tmp_path)
    (tmp_path / CURRENT_NAME).write_text("20200101T000000Z-abcdef\n")
    with pytest.raises(IndexStateError, match=r"names version 20200101T000000Z-abcdef, which is missing"):
        load(tmp_path)


def test_a_damaged_pointer_is_reported(tmp_path, build, load):
    build(tmp_path)
    (tmp_path / CURRENT_NAME).write_text("../../etc\n")
    with pytest.raises(IndexStateError, match=r"CURRENT is damaged"):
        load(tmp_path)


def test_loading_by_model_id_alone_allows_sparse_search_only(tmp_path, build, load):
    built = build(tmp_path)
    index = load(tmp_path, "fake-ngram-64")
    assert index.search_many(QUERIES, 5, "sparse") == built.search_many(QUERIES, 5, "sparse")
    with pytest.raises(ModelError, match="only search in 'sparse' mode"):
        index.search("公园", 5, "hybrid")


# Knowing when nothing changed, and embedding only what did.


def test_is_current_checks_corpus_model_tokenizer_and_files(tmp_path, build):
    assert not is_current(tmp_path, "corpus-1", "fake-ngram-64")
    build(tmp_path)
    assert is_current(tmp_path, "corpus-1", "fake-ngram-64", TokenizerConfig())
    assert is_current(tmp_path, "corpus-1", "fake-ngram-64", dense_kind="flat")
    assert not is_current(tmp_path, "corpus-2", "fake-ngram-64")
    assert not is_current(tmp_path, "corpus-1", "other-model")
    assert not is_current(tmp_path, "corpus-1", "fake-ngram-64", TokenizerConfig(user_words=("桃花",)))
    assert not is_current(tmp_path, "corpus-1", "fake-ngram-64", dense_kind="hnsw")
    (current_folder(tmp_path) / "ids.json").write_text("[]")
    assert not is_current(tmp_path, "corpus-1", "fake-ngram-64")


def test_is_current_needs_no_model_faiss_or_jieba(tmp_path, build):
    build(tmp_path)
    code = textwrap.dedent(f"""
        import sys
        from index.store import is_current
        assert is_current({str(tmp_path)!r}, "corpus-1", "fake-ngram-64")
        heavy = {{"faiss", "jieba", "bm25s", "torch", "sentence_transformers", "onnxruntime"}} & set(sys.modules)
        assert not heavy, heavy
    """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_DIR, env=_env())


def test_an_unchanged_rebuild_embeds_nothing_and_keeps_the_version(tmp_path, build):
    build(tmp_path)
    pointer = (tmp_path / CURRENT_NAME).read_text()
    embedder = FakeEmbedder()
    index = build(tmp_path, embedder=embedder)
    assert embedder.embedded == []
    assert (tmp_path / CURRENT_NAME).read_text() == pointer
    assert index.search("红烧肉", 1)[0].id == "restaurant"


def test_a_rebuild_embeds_only_new_and_changed_texts(tmp_path, build, load):
    build(tmp_path)
    items = [item for item in changed(ITEMS, park="公园里的荷花开了") if item[0] != "museum"]
    items.append(("zoo", "动物园来了两只大熊猫"))
    embedder = FakeEmbedder()
    incremental = build(tmp_path, items=items, embedder=embedder, corpus_hash="corpus-2")
    assert sorted(embedder.embedded) == sorted(["公园里的荷花开了", "动物园来了两只大熊猫"])
    from_scratch = build(tmp_path / "scratch", items=items, corpus_hash="corpus-2")
    assert answers(incremental) == answers(from_scratch)
    assert answers(load(tmp_path, expected_corpus_hash="corpus-2")) == answers(from_scratch)


def test_a_changed_text_is_embedded_again(tmp_path, build):
    build(tmp_path)
    embedder = FakeEmbedder()
    build(tmp_path, items=changed(ITEMS, park="公园里的荷花开了"), embedder=embedder, corpus_hash="corpus-2")
    assert embedder.embedded == ["公园里的荷花开了"]


def test_identical_texts_are_embedded_once(tmp_path, build):
    embedder = FakeEmbedder()
    index = build(tmp_path, items=[("a", "同一句话"), ("b", "同一句话"), ("c", "另一句话")], embedder=embedder)
    assert sorted(embedder.embedded) == ["另一句话", "同一句话"]
    assert {hit.id for hit in index.search("同一句话", 2, "dense")} == {"a", "b"}


def test_a_tokenizer_change_rebuilds_without_embedding(tmp_path, build):
    build(tmp_path)
    embedder = FakeEmbedder()
    build(tmp_path, embedder=embedder, tokenizer_config=TokenizerConfig(user_words=("红烧肉",)))
    assert embedder.embedded == []
    assert read_manifest(tmp_path).tokenizer["user_words"] == 1


def test_another_model_embeds_everything(tmp_path, build):
    build(tmp_path)
    embedder = FakeEmbedder(model_id="other-model")
    build(tmp_path, embedder=embedder)
    assert sorted(embedder.embedded) == sorted(text for _, text in ITEMS)


def test_force_rebuilds_from_scratch(tmp_path, build):
    build(tmp_path)
    pointer = (tmp_path / CURRENT_NAME).read_text()
    embedder = FakeEmbedder()
    build(tmp_path, embedder=embedder, force=True)
    assert len(embedder.embedded) == len(ITEMS)
    assert (tmp_path / CURRENT_NAME).read_text() != pointer


def test_a_damaged_embedding_cache_is_not_reused(tmp_path, build):
    build(tmp_path)
    path = current_folder(tmp_path) / "embeddings.npy"
    path.write_bytes(path.read_bytes()[:-8])
    embedder = FakeEmbedder()
    build(tmp_path, embedder=embedder, corpus_hash="corpus-2")
    assert len(embedder.embedded) == len(ITEMS)


def test_progress_counts_texts_once_they_are_embedded(tmp_path, build):
    seen, embedded_at_tick = [], []
    embedder = FakeEmbedder()

    def progress(iterable, total, desc):
        seen.append((total, desc))
        for item in iterable:
            embedded_at_tick.append(len(embedder.embedded))
            yield item

    build(tmp_path, embedder=embedder, progress=progress, batch_size=3)
    assert seen == [(len(ITEMS), f"Embedding {len(ITEMS)} texts")]
    # A text is counted when its batch of three is done: ticks 1-3 after 3 texts, 4-6 after 6, 7-8 after 8.
    assert embedded_at_tick == [3, 3, 3, 6, 6, 6, 8, 8]


# Crash safety.


def test_a_failed_build_keeps_the_previous_index(tmp_path, build, load):
    before = answers(build(tmp_path))

    class Broken(FakeEmbedder):
        def embed_documents(self, texts):
            raise RuntimeError("model crashed")

    with pytest.raises(RuntimeError, match="model crashed"):
        build(tmp_path, items=changed(ITEMS, park="公园里的荷花开了"), embedder=Broken(), corpus_hash="corpus-2")
    assert answers(load(tmp_path, expected_corpus_hash="corpus-1")) == before


def test_a_second_build_at_the_same_time_is_refused(tmp_path, build):
    build(tmp_path)
    with open(tmp_path / LOCK_NAME, "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(IndexStateError, match="another build of the index at .* is running"):
            build(tmp_path, corpus_hash="corpus-2")


def test_the_next_build_removes_what_a_crash_left(tmp_path, build):
    build(tmp_path)
    (tmp_path / "versions" / ".building-20200101T000000Z-abcdef" / "sparse").mkdir(parents=True)
    (tmp_path / "versions" / "20200101T000000Z-123456").mkdir()
    (tmp_path / ".CURRENT.x1y2.partial").write_text("half")
    build(tmp_path, corpus_hash="corpus-2")
    assert [p.name for p in (tmp_path / "versions").iterdir()] == [current_folder(tmp_path).name]
    assert not list(tmp_path.glob("*.partial"))


def test_leftovers_are_removed_without_a_build_unless_one_is_running(tmp_path, build):
    build(tmp_path)
    leftover = tmp_path / "versions" / ".building-20200101T000000Z-abcdef"
    leftover.mkdir()
    with open(tmp_path / LOCK_NAME, "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        assert not remove_leftovers(tmp_path) and leftover.is_dir(), "a running build's folder is no leftover"
    assert remove_leftovers(tmp_path) and not leftover.exists()
    assert [p.name for p in (tmp_path / "versions").iterdir()] == [current_folder(tmp_path).name]
    assert not remove_leftovers(tmp_path / "no-index-here")


KILLED_BUILD = """
import sys, time
from pathlib import Path
from test_index_fakes import ITEMS, FakeEmbedder
import index.build as build
import index.store as store

root, phase, marker, jieba_cache = sys.argv[1:]
marker = Path(marker)

def hang(*args, **kwargs):
    marker.touch()
    time.sleep(600)

if phase == "writing files":
    store._seal = hang
elif phase == "before the switch":
    store._switch_pointer = hang
elif phase == "after the switch":
    remove = store.remove_stale_versions
    calls = []
    def remove_then_hang(root, keep):
        calls.append(keep)
        if len(calls) == 2:  # the first call clears leftovers before building
            hang()
        remove(root, keep)
    store.remove_stale_versions = remove_then_hang

slow = FakeEmbedder(delay_s=0.2, started_marker=marker if phase == "embedding" else None)
items = [(item_id, text + "（新）") for item_id, text in ITEMS]
build.build_index(root, items, slow, "corpus-2", batch_size=1, tokenizer_cache_dir=jieba_cache)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_DIR), str(TESTS_DIR)])}


def _kill_build_at(phase: str, root: Path, tmp_path: Path, jieba_cache: Path) -> None:
    script = tmp_path / "killed_build.py"
    script.write_text(KILLED_BUILD, encoding="utf-8")
    marker = tmp_path / "marker"
    process = subprocess.Popen(
        [sys.executable, str(script), str(root), phase, str(marker), str(jieba_cache)],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if process.poll() is not None:
                pytest.fail(f"the build ended before reaching {phase!r}: {process.stderr.read().decode()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the build did not reach {phase!r} within 60 s")
            time.sleep(0.02)
        time.sleep(0.3 if phase == "embedding" else 0.0)
    finally:
        process.kill()  # SIGKILL: no handler, no cleanup, no flush
        process.wait()
    assert process.returncode == -9


@pytest.mark.parametrize("phase", ["embedding", "writing files", "before the switch"])
def test_a_build_killed_midway_leaves_the_previous_index_answering(tmp_path, build, load, jieba_cache, phase):
    root = tmp_path / "index"
    before = answers(build(root))
    _kill_build_at(phase, root, tmp_path, jieba_cache)

    assert answers(load(root, expected_corpus_hash="corpus-1")) == before
    assert is_current(root, "corpus-1", "fake-ngram-64")

    build(root, corpus_hash="corpus-3", items=changed(ITEMS, park="公园里的荷花开了"))
    assert [p.name for p in (root / "versions").iterdir()] == [current_folder(root).name]
    assert not list(root.glob("*.partial"))
    assert load(root, expected_corpus_hash="corpus-3").search("荷花", 1)[0].id == "park"


def test_a_build_killed_after_the_switch_leaves_the_new_index_answering(tmp_path, build, load, jieba_cache):
    root = tmp_path / "index"
    build(root)
    _kill_build_at("after the switch", root, tmp_path, jieba_cache)

    index = load(root, expected_corpus_hash="corpus-2")
    assert index.search("红烧肉（新）", 1)[0].id == "restaurant"
    assert len(list((root / "versions").iterdir())) == 2

    build(root, corpus_hash="corpus-3")
    assert [p.name for p in (root / "versions").iterdir()] == [current_folder(root).name]
