"""Build models/uniact-tiny: random init (seed 0), backbone + per-embodiment decoder graphs, codebook.bin,
manifest, vocab, goldens (decoder goldens chained from the backbone golden), examples.

Run: /usr/bin/python3 models/uniact-tiny/build.py
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
from model import Config, UniActTiny  # noqa: E402

NAME = "uniact-tiny"
EMBODIMENTS = {"franka": mf.franka_embodiment, "agibot": mf.agibot_embodiment}


def new_model(seed: int = 0) -> UniActTiny:
    torch.manual_seed(seed)
    return UniActTiny(Config(vocab_size=len(default_vocab())))


def write_codebook(path: Path, codebook: torch.Tensor) -> None:
    """float32 little-endian, row-major [size, dim]."""
    path.write_bytes(codebook.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes())


def export_package(model: UniActTiny, out_dir: Path = HERE, *, trained: bool,
                   description: str = "Tiny universal-action policy: camera-agnostic backbone over a 256x32 "
                                      "codebook, decoders for FR3 and AgiBot dual arm; random weights.") -> dict:
    cfg = model.cfg
    model.eval()
    vocab = default_vocab()
    write_vocab(out_dir / "vocab.txt", vocab)
    write_codebook(out_dir / "codebook.bin", model.codebook)
    ids, mask = tokenize(example.INSTRUCTION, vocab, mf.MAX_TOKENS)
    inputs = golden_inputs_common(cameras=["image_primary"], tokens=ids, mask=mask, state_dim=0,
                                  image_size=cfg.image_size, pixel_size=cfg.pixel_size)
    bb = export_graph(model.backbone, name="backbone", out_dir=out_dir, inputs=inputs,
                      output_names=["ua_logits", "features"])
    graphs = {"backbone": bb.spec}
    # decoder goldens continue the backbone golden: greedy code, the same features, a seeded state
    code = int(bb.outputs["ua_logits"][0].argmax())
    embodiments = {}
    for i, (name, make) in enumerate(EMBODIMENTS.items()):
        state_dim, _ = cfg.embodiments[name]
        g = torch.Generator().manual_seed(100 + i)
        dec_inputs = {"ua_embedding": model.codebook.detach()[code:code + 1],
                      "features": bb.outputs["features"],
                      "state": torch.randn(1, state_dim, generator=g)}
        graph = f"decoder_{name}"
        graphs[graph] = export_graph(model.decoders[name], name=graph, out_dir=out_dir, inputs=dec_inputs,
                                     output_names=["actions"]).spec
        embodiments[name] = make(decoder=graph)
        if mf.proprio_dim(embodiments[name]) != state_dim or mf.action_dim(embodiments[name]) != cfg.embodiments[name][1]:
            raise ValueError(f"uniact-tiny Config.embodiments['{name}'] disagrees with the manifest helpers")
    m = mf.manifest(name=NAME, kind="universal_action", description=description, trained=trained,
                    chunk_length=cfg.chunk_length, cameras=[mf.camera("agentview", "image_primary", size=cfg.image_size, pixels=cfg.pixel_size)],
                    embodiments=embodiments, graphs=graphs,
                    universal_action={"backbone": "backbone", "codebook": "codebook.bin",
                                      "size": cfg.codebook_size, "dim": cfg.codebook_dim})
    mf.write_manifest(out_dir, m)
    example.write_example(out_dir)
    example.write_example(out_dir, cameras=["agentview"], proprio=example.agibot_proprio(),
                          file="observation_agibot.json")
    return m


def main() -> None:
    model = new_model()
    export_package(model, trained=False)
    print(f"{NAME}: backbone {count_params(model.backbone)} params, codebook {model.codebook.numel()}, "
          + ", ".join(f"decoder_{n} {count_params(d)}" for n, d in model.decoders.items()))
    mf.print_sizes(HERE)


if __name__ == "__main__":
    main()
