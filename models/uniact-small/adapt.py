"""Cross-embodiment adaptation: add a new robot's decoder head to uniact-small, backbone and
codebook frozen (the UniAct recipe: the universal action extractor stays, only the head learns).

Run through `npm run train -- uniact-small --stage ur5e` (records the robot's demos first), or:
    /usr/bin/python3 models/uniact-small/adapt.py --arrays ur5e=.cache/arrays/<a> \
        --checkpoint .cache/train/uniact-small@ur5e --base .cache/train/uniact-small [--steps N]

The head sees what it will see at inference: the codebook entry of the frozen backbone's own
argmax code, the backbone features, the robot's proprio and its wrist camera; the loss is the MSE
to the robot's normalized action chunk. Only decoder_<robot>.onnx, its golden and
example/observation_<robot>.json are written; the manifest gains the robot's embodiment (its
cameras join the shared camera entries), the other graphs stay byte for byte. Resumes from
<checkpoint>/last.pt; the EMA head is exported.

--refit fits a new head the same way for a robot the backbone was trained with (an experiment:
no better than the jointly trained heads, FR3 22.0 vs 20.8 % with gains and losses per suite, dual
arm 14 vs 74 %, so the package keeps the joint ones; see the README).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from armature_models import manifest as mf  # noqa: E402
from armature_models.nets import count_params  # noqa: E402
from armature_models.tokenizer import read_vocab, split_words, tokenize  # noqa: E402
from armature_models.training import Arrays, BatchSource, Ema, fit, set_threads, training_record, write_loss_png  # noqa: E402
from build import backbone_golden_outputs, cameras, embodiment_spec, export_decoder, write_robot_example  # noqa: E402
from model import EMBODIMENTS, Config, Decoder, UniActSmall  # noqa: E402
from train import ee_stats  # noqa: E402


class Head(nn.Module):
    """The only trainable module (so the optimizer, EMA and checkpoint hold the head alone)."""

    def __init__(self, cfg: Config, robot: str):
        super().__init__()
        self.decoder = Decoder(cfg, EMBODIMENTS[robot])


def arguments():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arrays", required=True, help="<robot>=<dir>: the new robot's arrays (one robot)")
    ap.add_argument("--checkpoint", required=True, help="folder for this stage's last.pt")
    ap.add_argument("--base", required=True, help="the main training's checkpoint folder (its last.pt holds the EMA weights)")
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--refit", action="store_true",
                    help="allow a robot the backbone was trained with: its decoder is replaced by a new one fitted the same way")
    args = ap.parse_args()
    set_threads(args.threads)
    robot, _, path = args.arrays.partition("=")
    if not path or robot not in EMBODIMENTS:
        raise SystemExit(f"--arrays {args.arrays}: pass <robot>=<dir> with robot one of {sorted(EMBODIMENTS)}")
    return args, robot, path


def load_base(base: Path, vocab_size: int) -> tuple:
    """The main training's EMA model (franka + agibot), frozen, and its config."""
    ckpt = torch.load(base / "last.pt", map_location="cpu")
    cfg = Config(vocab_size=vocab_size)
    model = UniActSmall(cfg)
    model.load_state_dict(ckpt["ema"])
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, cfg, int(ckpt["step"])


def main() -> None:
    args, robot, path = arguments()
    out = Path(args.out)
    vocab = read_vocab(out / "vocab.txt")
    base, base_cfg, base_steps = load_base(Path(args.base), len(vocab))
    if robot in base_cfg.embodiments and not args.refit:
        raise SystemExit(f"{robot} already has a jointly trained decoder; adaptation is for a new robot (--refit replaces it)")
    cfg = Config(vocab_size=len(vocab), embodiments={**base_cfg.embodiments, robot: EMBODIMENTS[robot]})
    data = Arrays(path)
    st, act = ee_stats(data)
    source = BatchSource(data, horizon=cfg.chunk_length, max_length=cfg.max_length, state=st, action=act)
    known = set(vocab)
    unknown = sorted({w for t in data.tasks for w in split_words(t) if w not in known})
    if unknown:
        print(f"note: words outside the frozen vocabulary map to <unk>: {unknown}", flush=True)
    toks = [tokenize(t, vocab, cfg.max_length) for t in data.tasks]
    source.tokens = torch.tensor([t[0] for t in toks], dtype=torch.int64)
    source.masks = torch.tensor([t[1] for t in toks], dtype=torch.float32)
    torch.manual_seed(args.seed)
    head = Head(cfg, robot)
    ema = Ema(head, decay=0.999)

    def loss_fn(m: Head, b, gen: torch.Generator):
        with torch.no_grad():
            logits, feat = base.backbone(b.views[0], b.tokens, b.masks)
            idx = logits.argmax(dim=1)
            code = base.codebook[idx]
        out_ = m.decoder(code, feat, b.state, b.views[1:])
        loss = F.mse_loss(out_, b.chunk)
        return loss, {"loss": float(loss), "codes_used": float(len(torch.unique(idx)))}

    result = fit(head, ema, loss_fn, source=source, steps=args.steps, batch=args.batch, lr=args.lr,
                 seed=args.seed, checkpoint=args.checkpoint)
    h = result.history
    write_loss_png(out / f"loss_{robot}.png", {"loss": h.get("loss", [])}, h["step"])

    decoder = ema.shadow.decoder.eval()
    _, bb_out = backbone_golden_outputs(base, base_cfg, vocab)
    index = list(cfg.embodiments).index(robot)
    spec = export_decoder(decoder, out, cfg=cfg, name=robot, index=index, codebook=base.codebook, backbone_out=bb_out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["graphs"][f"decoder_{robot}"] = spec
    manifest["embodiments"][robot] = {**embodiment_spec(robot, st, act), "decoder": f"decoder_{robot}"}
    manifest["cameras"] = cameras(cfg)
    mf.write_manifest(out, manifest)
    write_robot_example(out, robot, f"observation_{robot}.json")

    info = training_record(name=f"{manifest['name']}: {robot} decoder head", seed=args.seed, result=result,
                           batch=args.batch, lr=args.lr, data=data, arrays=path,
                           parameters={f"decoder_{robot} (trained)": count_params(decoder),
                                       "backbone (frozen)": count_params(base.backbone),
                                       "codebook (frozen)": base.codebook.numel()})
    info["base"] = {"checkpoint_step": base_steps, "frozen": ["backbone", "codebook"]}
    info["machine"]["description"] = "2-core CPU VM, no GPU"
    info["onnx_bytes"] = {f"decoder_{robot}.onnx": (out / f"decoder_{robot}.onnx").stat().st_size}
    (out / f"training_{robot}.json").write_text(json.dumps(info, indent=1) + "\n")
    print(json.dumps({k: v for k, v in info.items() if k != "curves"}, indent=1))


if __name__ == "__main__":
    main()
