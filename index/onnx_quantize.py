"""The int8 variant of an ONNX export: onnxruntime's dynamic quantisation of its weights (MatMul and
the embedding table), written beside the fp32 file it was made from and remade when that changes.

About 1.8 times faster per core on AVX2 and a quarter of the size; its vectors differ from the
fp32 ones (cosine about 0.99), which is why it is a separate engine with its own model id.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from index.errors import ModelError

INT8_SUFFIX = "_int8"
RECIPE = "int8-dynamic-per-channel-reduced-range"
"""Part of the model id of vectors made by the int8 file: change it when quantize() changes.
Per-channel scales and 7-bit weights (reduce_range, which avoids the int16 saturation of AVX2's
u8*s8 multiply) gave cosine 0.997 mean, 0.993 lowest against fp32, where plain per-tensor
quantisation gave 0.989 and 0.981 (benchmarks/bench_scale.py --embedding)."""
RECORD_SUFFIX = ".source.json"


def int8_path(fp32_file: Path) -> Path:
    fp32_file = Path(fp32_file)
    return fp32_file.with_name(f"{fp32_file.stem}{INT8_SUFFIX}{fp32_file.suffix}")


def int8_file(fp32_file: Path) -> Path:
    """The int8 file made from fp32_file, quantised now (about 30 s) if missing or made from another file."""
    fp32_file = Path(fp32_file)
    target = int8_path(fp32_file)
    record = target.with_name(target.name + RECORD_SUFFIX)
    source = _source_record(fp32_file)
    try:
        if target.is_file() and json.loads(record.read_text(encoding="utf-8")) == source:
            return target
    except (OSError, ValueError):
        pass
    quantize(fp32_file, target)
    _atomic_write(record, json.dumps(source).encode())
    return target


def quantize(fp32_file: Path, target: Path) -> None:
    """Write the dynamic int8 quantisation of fp32_file to target (through a temporary name)."""
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ModelError(f"onnx and onnxruntime are needed to quantise the embedding model: {exc}") from exc
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    quiet = logging.getLogger()  # quantize_dynamic warns on the root logger, for model authors
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        model = onnx.load(str(fp32_file))  # with its external weights
        folded = fold_weight_transposes(model)
        quantize_dynamic(
            model,
            temporary,
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        if not folded:
            raise ValueError("no weight matrix of the graph could be quantised")
        os.replace(temporary, target)
    except Exception as exc:  # onnx and onnxruntime raise many kinds
        raise ModelError(
            f"cannot quantise {fp32_file} to int8: {type(exc).__name__}: {exc}. "
            "Run `policy-rag model build --rebuild` if the export is damaged"
        ) from exc
    finally:
        quiet.setLevel(level)
        temporary.unlink(missing_ok=True)


def fold_weight_transposes(model: Any) -> int:
    """Replace each Transpose of a weight (an initializer) by the transposed weight, in place, so the
    MatMul it feeds reads an initializer: quantize_dynamic quantises only such MatMuls (the export
    keeps PyTorch's [out, in] weights and transposes them in the graph). The number folded."""
    from onnx import numpy_helper

    graph = model.graph
    weights = {tensor.name: tensor for tensor in graph.initializer}
    uses: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    folded = []
    for node in graph.node:
        source = node.input[0] if node.op_type == "Transpose" and node.input else None
        if source not in weights or uses.get(source) != 1:
            continue
        perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
        array = numpy_helper.to_array(weights[source])
        graph.initializer.append(numpy_helper.from_array(array.transpose(perm), node.output[0]))
        graph.initializer.remove(weights.pop(source))
        folded.append(node)
    for node in folded:
        graph.node.remove(node)
    return len(folded)


def _source_record(fp32_file: Path) -> dict[str, Any]:
    try:
        stat = fp32_file.stat()
    except OSError as exc:
        raise ModelError(f"the ONNX export {fp32_file} is unreadable ({exc}); run `policy-rag model build --rebuild`") from exc
    return {"source": fp32_file.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "recipe": RECIPE}


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
