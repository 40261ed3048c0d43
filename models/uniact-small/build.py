"""Export a uniact package (models/uniact-small, or a single-robot one such as the UR5e
from-scratch baseline): backbone (primary camera uint8 pixels + instruction -> ua_logits,
features), decoder_franka (+ eye_in_hand) and decoder_agibot (+ left/right wrist), codebook.bin,
manifest with per-embodiment cameras and the training data's normalization stats, vocab, goldens
(decoder goldens chained from the backbone golden) and example observations for both robots.

Called by train.py after training; `python3 build.py` alone exports a random-init package.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict, List, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from armature_models import example, manifest as mf  # noqa: E402
from armature_models.export import export_graph, golden_inputs_common  # noqa: E402
from armature_models.nets import count_params  # noqa: E402
from armature_models.tokenizer import default_vocab, split_words, tokenize, write_vocab  # noqa: E402
from armature_models.training import Stats, arm_ee_embodiment  # noqa: E402
from model import BackboneExport, Config, Decoder, DecoderExport, UniActSmall, wrist_inputs  # noqa: E402

NAME = "uniact-small"
#: primary camera per embodiment (one graph input, a different camera per robot)
PRIMARY = {"franka": "agentview", "agibot": "head", "ur5e": "agentview"}
ROBOTS = {"franka": "franka/fr3", "agibot": "agibot/dual_arm", "ur5e": "universal_robots/ur5e"}
#: arm joints of the single-arm robots
ARM_JOINTS = {"franka": 7, "ur5e": 6}
#: actions executed per 8-step chunk before replanning
EXECUTE_LENGTH = 4


def package_vocab(instructions: List[str]) -> List[str]:
    """default vocabulary + the training instructions' words it lacks (dual-arm words), appended so ids stay."""
    vocab = default_vocab()
    known = set(vocab)
    extra = sorted({w for t in instructions for w in split_words(t) if w not in known})
    return vocab + extra


def agibot_ee_embodiment(state: Stats, action: Stats) -> dict:
    """Dual arm: proprio [14 joints (left 7, right 7, rad), 2 gripper widths (m)], actions per arm
    [dx, dy, dz (m), drx, dry, drz (rad), gripper (m)], left then right (the bimanual expert's commands)."""
    s_mean, s_std = [float(v) for v in state.mean], [float(v) for v in state.std]
    names = [f"{a}_{n}" for a in ("left", "right") for n in ("dx", "dy", "dz", "drx", "dry", "drz", "gripper")]
    units = (["m"] * 3 + ["rad"] * 3 + ["m"]) * 2
    a = {"space": "ee_delta_pose", "names": names, "units": units,
         "mean": [float(v) for v in action.mean], "std": [float(v) for v in action.std], "gripper_dims": [6, 13]}
    proprio = {"input": "state", "fields": [
        {"name": "joint_positions", "dim": 14, "mean": s_mean[:14], "std": s_std[:14]},
        {"name": "gripper", "dim": 2, "mean": s_mean[14:16], "std": s_std[14:16]},
    ]}
    return {"robot": ROBOTS["agibot"], "proprio": proprio, "action": a}


def write_codebook(path: Path, codebook: torch.Tensor) -> None:
    """float32 little-endian, row-major [size, dim]."""
    path.write_bytes(codebook.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes())


def embodiment_spec(name: str, state: Stats, action: Stats) -> dict:
    """Manifest embodiment (robot, proprio, action) of one robot, normalized with its data's stats."""
    if name == "agibot":
        return agibot_ee_embodiment(state, action)
    return arm_ee_embodiment(state, action, robot=ROBOTS[name], joints=ARM_JOINTS[name])


def cameras(cfg: Config) -> List[dict]:
    """Camera entries of the config's robots; a camera several robots share (the FR3's and the
    UR5e's agentview and eye_in_hand) is one entry listing them all."""
    by_camera: Dict[Tuple[str, str], List[str]] = {}
    for emb in cfg.embodiments:
        by_camera.setdefault((PRIMARY[emb], "image_primary"), []).append(emb)
    for emb, e in cfg.embodiments.items():
        for w in e.wrists:
            by_camera.setdefault((w, f"image_{w}"), []).append(emb)
    return [{**mf.camera(cam, inp, size=cfg.image_size, pixels=cfg.pixel_size), "embodiments": embs}
            for (cam, inp), embs in by_camera.items()]


def backbone_golden_inputs(cfg: Config, vocab: List[str]) -> dict:
    """The backbone golden's inputs: seeded primary-camera pixels and the example instruction."""
    ids, mask = tokenize(example.INSTRUCTION, vocab, cfg.max_length)
    return golden_inputs_common(cameras=["image_primary"], tokens=ids, mask=mask, state_dim=0,
                                image_size=cfg.image_size, pixel_size=cfg.pixel_size)


def backbone_golden_outputs(model: UniActSmall, cfg: Config, vocab: List[str]) -> Tuple[dict, Dict[str, torch.Tensor]]:
    """The backbone golden's inputs and outputs (what decoder goldens are chained from), computed in torch."""
    inputs = backbone_golden_inputs(cfg, vocab)
    with torch.no_grad():
        logits, feat = BackboneExport(model.backbone, cfg)(*inputs.values())
    return inputs, {"ua_logits": logits, "features": feat}


