"""The code knows how policy documents work, never which ones exist: no module of rag/, ui/ or index/
names a region, issuer, document number or title of the bundled documents. What the product knows
of them comes from corpus/metadata.toml, their texts and the data files (rag/data/)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from rag.gazetteer import load_gazetteer

ROOT = Path(__file__).resolve().parents[1]
CODE = [p for folder in ("rag", "ui", "index") for p in sorted((ROOT / folder).rglob("*.py"))]


def seed_facts() -> set[str]:
    """The seeds' regions (every name of them), issuers, numbers and their short forms, titles and files."""
    metadata = tomllib.loads((ROOT / "corpus" / "metadata.toml").read_text(encoding="utf-8"))
    facts: set[str] = set()
    gazetteer = load_gazetteer()
    for name, entry in metadata["files"].items():
        facts.add(Path(name).stem)
        facts.add(entry["title"])
        if entry.get("doc_number"):
            facts.add(entry["doc_number"])
        if entry.get("issuer") and entry["level"] != "national":
            facts.add(entry["issuer"])  # the State Council is how national documents work, not one of them
        region = gazetteer.by_name(entry["region"]) if entry["region"] != "全国" else None
        if region is not None:
            facts.update({region.name, region.short, region.english, f"{region.abbreviation}政"})
        if entry.get("doc_number"):
            number = entry["doc_number"]
            facts.add(number.split("〔")[0] + number.split("〕")[-1])  # 国发7号
            facts.add(number.split("〕")[-1] + "文")  # 7号文
    return facts


def test_no_module_names_a_bundled_document_or_its_region():
    facts = seed_facts()
    found = [
        f"{path.relative_to(ROOT)}:{number}: {fact}"
        for path in CODE
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for fact in facts
        if fact.lower() in line.lower()
    ]
    assert not found, "seed knowledge in code (move it to metadata or data files):\n" + "\n".join(found)


def test_the_seed_fact_list_is_not_empty():
    facts = seed_facts()
    assert {"河北", "Jiangsu", "国发〔2020〕7号", "7号文"} <= facts
