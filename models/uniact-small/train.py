"""Train uniact-small jointly on the FR3 and AgiBot dual-arm expert demonstrations, then export.
The robots are those given --arrays (any of model.EMBODIMENTS), so the same script trains the
UR5e-only from-scratch baseline (models/uniact-ur5e-scratch, `--name uniact-ur5e-scratch`).

Run through `npm run train -- uniact-small` (records both robots' data first), or directly:
    /usr/bin/python3 models/uniact-small/train.py --arrays franka=.cache/arrays/<a> \
        --arrays agibot=.cache/arrays/<b> --checkpoint .cache/train/uniact-small [--steps N]

Every batch holds an equal share of each robot's frames. Losses:
- chunk reconstruction by each robot's decoder from the quantized ground-truth code
  (straight-through), and, for a growing share of samples, from the code the backbone itself
  predicts (detached), so the argmax code used at inference is in distribution;
- VQ codebook + commitment losses, with unused codes restarted from recent encodings;
- cross-entropy of the backbone logits against the ground-truth code index.
Resumes from <checkpoint>/last.pt; the EMA weights are what gets exported.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from armature_models.nets import count_params  # noqa: E402
from armature_models.tokenizer import tokenize  # noqa: E402
from armature_models.training import (Arrays, BatchSource, Ema, Stats, fit, set_threads, stats,  # noqa: E402
                                      training_record, write_loss_png, EE_ACTION_STD_FLOOR)
from build import export_package, package_vocab  # noqa: E402
from model import EMBODIMENTS, Config, UniActSmall  # noqa: E402

COMMIT = 0.25
CE = 0.5
#: share of samples decoded from the backbone's own code: 0 until PRED_START, then rising to
#: PRED_SHARE at PRED_FULL (the codes must settle before the backbone can predict them)
PRED_SHARE = 0.5
PRED_START = 1000
PRED_FULL = 3000
RESTART_EVERY = 250


def arguments():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arrays", action="append", required=True,
                    help="<embodiment>=<dir> written by `armature dataset arrays`, once per robot")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--steps", type=int, default=9000)
    ap.add_argument("--batch", type=int, default=64, help="total over both robots")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--name", default="uniact-small", help="package name written into the manifest")
    ap.add_argument("--description", default=None, help="manifest description (default: uniact-small's)")
    args = ap.parse_args()
    set_threads(args.threads)
    arrays = {}
    for a in args.arrays:
        if "=" not in a:
            raise SystemExit(f"--arrays {a}: uniact-small trains on several robots; pass <embodiment>=<dir> per robot")
        k, v = a.split("=", 1)
        if k not in EMBODIMENTS:
            raise SystemExit(f"--arrays {a}: unknown embodiment '{k}'; known: {sorted(EMBODIMENTS)}")
        arrays[k] = v
    return args, arrays


def ee_stats(data: Arrays) -> tuple:
    """proprio and action stats; per-arm ee-delta std floors (m, rad, gripper m)."""
    st = stats(data.state, 1e-3)
    act = stats(data.action, 0.0)
    arms = data.action.shape[1] // 7
    act.std = np.maximum(act.std, np.array(EE_ACTION_STD_FLOOR * arms))
    return st, act


class MixedSource:
    """Half the batch from each robot's arrays: {embodiment: Batch}."""

    def __init__(self, sources: dict):
        self.sources = sources

    def sample(self, batch: int, rng: np.random.Generator, gen: torch.Generator) -> dict:
        per = batch // len(self.sources)
        return {n: s.sample(per, rng, gen) for n, s in self.sources.items()}


