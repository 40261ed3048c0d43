"""Export a torch module to ONNX and write its golden test vector.

One call per graph:

    spec = export_graph(module, name='policy', out_dir=pkg, inputs={...}, output_names=['actions'])

writes `<out_dir>/<file>` (opset 17, dim 0 of every input and output named 'batch'),
`<out_dir>/golden/<name>.json` ({"inputs": {...}, "outputs": {...}}, batch 1, floats with
7 significant digits) and returns the manifest graph spec plus the golden outputs, so a
later golden can be chained from an earlier one (decoder fed with backbone features).

Inputs are rounded to 7 significant digits *before* PyTorch runs, so the golden
outputs are exactly what the stored inputs produce.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Sequence, Tuple

import onnx
import torch
from torch import nn

OPSET = 17
BATCH = "batch"

_DTYPES = {torch.float32: "float32", torch.int64: "int64", torch.bool: "bool", torch.uint8: "uint8"}


def round_sig(t: torch.Tensor, digits: int = 7) -> torch.Tensor:
    """Round a float tensor to `digits` significant decimal digits (what the golden stores)."""
    if not t.is_floating_point():
        return t.clone()
    vals = [float(f"{v:.{digits}g}") for v in t.detach().reshape(-1).tolist()]
    return torch.tensor(vals, dtype=t.dtype).reshape(t.shape)


def _tensor_json(t: torch.Tensor) -> dict:
    dtype = _DTYPES.get(t.dtype)
    if dtype is None:
        raise TypeError(f"golden tensors must be float32, int64, bool or uint8, got {t.dtype}")
    flat = t.detach().reshape(-1).tolist()
    if dtype == "float32":
        data = [float(f"{v:.7g}") for v in flat]
    elif dtype in ("int64", "uint8"):
        data = [int(v) for v in flat]
    else:
        data = [bool(v) for v in flat]
    return {"dtype": dtype, "shape": list(t.shape), "data": data}


def tensor_spec(name: str, t: torch.Tensor) -> dict:
    """Manifest tensor spec with the batch dim symbolic."""
    return {"name": name, "dtype": _DTYPES[t.dtype], "shape": [BATCH] + list(t.shape[1:])}


@dataclass
class ExportResult:
    spec: dict
    """manifest `graphs` entry: {file, inputs, outputs}"""
    inputs: Dict[str, torch.Tensor]
    """golden inputs as stored (rounded)"""
    outputs: Dict[str, torch.Tensor]
    """golden outputs from PyTorch (unrounded)"""


def export_graph(module: nn.Module, *, name: str, out_dir: Path, inputs: Mapping[str, torch.Tensor],
                 output_names: Sequence[str], file: str | None = None, golden: bool = True) -> ExportResult:
    """Export `module` (called as module(*inputs.values()) in eval mode) to `<out_dir>/<file>`."""
    out_dir = Path(out_dir)
    file = file or f"{name}.onnx"
    module.eval()
    rounded = {k: round_sig(v) for k, v in inputs.items()}
    args: Tuple[torch.Tensor, ...] = tuple(rounded.values())
    with torch.no_grad():
        result = module(*args)
    outs = result if isinstance(result, (tuple, list)) else (result,)
    if len(outs) != len(output_names):
        raise ValueError(f"graph '{name}' returned {len(outs)} outputs, expected {list(output_names)}")
    outputs = {n: o.detach().clone() for n, o in zip(output_names, outs)}
    for n, o in outputs.items():
        if not torch.isfinite(o).all():
            raise ValueError(f"graph '{name}' output '{n}' is not finite")

    path = out_dir / file
    dynamic = {n: {0: BATCH} for n in list(rounded) + list(output_names)}
    with torch.no_grad(), warnings.catch_warnings():
        # GroupNorm's symbolic leaves a prim::Constant without shape info; harmless for onnxruntime.
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        torch.onnx.export(module, args, str(path), input_names=list(rounded), output_names=list(output_names),
                          dynamic_axes=dynamic, opset_version=OPSET, do_constant_folding=True)
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    got_in = [i.name for i in model.graph.input]
    got_out = [o.name for o in model.graph.output]
    if got_in != list(rounded) or got_out != list(output_names):
        raise ValueError(f"graph '{name}' exported with inputs {got_in} / outputs {got_out}; "
                         f"expected {list(rounded)} / {list(output_names)} (unused input?)")

    if golden:
        gdir = out_dir / "golden"
        gdir.mkdir(parents=True, exist_ok=True)
        doc = {"inputs": {k: _tensor_json(v) for k, v in rounded.items()},
               "outputs": {k: _tensor_json(v) for k, v in outputs.items()}}
        (gdir / f"{name}.json").write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")

    spec = {"file": file,
            "inputs": [tensor_spec(k, v) for k, v in rounded.items()],
            "outputs": [tensor_spec(k, v) for k, v in outputs.items()]}
    return ExportResult(spec=spec, inputs=rounded, outputs=outputs)


def golden_inputs_common(*, cameras: Sequence[str], tokens: List[int], mask: List[float], state_dim: int,
                         image_size: int = 64, pixel_size: int | None = None, seed: int = 1) -> Dict[str, torch.Tensor]:
    """Seeded batch-1 observation inputs: per camera random uint8 pixels [1, pixel_size, pixel_size, 3]
    (HWC) when pixel_size is set, else a normalized float image [1, 3, image_size, image_size] (pixels
    uniform in [0,1], ImageNet mean/std); the given token ids/mask and a standard-normal normalized state."""
    from .manifest import IMAGENET_MEAN, IMAGENET_STD

    g = torch.Generator().manual_seed(seed)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    out: Dict[str, torch.Tensor] = {}
    for cam in cameras:
        if pixel_size:
            out[cam] = torch.randint(0, 256, (1, pixel_size, pixel_size, 3), generator=g, dtype=torch.uint8)
        else:
            px = torch.rand(1, 3, image_size, image_size, generator=g)
            out[cam] = (px - mean) / std
    out["tokens"] = torch.tensor([tokens], dtype=torch.int64)
    out["token_mask"] = torch.tensor([mask], dtype=torch.float32)
    if state_dim > 0:
        out["state"] = torch.randn(1, state_dim, generator=g)
    return out
