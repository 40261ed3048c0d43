"""Export models/diffusion-small: encoder (uint8 128x128 cameras in, pooled and normalized in
the graph) + denoiser graphs, manifest with the training data's normalization stats, vocab,
goldens and an example observation.

Called by train.py after training; `python3 build.py` alone exports a random-init package
(same seed) for checking the export path without data.
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
from armature_models.vision import WithPixelInput  # noqa: E402
from armature_models.tokenizer import default_vocab, tokenize, write_vocab  # noqa: E402
from armature_models.training import Stats, franka_ee_embodiment  # noqa: E402
from model import Config, DiffusionSmall  # noqa: E402

NAME = "diffusion-small"
CAMERAS = [("agentview", "image_agentview"), ("eye_in_hand", "image_eye_in_hand")]
#: rendered frame side the graph takes, px (pooled in-graph to Config.image_size)
PIXELS = 128
#: actions executed per 16-step chunk before replanning (Diffusion Policy's 8)
EXECUTE_LENGTH = 8


def schedule(cfg: Config) -> dict:
    return {"type": "ddpm", "num_train_timesteps": cfg.num_train_timesteps, "beta_schedule": "squaredcos_cap_v2",
            "beta_start": 1e-4, "beta_end": 0.02, "prediction": "epsilon"}


def export_package(model: DiffusionSmall, out_dir: Path = HERE, *, cfg: Config, state_stats: Stats,
                   action_stats: Stats, trained: bool = True,
                   description: str = "Image diffusion policy (DDPM epsilon, per-position timesteps trained with "
                                      "Streaming Diffusion Policy noise patterns), FR3 end-effector deltas; "
                                      "trained on the scripted expert's demonstrations.") -> dict:
    model.eval()
    vocab = default_vocab()
    write_vocab(out_dir / "vocab.txt", vocab)
    ids, mask = tokenize(example.INSTRUCTION, vocab, cfg.max_length)
    inputs = golden_inputs_common(cameras=[c[1] for c in CAMERAS], tokens=ids, mask=mask, state_dim=cfg.state_dim,
                                  pixel_size=PIXELS)
    enc = export_graph(WithPixelInput(model.encoder, pixels=PIXELS, image_size=cfg.image_size), name="encoder", out_dir=out_dir, inputs=inputs,
                       output_names=["obs_embedding"])
    g = torch.Generator().manual_seed(7)
    den_inputs = {"noisy_actions": torch.randn(1, cfg.horizon, cfg.action_dim, generator=g),
                  "timesteps": (torch.rand(1, cfg.horizon, generator=g) * cfg.num_train_timesteps).sort(dim=1).values,
                  "obs_embedding": enc.outputs["obs_embedding"]}
    den = export_graph(model.denoiser, name="denoiser", out_dir=out_dir, inputs=den_inputs,
                       output_names=["prediction"])
    m = mf.manifest(name=NAME, kind="diffusion", description=description, trained=trained,
                    chunk_length=cfg.horizon,
                    cameras=[mf.camera(n, i, size=cfg.image_size, pixels=PIXELS) for n, i in CAMERAS],
                    embodiments={"franka": franka_ee_embodiment(state_stats, action_stats)},
                    graphs={"encoder": enc.spec, "denoiser": den.spec},
                    diffusion={"schedule": schedule(cfg), "encoder": "encoder", "denoiser": "denoiser",
                               "per_position_timesteps": True})
    m["language"] = mf.language(max_length=cfg.max_length)
    m["execute_length"] = EXECUTE_LENGTH
    mf.write_manifest(out_dir, m)
    example.write_example(out_dir)
    return m


def main() -> None:
    torch.manual_seed(0)
    cfg = Config(vocab_size=len(default_vocab()), max_length=20)
    model = DiffusionSmall(cfg)
    ident = Stats(mean=np.zeros(8), std=np.ones(8))
    act = Stats(mean=np.zeros(7), std=np.array([0.01] * 3 + [0.01] * 3 + [0.04]))
    export_package(model, trained=False, cfg=cfg, state_stats=ident, action_stats=act,
                   description="diffusion-small architecture with random weights (export check)")
    print(f"{NAME}: encoder {count_params(model.encoder)} params, denoiser {count_params(model.denoiser)} params")
    mf.print_sizes(HERE)


if __name__ == "__main__":
    main()
