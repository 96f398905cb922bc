"""Writes rag/data/divisions.tsv, the gazetteer of China's province- and prefecture-level divisions.

Run once when the divisions change; the output is committed and the product reads only it.

    pip install 'policy-rag[gazetteer-build]'    # cpca (MIT, its GB/T 2260 table) and pypinyin
    python scripts/build_gazetteer.py             # or --cpca-csv PATH to a copy of cpca's adcodes.csv

Sources: codes and full names from cpca's resources/adcodes.csv (a 2020 snapshot of GB/T 2260 as
published by the Ministry of Civil Affairs), read as a file without importing cpca (which needs pandas);
short names by stripping the generic suffix (省, 市, 自治区, 自治州 with its peoples, 地区, 盟); English
names of cities in pinyin (pypinyin); everything a rule cannot give (one-character abbreviations,
English names in use, short names that are ordinary words) from scripts/data/gazetteer_curated.tsv, and
the changes since that snapshot from scripts/data/gazetteer_changes.tsv.
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CURATED = ROOT / "scripts" / "data" / "gazetteer_curated.tsv"
CHANGES = ROOT / "scripts" / "data" / "gazetteer_changes.tsv"
OUTPUT = ROOT / "rag" / "data" / "divisions.tsv"
COLUMNS = ("code", "name", "short", "abbreviation", "other_abbreviations", "english", "other_english",
           "kind", "category", "province", "common_words")
# Rows of the table that are groupings, not divisions.
_NOT_DIVISIONS = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")
_PROVINCE_CATEGORIES = ("特别行政区", "自治区", "省", "市")
_CITY_CATEGORIES = ("自治州", "地区", "盟", "市")
_CATEGORY_NAMES = {("province", "市"): "直辖市", ("city", "市"): "地级市"}


@dataclass
class Row:
    code: str
    name: str
    short: str
    kind: str
    category: str
    province_code: str
    abbreviation: str = ""
    other_abbreviations: str = ""
    english: str = ""
    other_english: str = ""
    common_words: str = ""


def _cpca_table(path: Path | None) -> tuple[list[dict[str, str]], list[str]]:
    if path is None:
        try:
            files = importlib.metadata.files("cpca") or []
        except importlib.metadata.PackageNotFoundError:
            sys.exit("cpca is not installed: pip install cpca==0.5.5, or pass --cpca-csv PATH")
        found = {f.name: Path(str(f.locate())) for f in files if f.name in ("adcodes.csv", "56_nations.csv")}
        path, nations_path = found["adcodes.csv"], found["56_nations.csv"]
    else:
        nations_path = path.with_name("56_nations.csv")
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    peoples = [line.strip() for line in nations_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows, peoples


def _strip_peoples(stem: str, peoples: list[str]) -> str:
    """延边朝鲜族 → 延边, 黔东南苗族侗族 → 黔东南, 伊犁哈萨克 → 伊犁 (peoples written with or without 族)."""
    forms = sorted({p for people in peoples for p in (people, people.removesuffix("族"))}, key=len, reverse=True)
    changed = True
    while changed:
        changed = False
        for form in forms:
            if len(stem) > len(form) + 1 and stem.endswith(form):
                stem, changed = stem[: -len(form)], True
                break
    return stem


def _short_and_category(name: str, kind: str, peoples: list[str]) -> tuple[str, str]:
    for suffix in _PROVINCE_CATEGORIES if kind == "province" else _CITY_CATEGORIES:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            if suffix in ("自治区", "自治州"):
                stem = _strip_peoples(stem, peoples)
            return stem, _CATEGORY_NAMES.get((kind, suffix), suffix)
    raise SystemExit(f"cannot tell the category of {name!r}")


def _pinyin(short: str) -> str:
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(short, style=Style.NORMAL, v_to_u=False)
    word = syllables[0]
    for syllable in syllables[1:]:
        word += ("'" if syllable[:1] in "aeo" else "") + syllable
    return word.replace("v", "ü").capitalize()


def build(cpca_csv: Path | None) -> list[Row]:
    table, peoples = _cpca_table(cpca_csv)
    changes = {
        row["code"]: (row["new_code"], row["new_name"]) if row["change"] == "renamed" else ("", "")
        for row in _tsv(CHANGES).values()
    }
    rows: list[Row] = []
    for entry in sorted(table, key=lambda e: e["adcode"]):
        code, name = entry["adcode"], entry["name"]
        if name in _NOT_DIVISIONS:
            continue
        if code.endswith("0000000000"):
            kind = "province"
        elif code[4:] == "00000000":
            kind = "city"
        else:
            continue
        code, name = changes.get(code[:6], (code[:6], name))
        if not code:
            continue
        short, category = _short_and_category(name, kind, peoples)
        rows.append(Row(code, name, short, kind, category, code[:2]))
    rows.sort(key=lambda row: row.code)
    curated = _tsv(CURATED)
    for row in rows:
        facts = curated.pop(row.name, None) or {}
        row.short = facts.get("short") or row.short
        row.abbreviation = facts.get("abbreviation", "")
        row.other_abbreviations = facts.get("other_abbreviations", "")
        row.english = facts.get("english") or _pinyin(row.short)
        row.other_english = facts.get("other_english", "")
        row.common_words = facts.get("common_words", "")
    if curated:
        raise SystemExit(f"{CURATED.name} names divisions the table does not have: {sorted(curated)}")
    return rows


def _tsv(path: Path) -> dict[str, dict[str, str]]:
    """Rows of a tab-separated file with a header line (lines starting with # skipped), by their name."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t")
    return {row["name"]: {k: (v or "").strip() for k, v in row.items()} for row in reader}


def write(rows: list[Row], output: Path) -> None:
    provinces = {row.code[:2]: row.short for row in rows if row.kind == "province"}
    with output.open("w", encoding="utf-8", newline="") as handle:
        handle.write("# China's province- and prefecture-level divisions; written by scripts/build_gazetteer.py\n")
        handle.write("\t".join(COLUMNS) + "\n")
        for row in rows:
            values = {**row.__dict__, "province": provinces[row.province_code]}
            handle.write("\t".join(values[column] for column in COLUMNS) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpca-csv", type=Path, help="cpca's resources/adcodes.csv (default: the installed cpca)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    rows = build(args.cpca_csv)
    write(rows, args.output)
    provinces = sum(row.kind == "province" for row in rows)
    print(f"wrote {args.output}: {provinces} provinces, {len(rows) - provinces} prefecture-level divisions")


if __name__ == "__main__":
    main()
