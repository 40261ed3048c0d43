"""Train flow-small on expert demonstrations, then export the package.

Run through `npm run train -- flow-small`, or directly:
    /usr/bin/python3 models/flow-small/train.py --arrays <arrays> --checkpoint <dir> [--steps N]

Loss: conditional flow matching at every exit, summed (each head learns the velocity
field from its own depth's features; the same t and noise for all exits):
x_t = (1 - t) x0 + t x1, x0 ~ N(0, I), x1 the normalized action chunk, target x1 - x0.
t is drawn from a Beta(1.5, 1) that leans towards the data end, where truncated flows
(a later exit warm-started from an earlier exit's actions) spend their steps.

--base <checkpoint folder> (train.json stage `recovery`): fine-tune the main training's EMA weights on
its demonstrations plus handoff recovery data, normalized with the main training's stats.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

from armature_models.nets import count_params  # noqa: E402
from armature_models.tokenizer import default_vocab  # noqa: E402
from armature_models.training import (Arrays, Ema, base_checkpoint, batch_source, data_stats, fit,  # noqa: E402
                                      stats_to_json, train_arguments, training_record, write_loss_png)
from model import Config, FlowSmall  # noqa: E402


def main() -> None:
    args = train_arguments(HERE)
    data = Arrays(args.arrays)
    cfg = Config(vocab_size=len(default_vocab()))
    torch.manual_seed(args.seed)
    model = FlowSmall(cfg)
    base = base_checkpoint(args.base, args.out) if args.base else None
    if base is not None:
        model.load_state_dict(base["ema"])
        st, act = base["stats"]
    else:
        st, act = data_stats(data)
    ema = Ema(model, decay=0.999)
    source = batch_source(data, args.device, horizon=cfg.horizon, max_length=cfg.max_length, state=st, action=act)
    beta = torch.distributions.Beta(torch.tensor(1.5, device=args.device), torch.tensor(1.0, device=args.device))

    def loss_fn(m: FlowSmall, b, gen: torch.Generator):
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
    from build import export_package  # noqa: E402
    m = export_package(ema.shadow, out, cfg=cfg, state_stats=st, action_stats=act)
    params = {f"stage_{k}": count_params(s) for k, s in enumerate(ema.shadow.stages)}
    params.update({f"head_{k}": count_params(h) for k, h in enumerate(ema.shadow.heads)})
    info = training_record(name=m["name"], seed=args.seed, result=result, batch=args.batch, lr=args.lr, data=data,
                           arrays=args.arrays, parameters=params)
    if base is not None:
        info["curves"] = history
        info["base"] = {"checkpoint": Path(args.base).name, "steps": base["step"], "training_time_s": round(base["elapsed_s"], 1),
                        "machine": base["machine"], "stats": "the base's (kept from its export)"}
    (out / "training.json").write_text(json.dumps(info, indent=1) + "\n")
    print(json.dumps({k: v for k, v in info.items() if k != "curves"}, indent=1))


if __name__ == "__main__":
    main()
