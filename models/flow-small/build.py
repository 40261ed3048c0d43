"""Export models/flow-small: stage_k / head_k graph pairs (stage_0 takes uint8 128x128 cameras and
pools + normalizes in the graph), manifest with the training data's stats, vocab, goldens
(chained: stage_k's golden output feeds stage_k+1 and head_k) and an example observation.

Called by train.py after training; `python3 build.py` alone exports a random-init package.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from armature_models import example, manifest as mf  # noqa: E402
from armature_models.export import export_graph, golden_inputs_common  # noqa: E402
from armature_models.nets import count_params  # noqa: E402
from armature_models.tokenizer import default_vocab, tokenize, write_vocab  # noqa: E402
from armature_models.training import Stats, franka_ee_embodiment  # noqa: E402
from armature_models.vision import WithPixelInput  # noqa: E402
from model import Config, FlowSmall  # noqa: E402

NAME = "flow-small"
CAMERAS = [("agentview", "image_agentview"), ("eye_in_hand", "image_eye_in_hand")]
PIXELS = 128
#: actions executed per 16-step chunk before replanning (Diffusion Policy's 8)
EXECUTE_LENGTH = 8
STEPS = 10


def export_package(model: FlowSmall, out_dir: Path = HERE, *, cfg: Config, state_stats: Stats,
                   action_stats: Stats, trained: bool = True,
                   description: str = "Flow-matching policy with 3 early exits (A1-style truncation), FR3 "
                                      "end-effector deltas; trained on the scripted expert's demonstrations.") -> dict:
    model.eval()
    vocab = default_vocab()
    write_vocab(out_dir / "vocab.txt", vocab)
    ids, mask = tokenize(example.INSTRUCTION, vocab, cfg.max_length)
    graphs: dict = {}
    exits = []
    g = torch.Generator().manual_seed(11)
    features = None
    for k in range(cfg.exits):
        if k == 0:
            inputs = golden_inputs_common(cameras=[c[1] for c in CAMERAS], tokens=ids, mask=mask,
                                          state_dim=cfg.state_dim, pixel_size=PIXELS)
            module = WithPixelInput(model.stages[0], pixels=PIXELS, image_size=cfg.image_size)
        else:
            inputs = {"features_in": features}
            module = model.stages[k]
        stage = export_graph(module, name=f"stage_{k}", out_dir=out_dir, inputs=inputs, output_names=["features"])
        features = stage.outputs["features"]
        head_inputs = {"actions": torch.randn(1, cfg.horizon, cfg.action_dim, generator=g),
                       "time": torch.rand(1, generator=g), "features": features}
        head = export_graph(model.heads[k], name=f"head_{k}", out_dir=out_dir, inputs=head_inputs,
                            output_names=["velocity"])
        graphs[f"stage_{k}"] = stage.spec
        graphs[f"head_{k}"] = head.spec
        exits.append({"stage": f"stage_{k}", "head": f"head_{k}"})
    m = mf.manifest(name=NAME, kind="flow", description=description, trained=trained, chunk_length=cfg.horizon,
                    cameras=[mf.camera(n, i, size=cfg.image_size, pixels=PIXELS) for n, i in CAMERAS],
                    embodiments={"franka": franka_ee_embodiment(state_stats, action_stats)}, graphs=graphs,
                    flow={"exits": exits, "steps": STEPS})
    m["language"] = mf.language(max_length=cfg.max_length)
    m["execute_length"] = EXECUTE_LENGTH
    mf.write_manifest(out_dir, m)
    example.write_example(out_dir)
    return m


def main() -> None:
    torch.manual_seed(0)
    cfg = Config(vocab_size=len(default_vocab()))
    model = FlowSmall(cfg)
    export_package(model, cfg=cfg, state_stats=Stats(np.zeros(8), np.ones(8)),
                   action_stats=Stats(np.zeros(7), np.array([0.01] * 6 + [0.04])), trained=False,
                   description="flow-small architecture with random weights (export check)")
    print(f"{NAME}: " + ", ".join(f"stage_{k} {count_params(s)}" for k, s in enumerate(model.stages)) + ", "
          + ", ".join(f"head_{k} {count_params(h)}" for k, h in enumerate(model.heads)) + " params")
    mf.print_sizes(HERE)


if __name__ == "__main__":
    main()
