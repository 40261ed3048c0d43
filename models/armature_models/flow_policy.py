"""The trained flow-matching policies with early exits (A1, arXiv 2604.05672), FR3 end-effector deltas:
architecture, export and training, shared by the packages that differ only in size (flow-small,
flow-base: each package's model.py holds its Config).

stage_0 encodes the observation (language-FiLM conv + spatial-softmax keypoints, instruction,
proprio); stage_k (k >= 1) refines the features; every stage has its own velocity head, all
trained jointly, so the runtime can stop at the first exit whose actions agree with the
previous one's and warm-start a later exit's flow from an earlier exit's actions.
Time convention (as the runtime): t = 0 noise, t = 1 data, x_{t+dt} = x_t + dt v.

Loss: conditional flow matching at every exit, summed (each head learns the velocity
field from its own depth's features; the same t and noise for all exits):
x_t = (1 - t) x0 + t x1, x0 ~ N(0, I), x1 the normalized action chunk, target x1 - x0.
t is drawn from a Beta(1.5, 1) that leans towards the data end, where truncated flows
(a later exit warm-started from an earlier exit's actions) spend their steps.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Tuple

import numpy as np
import torch
from torch import nn

from . import example, manifest as mf
from .export import golden_inputs_common
from .flow import ResidualStage, VelocityHead, export_exits
from .nets import count_params
from .tokenizer import default_vocab, tokenize, write_vocab
from .training import (Arrays, Ema, Stats, base_checkpoint, batch_source, data_stats, fit, franka_ee_embodiment,
                       saved_stats, stats_to_json, train_arguments, training_record, write_loss_png)
from .vision import TwoCameraKeypointEncoder, WithPixelInput

CAMERAS = [("agentview", "image_agentview"), ("eye_in_hand", "image_eye_in_hand")]
PIXELS = 128
#: actions executed per 16-step chunk before replanning (Diffusion Policy's 8)
EXECUTE_LENGTH = 8
STEPS = 10


@dataclass(frozen=True)
class FlowConfig:
    vocab_size: int
    max_length: int = 20
    num_cameras: int = 2
    state_dim: int = 8
    action_dim: int = 7
    horizon: int = 16
    feature_dim: int = 256
    exits: int = 3
    stage_hidden: int = 256
    head_hidden: int = 256
    #: t in [0, 1] is multiplied by this before the sinusoidal embedding
    time_scale: float = 100.0
    image_size: int = 64
    #: observation encoder: conv channels per camera, keypoints, per-camera feature, fusion MLP width
    conv_widths: Tuple[int, int, int] = (32, 32, 32)
    keypoints: int = 32
    image_dim: int = 128
    fuse_hidden: int = 256
    #: how the runtime executes chunks unless the caller chooses (manifest execute_length / schedule):
    #: actions per chunk, and blend_steps > 0 blends into each new chunk over that many ticks
    execute_length: int = EXECUTE_LENGTH
    blend_steps: int = 0
    #: scale of the source noise the runtime samples from (manifest flow.noise_scale; 1 = as trained)
    noise_scale: float = 1.0


class FlowPolicy(nn.Module):
    def __init__(self, cfg: FlowConfig):
        super().__init__()
        self.cfg = cfg
        encoder = TwoCameraKeypointEncoder(vocab_size=cfg.vocab_size, max_length=cfg.max_length, state_dim=cfg.state_dim,
                                           out_dim=cfg.feature_dim, image_dim=cfg.image_dim, hidden=cfg.fuse_hidden,
                                           conv_widths=cfg.conv_widths, keypoints=cfg.keypoints)
        self.stages = nn.ModuleList([encoder] + [ResidualStage(cfg.feature_dim, cfg.stage_hidden) for _ in range(cfg.exits - 1)])
        self.heads = nn.ModuleList([VelocityHead(horizon=cfg.horizon, action_dim=cfg.action_dim,
                                                 feature_dim=cfg.feature_dim, hidden=cfg.head_hidden, time_dim=128,
                                                 time_scale=cfg.time_scale, layers=3)
                                    for _ in range(cfg.exits)])

    def features(self, *obs: torch.Tensor) -> list:
        h = [self.stages[0](*obs)]
        for k in range(1, self.cfg.exits):
            h.append(self.stages[k](h[-1]))
        return h


def parameter_counts(model: FlowPolicy) -> dict:
    params = {f"stage_{k}": count_params(s) for k, s in enumerate(model.stages)}
    params.update({f"head_{k}": count_params(h) for k, h in enumerate(model.heads)})
    return params


def export_flow_package(model: FlowPolicy, out_dir: Path, *, name: str, cfg: FlowConfig, state_stats: Stats,
                        action_stats: Stats, trained: bool = True,
                        description: str = "Flow-matching policy with 3 early exits (A1-style truncation), FR3 "
                                           "end-effector deltas; trained on the scripted expert's demonstrations.") -> dict:
    """stage_k / head_k graph pairs (stage_0 takes uint8 128x128 cameras and pools + normalizes in the
    graph), manifest with the training data's stats, vocab, goldens (chained: stage_k's golden output
    feeds stage_k+1 and head_k) and an example observation."""
    model.eval()
    vocab = default_vocab()
    write_vocab(out_dir / "vocab.txt", vocab)
    ids, mask = tokenize(example.INSTRUCTION, vocab, cfg.max_length)
    stage0 = WithPixelInput(model.stages[0], pixels=PIXELS, image_size=cfg.image_size)
    inputs = golden_inputs_common(cameras=[c[1] for c in CAMERAS], tokens=ids, mask=mask, state_dim=cfg.state_dim,
                                  pixel_size=PIXELS)
    graphs, exits = export_exits([stage0, *list(model.stages)[1:]], model.heads, inputs, horizon=cfg.horizon,
                                 action_dim=cfg.action_dim, out_dir=out_dir)
    m = mf.manifest(name=name, kind="flow", description=description, trained=trained, chunk_length=cfg.horizon,
                    cameras=[mf.camera(n, i, size=cfg.image_size, pixels=PIXELS) for n, i in CAMERAS],
                    embodiments={"franka": franka_ee_embodiment(state_stats, action_stats)}, graphs=graphs,
                    flow={"exits": exits, "steps": STEPS, **({"noise_scale": cfg.noise_scale} if cfg.noise_scale != 1.0 else {})})
    m["language"] = mf.language(max_length=cfg.max_length)
    m["execute_length"] = cfg.execute_length
    if cfg.blend_steps > 0:
        m["schedule"] = {"mode": "blend", "blend_steps": cfg.blend_steps}
    mf.write_manifest(out_dir, m)
    example.write_example(out_dir)
    return m


def build_random(out_dir: Path, *, name: str, cfg: FlowConfig) -> None:
    """`python3 build.py`: the architecture with random weights (torch.manual_seed(0)), exported."""
    torch.manual_seed(0)
    model = FlowPolicy(cfg)
    export_flow_package(model, out_dir, name=name, cfg=cfg, state_stats=Stats(np.zeros(8), np.ones(8)),
                        action_stats=Stats(np.zeros(7), np.array([0.01] * 6 + [0.04])), trained=False,
                        description=f"{name} architecture with random weights (export check)")
    print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in parameter_counts(model).items()) + " params")
    mf.print_sizes(out_dir)


def train_flow(out_dir: Path, *, cfg: FlowConfig, name: str) -> None:
    """train.py's main: train (resumable; --base fine-tunes a main training's EMA weights, normalized with
    its stats), then export the package into `out_dir` (unless --no-export)."""
    args = train_arguments(out_dir)
    data = Arrays(args.arrays)
    torch.manual_seed(args.seed)
    model = FlowPolicy(cfg)
    base = base_checkpoint(args.base, args.out) if args.base else None
    if base is not None:
        model.load_state_dict(base["ema"])
        st, act = base["stats"]
    else:
        # a run trained elsewhere (transport.py) resumes with the stats of the data it saw there
        st, act = saved_stats(args.checkpoint) or data_stats(data)
    ema = Ema(model, decay=0.999)
    source = batch_source(data, args.device, horizon=cfg.horizon, max_length=cfg.max_length, state=st, action=act)
    beta = torch.distributions.Beta(torch.tensor(1.5, device=args.device), torch.tensor(1.0, device=args.device))

    def loss_fn(m: FlowPolicy, b, gen: torch.Generator):
        n = b.chunk.shape[0]
        x0 = torch.randn(b.chunk.shape, generator=gen, device=b.chunk.device)
        t = beta.sample((n,))
        xt = (1 - t)[:, None, None] * x0 + t[:, None, None] * b.chunk
        target = b.chunk - x0
        feats = m.features(b.views[0], b.views[1], b.tokens, b.masks, b.state)
        losses = [torch.nn.functional.mse_loss(head(xt, t, h), target) for head, h in zip(m.heads, feats)]
        return sum(losses), {f"exit_{k}": v for k, v in enumerate(losses)}

    result = fit(model, ema, loss_fn, source=source, steps=args.steps, batch=args.batch, lr=args.lr,
                 seed=args.seed, checkpoint=args.checkpoint, device=args.device, time_budget_s=args.time_budget,
                 keep={"stats": stats_to_json(st, act)})
    if args.no_export:
        return
    ema.shadow.cpu()
    out = Path(args.out)
    history = result.history
    if base is not None:
        # one curve: the main training, then the fine-tune (its steps counted on from the base's)
        n0 = base["step"]
        history = {k: list(base["history"].get(k, [])) + [(s + n0 if k == "step" else s) for s in v] for k, v in result.history.items()}
    write_loss_png(out / "loss.png", {k: v for k, v in history.items() if k != "step"}, history["step"])
    m = export_flow_package(ema.shadow, out, name=name, cfg=cfg, state_stats=st, action_stats=act)
    info = training_record(name=m["name"], seed=args.seed, result=result, batch=args.batch, lr=args.lr, data=data,
                           arrays=args.arrays, parameters=parameter_counts(ema.shadow))
    if base is not None:
        info["curves"] = history
        info["base"] = {"checkpoint": Path(args.base).name, "steps": base["step"], "training_time_s": round(base["elapsed_s"], 1),
                        "machine": base["machine"], "stats": "the base's (kept from its export)"}
    (out / "training.json").write_text(json.dumps(info, indent=1) + "\n")
    print(json.dumps({k: v for k, v in info.items() if k != "curves"}, indent=1))
