"""Build models/vla-chunk-tiny: random init (seed 0), ONNX graph, manifest, vocab, golden, example.

Run: /usr/bin/python3 models/vla-chunk-tiny/build.py
A later train.py reuses `export_package(model, trained=True)`.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

from armature_models import example, manifest as mf  # noqa: E402
from armature_models.export import export_graph, golden_inputs_common  # noqa: E402
from armature_models.nets import count_params  # noqa: E402
from armature_models.tokenizer import default_vocab, tokenize, write_vocab  # noqa: E402
from model import Config, VlaChunkTiny  # noqa: E402

NAME = "vla-chunk-tiny"
CAMERAS = [("agentview", "image_agentview"), ("eye_in_hand", "image_eye_in_hand")]


def new_model(seed: int = 0) -> VlaChunkTiny:
    torch.manual_seed(seed)
    return VlaChunkTiny(Config(vocab_size=len(default_vocab())))


def export_package(model: VlaChunkTiny, out_dir: Path = HERE, *, trained: bool,
                   description: str = "Tiny chunk-regression VLA (two cameras, language, FR3 joints); "
                                      "random weights, for exercising the runtime.") -> dict:
    vocab = default_vocab()
    write_vocab(out_dir / "vocab.txt", vocab)
    ids, mask = tokenize(example.INSTRUCTION, vocab, mf.MAX_TOKENS)
    cfg = model.cfg
    inputs = golden_inputs_common(cameras=[c[1] for c in CAMERAS], tokens=ids, mask=mask, state_dim=cfg.state_dim,
                                  image_size=cfg.image_size, pixel_size=cfg.pixel_size)
    policy = export_graph(model, name="policy", file="model.onnx", out_dir=out_dir, inputs=inputs,
                          output_names=["actions"])
    m = mf.manifest(name=NAME, kind="chunk_regression", description=description, trained=trained,
                    chunk_length=cfg.chunk_length,
                    cameras=[mf.camera(n, i, size=cfg.image_size, pixels=cfg.pixel_size) for n, i in CAMERAS],
                    embodiments={"franka": mf.franka_embodiment()}, graphs={"policy": policy.spec})
    mf.write_manifest(out_dir, m)
    example.write_example(out_dir)
    return m


def main() -> None:
    model = new_model()
    export_package(model, trained=False)
    print(f"{NAME}: policy {count_params(model)} params")
    mf.print_sizes(HERE)


if __name__ == "__main__":
    main()
