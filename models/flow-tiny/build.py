"""Build models/flow-tiny: random init (seed 0), stage_0..2 and head_0..2 graphs, manifest, vocab,
goldens (each stage fed by the previous stage's golden output, head k by stage k's), example.

Run: /usr/bin/python3 models/flow-tiny/build.py
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
from armature_models.export import golden_inputs_common  # noqa: E402
from armature_models.flow import export_exits  # noqa: E402
from armature_models.nets import count_params  # noqa: E402
from armature_models.tokenizer import default_vocab, tokenize, write_vocab  # noqa: E402
from model import Config, FlowTiny  # noqa: E402

NAME = "flow-tiny"
CAMERAS = [("agentview", "image_agentview"), ("eye_in_hand", "image_eye_in_hand")]
STEPS = 10


def new_model(seed: int = 0) -> FlowTiny:
    torch.manual_seed(seed)
    return FlowTiny(Config(vocab_size=len(default_vocab())))


def export_package(model: FlowTiny, out_dir: Path = HERE, *, trained: bool,
                   description: str = "Tiny flow-matching policy with 3 early exits (stage/head pairs), "
                                      "FR3 joints; random weights.") -> dict:
    cfg = model.cfg
    vocab = default_vocab()
    write_vocab(out_dir / "vocab.txt", vocab)
    ids, mask = tokenize(example.INSTRUCTION, vocab, mf.MAX_TOKENS)
    inputs = golden_inputs_common(cameras=[c[1] for c in CAMERAS], tokens=ids, mask=mask, state_dim=cfg.state_dim,
                                  image_size=cfg.image_size, pixel_size=cfg.pixel_size)
    graphs, exits = export_exits(list(model.stages), model.heads, inputs, horizon=cfg.horizon,
                                 action_dim=cfg.action_dim, out_dir=out_dir)
    m = mf.manifest(name=NAME, kind="flow", description=description, trained=trained,
                    chunk_length=cfg.horizon,
                    cameras=[mf.camera(n, i, size=cfg.image_size, pixels=cfg.pixel_size) for n, i in CAMERAS],
                    embodiments={"franka": mf.franka_embodiment()}, graphs=graphs,
                    flow={"exits": exits, "steps": STEPS})
    mf.write_manifest(out_dir, m)
    example.write_example(out_dir)
    return m


def main() -> None:
    model = new_model()
    export_package(model, trained=False)
    print(f"{NAME}: " + ", ".join(f"stage_{k} {count_params(s)}" for k, s in enumerate(model.stages)) + ", "
          + ", ".join(f"head_{k} {count_params(h)}" for k, h in enumerate(model.heads)) + " params")
    mf.print_sizes(HERE)


if __name__ == "__main__":
    main()
