"""Build a SentencePiece ``precompiled_charsmap`` from a string-to-string rewrite table.

`tokenizers.normalizers.Precompiled` reads the format SentencePiece uses: a little-endian
u32 giving the trie's size in bytes, a darts-clone double-array trie over the UTF-8 bytes of
the source strings, then the replacement strings, each terminated by NUL. A trie value is
the byte offset of its replacement in that pool. This lets a tokenizer.json reproduce a
normalisation table exactly instead of approximating it with NFKC.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Mapping

import numpy as np

_LEAF_FLAG = 1 << 31
_HAS_LEAF = 1 << 8
_MAX_OFFSET = 1 << 21  # offsets this small are stored unshifted (darts-clone unit layout)


def build_precompiled_charsmap(rewrites: Mapping[str, str]) -> bytes:
    """The charsmap bytes for ``rewrites`` (source -> replacement; "" deletes the source)."""
    pool = bytearray()
    pool_offsets: dict[bytes, int] = {}
    trie: dict = {}
    for source, replacement in sorted(rewrites.items()):
        key = source.encode("utf-8")
        if not key or b"\x00" in key:
            raise ValueError(f"cannot index source string {source!r} (empty or contains NUL)")
        value = replacement.encode("utf-8")
        if value not in pool_offsets:
            pool_offsets[value] = len(pool)
            pool += value + b"\x00"
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = pool_offsets[value]
    units = _double_array(trie)
    return struct.pack("<I", 4 * len(units)) + units.astype("<u4").tobytes() + bytes(pool)


def lookup(charsmap: bytes, text: str) -> str | None:
    """Replacement for the shortest source string that prefixes ``text`` (None if none does).

    Mirrors the prefix search `tokenizers` performs; used to check a built charsmap.
    """
    (trie_bytes,) = struct.unpack_from("<I", charsmap, 0)
    units = np.frombuffer(charsmap, dtype="<u4", count=trie_bytes // 4, offset=4)
    pool = charsmap[4 + trie_bytes :]
    pos = _offset(int(units[0]))
    for byte in text.encode("utf-8"):
        pos ^= byte
        unit = int(units[pos]) if pos < len(units) else 0
        if unit & (_LEAF_FLAG | 0xFF) != byte:
            return None
        pos ^= _offset(unit)
        if unit & _HAS_LEAF:
            start = int(units[pos]) & (_LEAF_FLAG - 1)
            return pool[start : pool.index(b"\x00", start)].decode("utf-8")
    return None


def _offset(unit: int) -> int:
    return (unit >> 10) << ((unit & (1 << 9)) >> 6)


def _double_array(trie: dict) -> np.ndarray:
    """Place the trie in a darts-clone double array: children of a node at p sit at base ^ label."""
    units: list[int] = [0]
    used = bytearray(1024)  # kept at least 512 free units past the last used one
    used[0] = 1
    used_bases: set[int] = set()
    first_free = 1
    queue: deque[tuple[int, dict]] = deque([(0, trie)])
    while queue:
        pos, node = queue.popleft()
        labels = sorted(0 if label is None else label for label in node)
        free = first_free
        while True:
            base = free ^ labels[0]
            slots = [base ^ label for label in labels]
            if base != pos and base not in used_bases and not any(used[s] for s in slots):
                break
            free = used.find(0, free + 1)
        if pos ^ base >= _MAX_OFFSET:
            raise ValueError("normalisation table too large for an unshifted double-array offset")
        units[pos] |= (pos ^ base) << 10
        used_bases.add(base)
        end = max(slots) + 1
        if end > len(units):
            units.extend([0] * (end - len(units)))
        if end + 512 > len(used):
            used.extend(bytes(end + 512 - len(used)))
        for slot in slots:
            used[slot] = 1
        for label, child in node.items():
            if label is None:
                units[pos] |= _HAS_LEAF
                units[base] = child | _LEAF_FLAG
            else:
                units[base ^ label] = label
                queue.append((base ^ label, child))
        # A free unit that is already some node's base can only stay a hole; skip past it.
        first_free = used.find(0, first_free)
        while first_free in used_bases:
            first_free = used.find(0, first_free + 1)
    # Readers index base ^ byte without a bounds check, so pad to whole 256-unit blocks.
    padded = -(-len(units) // 256) * 256
    return np.array(units + [0] * (padded - len(units)), dtype=np.uint32)