def main() -> None:
    args, paths = arguments()
    data = {n: Arrays(p) for n, p in paths.items()}
    vocab = package_vocab([t for d in data.values() for t in d.tasks])
    cfg = Config(vocab_size=len(vocab), embodiments={n: EMBODIMENTS[n] for n in data})
    torch.manual_seed(args.seed)
    model = UniActSmall(cfg)
    ema = Ema(model, decay=0.999)
    st = {n: ee_stats(d) for n, d in data.items()}
    sources = {}
    for n, d in data.items():
        s = BatchSource(d, horizon=cfg.chunk_length, max_length=cfg.max_length, state=st[n][0], action=st[n][1])
        toks = [tokenize(t, vocab, cfg.max_length) for t in d.tasks]  # the package vocab, with dual-arm words
        s.tokens = torch.tensor([t[0] for t in toks], dtype=torch.int64)
        s.masks = torch.tensor([t[1] for t in toks], dtype=torch.float32)
        sources[n] = s
    source = MixedSource(sources)
    usage = torch.zeros(cfg.codebook_size)
    # the step counter survives a resume (the share schedule depends on it)
    last = Path(args.checkpoint) / "last.pt"
    calls = [int(torch.load(last, map_location="cpu")["step"]) if last.exists() else 0]
    names = list(cfg.embodiments)

    def loss_fn(m: UniActSmall, b: dict, gen: torch.Generator):
        calls[0] += 1
        # one backbone pass over both robots' primary cameras
        imgs = torch.cat([b[n].views[0] for n in names])
        toks = torch.cat([b[n].tokens for n in names])
        masks = torch.cat([b[n].masks for n in names])
        logits, feat = m.backbone(imgs, toks, masks)
        sizes = [b[n].chunk.shape[0] for n in names]
        zs = [m.chunk_encoders[n](b[n].chunk) for n in names]
        z = torch.cat(zs)
        q, idx, vq, commit = m.quantize(z)
        ce = F.cross_entropy(logits, idx)
        pred = logits.detach().argmax(dim=1)
        share = PRED_SHARE * min(1.0, max(0.0, (calls[0] - PRED_START) / (PRED_FULL - PRED_START)))
        use_pred = (torch.rand(z.shape[0], generator=gen) < share).unsqueeze(1)
        code = torch.where(use_pred, m.codebook[pred].detach(), q)
        recon, parts, o = 0.0, {}, 0
        for n, k in zip(names, sizes):
            out = m.decoders[n](code[o:o + k], feat[o:o + k], b[n].state, b[n].views[1:])
            r = F.mse_loss(out, b[n].chunk)
            parts[f"recon_{n}"] = float(r)
            recon = recon + r
            o += k
        loss = recon + vq + COMMIT * commit + CE * ce
        with torch.no_grad():
            usage.add_(torch.bincount(idx, minlength=cfg.codebook_size).float())
            if calls[0] % RESTART_EVERY == 0:
                dead = torch.nonzero(usage == 0).flatten()
                if len(dead) > 0:
                    pick = torch.randint(0, z.shape[0], (len(dead),), generator=gen)
                    m.codebook.data[dead] = z.detach()[pick] + 0.01 * torch.randn(len(dead), cfg.codebook_dim, generator=gen)
                usage.zero_()
        acc = float((pred == idx).float().mean())
        return loss, {"loss": float(loss), **parts, "ce": float(ce), "commit": float(commit), "code_acc": acc,
                      "codes_used": float(len(torch.unique(idx)))}

    result = fit(model, ema, loss_fn, source=source, steps=args.steps, batch=args.batch, lr=args.lr,
                 seed=args.seed, checkpoint=args.checkpoint)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    h = result.history
    write_loss_png(out / "loss.png", {k: h.get(k, []) for k in ("loss", *(f"recon_{n}" for n in names), "ce")}, h["step"])
    described = {"description": args.description} if args.description else {}
    m = export_package(ema.shadow, out, cfg=cfg, vocab=vocab, stats=st, name=args.name, **described)
    anyd = next(iter(data.values()))
    info = training_record(name=m["name"], seed=args.seed, result=result, batch=args.batch, lr=args.lr, data=anyd,
                           arrays=paths[names[0]], parameters={
                               "backbone": count_params(ema.shadow.backbone),
                               "codebook": ema.shadow.codebook.numel(),
                               **{f"decoder_{n}": count_params(d) for n, d in ema.shadow.decoders.items()},
                               **{f"chunk_encoder_{n} (training only)": count_params(d)
                                  for n, d in ema.shadow.chunk_encoders.items()}})
    info["data"] = {n: {"frames": d.n, "episodes": len(d.index["episodes"]), "instructions": len(d.tasks),
                        "cameras": d.cameras, "arrays": Path(paths[n]).name} for n, d in data.items()}
    info["machine"]["description"] = "2-core CPU VM, no GPU"
    # this training's graphs only (a later stage may have added another robot's decoder)
    info["onnx_bytes"] = {f: (out / f).stat().st_size for f in sorted(["backbone.onnx", *(f"decoder_{n}.onnx" for n in names)])}
    (out / "training.json").write_text(json.dumps(info, indent=1) + "\n")
    print(json.dumps({k: v for k, v in info.items() if k != "curves"}, indent=1))


if __name__ == "__main__":
    main()