def export_decoder(decoder: Decoder, out_dir: Path, *, cfg: Config, name: str, index: int, codebook: torch.Tensor,
                   backbone_out: Dict[str, torch.Tensor]) -> dict:
    """decoder_<name>.onnx + its golden, fed with the backbone golden's code and features; returns the graph spec."""
    e = cfg.embodiments[name]
    code = int(backbone_out["ua_logits"][0].argmax())
    g = torch.Generator().manual_seed(100 + index)
    dec_inputs = {"ua_embedding": codebook.detach()[code:code + 1],
                  "features": backbone_out["features"],
                  "state": torch.randn(1, e.state_dim, generator=g)}
    for w in wrist_inputs(e):
        dec_inputs[w] = torch.randint(0, 256, (1, cfg.pixel_size, cfg.pixel_size, 3), generator=g, dtype=torch.uint8)
    graph = f"decoder_{name}"
    return export_graph(DecoderExport(decoder, cfg, len(e.wrists)), name=graph, out_dir=out_dir, inputs=dec_inputs,
                        output_names=["actions"]).spec


def write_robot_example(out_dir: Path, name: str, file: str) -> None:
    """example/<file>: the example observation as robot `name` gives it (its cameras and proprio)."""
    if name == "agibot":
        example.write_example(out_dir, cameras=["head", "left_wrist", "right_wrist"], proprio=example.agibot_proprio(),
                              file=file, views={"head": "agentview", "left_wrist": "eye_in_hand", "right_wrist": "eye_in_hand"})
    else:
        example.write_example(out_dir, file=file, proprio=example.ur5e_proprio() if name == "ur5e" else example.franka_proprio())


def write_examples(out_dir: Path, names: List[str]) -> None:
    """example/observation.json for the first robot, observation_<robot>.json for the others."""
    for i, name in enumerate(names):
        write_robot_example(out_dir, name, "observation.json" if i == 0 else f"observation_{name}.json")


def export_package(model: UniActSmall, out_dir: Path = HERE, *, cfg: Config, vocab: List[str],
                   stats: Dict[str, Tuple[Stats, Stats]], trained: bool = True, name: str = NAME,
                   description: str = "Universal-action VLA: keypoint backbone (primary camera + instruction) -> "
                                      "logits over a 64x32 VQ codebook shared by the FR3 and the AgiBot dual arm "
                                      "-> per-robot decoders (code, features, proprio, wrist cameras) -> "
                                      "end-effector delta chunks; trained jointly on both robots' expert demos.") -> dict:
    model.eval()
    write_vocab(out_dir / "vocab.txt", vocab)
    write_codebook(out_dir / "codebook.bin", model.codebook)
    bb = export_graph(BackboneExport(model.backbone, cfg), name="backbone", out_dir=out_dir,
                      inputs=backbone_golden_inputs(cfg, vocab),
                      output_names=["ua_logits", "features"])
    graphs = {"backbone": bb.spec}
    embodiments = {}
    for i, emb in enumerate(cfg.embodiments):
        graphs[f"decoder_{emb}"] = export_decoder(model.decoders[emb], out_dir, cfg=cfg, name=emb, index=i,
                                                  codebook=model.codebook, backbone_out=bb.outputs)
        embodiments[emb] = {**embodiment_spec(emb, *stats[emb]), "decoder": f"decoder_{emb}"}
    m = mf.manifest(name=name, kind="universal_action", description=description, trained=trained,
                    chunk_length=cfg.chunk_length, cameras=cameras(cfg), embodiments=embodiments, graphs=graphs,
                    universal_action={"backbone": "backbone", "codebook": "codebook.bin",
                                      "size": cfg.codebook_size, "dim": cfg.codebook_dim})
    m["language"] = mf.language(max_length=cfg.max_length)
    m["execute_length"] = EXECUTE_LENGTH
    mf.write_manifest(out_dir, m)
    write_examples(out_dir, list(cfg.embodiments))
    return m


def identity_stats(cfg: Config) -> Dict[str, Tuple[Stats, Stats]]:
    return {n: (Stats(mean=np.zeros(e.state_dim), std=np.ones(e.state_dim)),
                Stats(mean=np.zeros(e.action_dim), std=np.full(e.action_dim, 0.01)))
            for n, e in cfg.embodiments.items()}


def main() -> None:
    torch.manual_seed(0)
    vocab = package_vocab([])
    cfg = Config(vocab_size=len(vocab))
    model = UniActSmall(cfg)
    export_package(model, cfg=cfg, vocab=vocab, stats=identity_stats(cfg), trained=False,
                   description="uniact-small architecture with random weights (export check)")
    print(f"{NAME}: backbone {count_params(model.backbone)} params, "
          + ", ".join(f"decoder_{n} {count_params(d)}" for n, d in model.decoders.items()))
    mf.print_sizes(HERE)


if __name__ == "__main__":
    main()
