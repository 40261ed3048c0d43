"""Export a bare PixelInput graph as a test fixture (tests/policy/fixtures/pixel_input.onnx).

The TypeScript tests run it with onnxruntime-node and check that the in-graph preprocessing
(uint8 HWC 128x128 -> pooled, normalized float CHW 64x64) equals what ImagePreprocessor
computes in JS for the same frame and manifest scale/mean/std.

Run: cd models && /usr/bin/python3 -m armature_models.pixel_fixture [out.onnx]
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

from .export import export_graph
from .manifest import IMAGENET_MEAN, IMAGENET_STD, IMAGE_SIZE, PIXEL_SIZE
from .nets import PixelInput

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "tests" / "policy" / "fixtures" / "pixel_input.onnx"


def main(out: Path = DEFAULT_OUT) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    module = PixelInput(PIXEL_SIZE, PIXEL_SIZE, IMAGE_SIZE, IMAGE_SIZE, IMAGENET_MEAN, IMAGENET_STD)
    g = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (1, PIXEL_SIZE, PIXEL_SIZE, 3), generator=g, dtype=torch.uint8)
    export_graph(module, name="pixel_input", out_dir=out.parent, file=out.name, inputs={"pixels": pixels},
                 output_names=["image"], golden=False)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)
