"""Train diffusion-small on expert demonstrations, then export the package.

Run through `npm run train -- diffusion-small` (records the data first), or directly:
    /usr/bin/python3 models/diffusion-small/train.py --arrays .cache/arrays/diffusion-small \
        --checkpoint .cache/train/diffusion-small [--steps N]

Noise levels per horizon position are drawn from a mixture so that every sampler the
runtime offers sees in-distribution inputs:
- one level for the whole chunk (DDPM, DDIM-k, RTI warm starts re-noised to one level);
- the Streaming Diffusion Policy pattern: level rising along the horizon on the DDIM grid
  the streaming sampler uses (m steps per action, K = m H levels), with a random phase;
- independent sorted levels (partially denoised buffers in between).
Resumes from <checkpoint>/last.pt; the EMA weights are what gets exported.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

from armature_models.nets import count_params  # noqa: E402
from armature_models.tokenizer import default_vocab  # noqa: E402
from armature_models.training import (Arrays, Ema, batch_source, data_stats, fit, saved_stats,  # noqa: E402
                                      stats_to_json, train_arguments, training_record, write_loss_png)
from model import Config, DiffusionSmall  # noqa: E402

def alphas_cumprod(T: int) -> torch.Tensor:
    """squaredcos_cap_v2, identical to src/policy/samplers/schedule.ts."""
    def ab(s: float) -> float:
        return math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = [min(1 - ab((i + 1) / T) / ab(i / T), 0.999) for i in range(T)]
    return torch.cumprod(1 - torch.tensor(betas, dtype=torch.float64), 0).float()


def sample_timesteps(b: int, horizon: int, T: int, gen: torch.Generator) -> torch.Tensor:
    """[B, H] integer timesteps from the mixture described in the module docstring (on gen's device)."""
    dev = gen.device
    pos = torch.arange(horizon, device=dev)
    mode = torch.rand(b, 1, generator=gen, device=dev)
    # half: one level for the whole chunk (DDPM/DDIM training)
    same = torch.randint(0, T, (b, 1), generator=gen, device=dev).expand(b, horizon)
    # 35 %: the streaming buffer's staircase on a grid of m * horizon levels, shifted by c
    m = torch.randint(1, T // horizon + 1, (b, 1), generator=gen, device=dev)
    K = m * horizon
    r = T // K
    c = (torch.rand(b, 1, generator=gen, device=dev) * m).long()
    level = torch.minimum(m * (pos + 1) - c, K)
    stair = (level - 1) * r + (torch.rand(b, horizon, generator=gen, device=dev) * r).long()
    # 15 %: independent levels, sorted (noise rising along the horizon)
    rising = torch.randint(0, T, (b, horizon), generator=gen, device=dev).sort(dim=1).values
    out = torch.where(mode < 0.5, same, torch.where(mode < 0.85, stair, rising))
    return out.clamp(0, T - 1)


def main() -> None:
    args = train_arguments(HERE)
    data = Arrays(args.arrays)
    cfg = Config(vocab_size=len(default_vocab()), max_length=20)
    torch.manual_seed(args.seed)
    model = DiffusionSmall(cfg)
    ema = Ema(model, decay=0.999)
    # a run trained elsewhere (transport.py) resumes with the stats of the data it saw there
    st, act = saved_stats(args.checkpoint) or data_stats(data)
    source = batch_source(data, args.device, horizon=cfg.horizon, max_length=cfg.max_length, state=st, action=act)
    abar = alphas_cumprod(cfg.num_train_timesteps).to(args.device)

    def loss_fn(m: DiffusionSmall, b, gen: torch.Generator):
        t = sample_timesteps(b.chunk.shape[0], cfg.horizon, cfg.num_train_timesteps, gen)
        eps = torch.randn(b.chunk.shape, generator=gen, device=b.chunk.device)
        ab = abar[t].unsqueeze(-1)
        noisy = ab.sqrt() * b.chunk + (1 - ab).sqrt() * eps
        emb = m.encoder(b.views[0], b.views[1], b.tokens, b.masks, b.state)
        loss = torch.nn.functional.mse_loss(m.denoiser(noisy, t.float(), emb), eps)
        return loss, {"loss": loss}

    result = fit(model, ema, loss_fn, source=source, steps=args.steps, batch=args.batch, lr=args.lr,
                 seed=args.seed, checkpoint=args.checkpoint, device=args.device, time_budget_s=args.time_budget,
                 keep={"stats": stats_to_json(st, act)})
    if args.no_export:
        return
    ema.shadow.cpu()
    out = Path(args.out)
    write_loss_png(out / "loss.png", {"loss": result.history.get("loss", [])}, result.history["step"])
    from build import export_package  # noqa: E402
    m = export_package(ema.shadow, out, cfg=cfg, state_stats=st, action_stats=act)
    info = training_record(name=m["name"], seed=args.seed, result=result, batch=args.batch, lr=args.lr, data=data,
                           arrays=args.arrays, parameters={"encoder": count_params(ema.shadow.encoder),
                                                           "denoiser": count_params(ema.shadow.denoiser)})
    (out / "training.json").write_text(json.dumps(info, indent=1) + "\n")
    print(json.dumps({k: v for k, v in info.items() if k != "curves"}, indent=1))


if __name__ == "__main__":
    main()
