"""Build models/diffusion-tiny: random init (seed 0), encoder + denoiser graphs, manifest, vocab,
goldens (denoiser golden chained from the encoder golden), example.

Run: /usr/bin/python3 models/diffusion-tiny/build.py
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
from model import Config, DiffusionTiny  # noqa: E402

NAME = "diffusion-tiny"
CAMERAS = [("agentview", "image_agentview"), ("eye_in_hand", "image_eye_in_hand")]


def new_model(seed: int = 0) -> DiffusionTiny:
    torch.manual_seed(seed)
    return DiffusionTiny(Config(vocab_size=len(default_vocab())))


def schedule(cfg: Config) -> dict:
    return {"type": "ddpm", "num_train_timesteps": cfg.num_train_timesteps, "beta_schedule": "squaredcos_cap_v2",
            "beta_start": 1e-4, "beta_end": 0.02, "prediction": "epsilon"}


def export_package(model: DiffusionTiny, out_dir: Path = HERE, *, trained: bool,
                   description: str = "Tiny image diffusion policy (DDPM, epsilon, per-position timesteps for "
                                      "streaming), FR3 end-effector deltas; random weights.") -> dict:
    cfg = model.cfg
    vocab = default_vocab()
    write_vocab(out_dir / "vocab.txt", vocab)
    ids, mask = tokenize(example.INSTRUCTION, vocab, mf.MAX_TOKENS)
    inputs = golden_inputs_common(cameras=[c[1] for c in CAMERAS], tokens=ids, mask=mask, state_dim=cfg.state_dim,
                                  image_size=cfg.image_size, pixel_size=cfg.pixel_size)
    enc = export_graph(model.encoder, name="encoder", out_dir=out_dir, inputs=inputs, output_names=["obs_embedding"])
    # streaming-style golden: noise level increasing along the horizon
    g = torch.Generator().manual_seed(7)
    den_inputs = {"noisy_actions": torch.randn(1, cfg.horizon, cfg.action_dim, generator=g),
                  "timesteps": (torch.rand(1, cfg.horizon, generator=g) * cfg.num_train_timesteps).sort(dim=1).values,
                  "obs_embedding": enc.outputs["obs_embedding"]}
    den = export_graph(model.denoiser, name="denoiser", out_dir=out_dir, inputs=den_inputs,
                       output_names=["prediction"])
    m = mf.manifest(name=NAME, kind="diffusion", description=description, trained=trained,
                    chunk_length=cfg.horizon,
                    cameras=[mf.camera(n, i, size=cfg.image_size, pixels=cfg.pixel_size) for n, i in CAMERAS],
                    embodiments={"franka": mf.franka_embodiment(action=mf.ee_delta_action())},
                    graphs={"encoder": enc.spec, "denoiser": den.spec},
                    diffusion={"schedule": schedule(cfg), "encoder": "encoder", "denoiser": "denoiser",
                               "per_position_timesteps": True})
    mf.write_manifest(out_dir, m)
    example.write_example(out_dir)
    return m


def main() -> None:
    model = new_model()
    export_package(model, trained=False)
    print(f"{NAME}: encoder {count_params(model.encoder)} params, denoiser {count_params(model.denoiser)} params")
    mf.print_sizes(HERE)


if __name__ == "__main__":
    main()
