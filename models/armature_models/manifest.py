"""Helpers to write manifest.json (schema: src/policy/manifest.ts, format armature.model/1).

Numbers that describe robots (home poses, normalization) live here once, so every
package agrees on them.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Mapping, Sequence

FORMAT = "armature.model/1"
IMAGE_SIZE = 64
#: camera pixels the packages take (the simulator's render size); the graph pools them to IMAGE_SIZE
PIXEL_SIZE = 128
MAX_TOKENS = 16
CONTROL_RATE_HZ = 20.0

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]

#: FR3 home pose, rad (J1..J7)
FR3_HOME = [0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785]
#: Franka gripper opening per finger at rest, m
GRIPPER_OPEN = 0.04

#: UR5e home pose, rad (hardware/universal_robots/ur5e.yaml), and its gripper's full opening, m
UR5E_HOME = [-0.4493, -2.0213, 1.625, -1.1745, -1.5708, -0.4493]
UR5E_GRIPPER_OPEN = 0.085

#: AgiBot dual arm rest pose, rad: zeros except the elbows (joint 4 of each arm), slightly bent.
#: Placeholder until hardware/agibot gives a measured rest pose.
AGIBOT_ARM_REST = [0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0]


def camera(name: str, input_name: str, size: int = IMAGE_SIZE, pixels: int | None = None) -> dict:
    """RGB camera: model image size x size, scaled by 1/255, ImageNet mean/std.

    With `pixels`, the graph input is uint8 [batch, pixels, pixels, 3] (HWC RGB, e.g. the 128x128
    render) and the graph itself normalizes and pools to size x size (nets.PixelInput); frames of
    another size are stretched to pixels x pixels by the runtime. Without it, the input is the
    normalized float32 [batch, 3, size, size] tensor and the runtime does everything."""
    c = {"name": name, "input": input_name, "height": size, "width": size, "channels": "rgb",
         "resize": "stretch", "scale": 1 / 255, "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)}
    if pixels:
        c["pixels"] = {"dtype": "uint8", "layout": "hwc", "height": pixels, "width": pixels}
    return c


def language(vocab_file: str = "vocab.txt", max_length: int = MAX_TOKENS) -> dict:
    return {"input": "tokens", "mask_input": "token_mask", "tokenizer": "word", "vocab": vocab_file,
            "max_length": max_length, "lowercase": True, "pad_token": "<pad>", "unk_token": "<unk>"}


def franka_proprio() -> dict:
    """state [batch, 8] = (joint_positions (rad) - home) / 0.5, (gripper (m) - 0.04) / 0.02."""
    return {"input": "state", "fields": [
        {"name": "joint_positions", "dim": 7, "mean": list(FR3_HOME), "std": [0.5] * 7},
        {"name": "gripper", "dim": 1, "mean": [GRIPPER_OPEN], "std": [0.02]},
    ]}


def franka_joint_action() -> dict:
    """8-D absolute joint targets: joint1..joint7 (rad) + gripper opening (m)."""
    return {"space": "joint_position",
            "names": [f"joint{i}" for i in range(1, 8)] + ["gripper"],
            "units": ["rad"] * 7 + ["m"],
            "mean": list(FR3_HOME) + [GRIPPER_OPEN],
            "std": [0.05] * 7 + [0.01],
            "gripper_dims": [7]}


def ee_delta_action() -> dict:
    """7-D LIBERO/OSC_POSE style action: delta position (m), delta axis-angle (rad), gripper -1 close..1 open."""
    return {"space": "ee_delta_pose",
            "names": ["dx", "dy", "dz", "drx", "dry", "drz", "gripper"],
            "units": ["m", "m", "m", "rad", "rad", "rad", "unitless"],
            "mean": [0.0] * 7,
            "std": [0.01, 0.01, 0.01, 0.05, 0.05, 0.05, 1.0],
            "gripper_dims": [6]}


def agibot_proprio() -> dict:
    """state [batch, 16]: 14 arm joints (left 7 then right 7, rad) and 2 grippers (left, right, m)."""
    return {"input": "state", "fields": [
        {"name": "joint_positions", "dim": 14, "mean": AGIBOT_ARM_REST * 2, "std": [0.5] * 14},
        {"name": "gripper", "dim": 2, "mean": [GRIPPER_OPEN] * 2, "std": [0.02] * 2},
    ]}


def agibot_joint_action() -> dict:
    """16-D absolute joint targets: left_joint1..7, right_joint1..7 (rad), left/right gripper (m)."""
    names = [f"left_joint{i}" for i in range(1, 8)] + [f"right_joint{i}" for i in range(1, 8)]
    return {"space": "joint_position",
            "names": names + ["left_gripper", "right_gripper"],
            "units": ["rad"] * 14 + ["m"] * 2,
            "mean": AGIBOT_ARM_REST * 2 + [GRIPPER_OPEN] * 2,
            "std": [0.05] * 14 + [0.01] * 2,
            "gripper_dims": [14, 15]}


def franka_embodiment(action: dict | None = None, decoder: str | None = None) -> dict:
    e = {"robot": "franka/fr3", "proprio": franka_proprio(), "action": action or franka_joint_action()}
    if decoder:
        e["decoder"] = decoder
    return e


def agibot_embodiment(decoder: str | None = None) -> dict:
    e = {"robot": "agibot/dual_arm", "proprio": agibot_proprio(), "action": agibot_joint_action()}
    if decoder:
        e["decoder"] = decoder
    return e


def proprio_dim(embodiment: Mapping) -> int:
    return sum(f["dim"] for f in embodiment["proprio"]["fields"])


def action_dim(embodiment: Mapping) -> int:
    return len(embodiment["action"]["names"])


def manifest(*, name: str, kind: str, description: str, trained: bool, chunk_length: int,
             cameras: Sequence[dict], embodiments: Dict[str, dict], graphs: Dict[str, dict],
             control_rate_hz: float = CONTROL_RATE_HZ, **sections: dict) -> dict:
    """Assemble a manifest dict; `sections` carries diffusion / flow / universal_action."""
    m = {"format": FORMAT, "name": name, "kind": kind, "description": description, "trained": trained,
         "control_rate_hz": control_rate_hz, "chunk_length": chunk_length, "cameras": list(cameras),
         "language": language(), "embodiments": embodiments, "graphs": graphs}
    m.update(sections)
    return m


def write_manifest(out_dir: Path, m: dict) -> Path:
    path = Path(out_dir) / "manifest.json"
    path.write_text(json.dumps(m, indent=2) + "\n", encoding="utf-8")
    return path


def file_sizes(out_dir: Path) -> List[tuple]:
    """(relative path, bytes) for every file in a package, sorted."""
    root = Path(out_dir)
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)


def print_sizes(out_dir: Path) -> None:
    sizes = file_sizes(out_dir)
    for rel, n in sizes:
        print(f"  {n:>9}  {rel}")
    print(f"  {sum(n for _, n in sizes):>9}  total")
