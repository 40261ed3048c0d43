"""Example observation for a package: example/observation.json plus two 128x128 PNGs.

The images are synthetic (a tabletop with a black bowl, a white plate and a red box)
but plausible enough for a runtime smoke test. They are 128x128 on purpose: the
runtime must resize them to the model's 64x64.
"""
from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import torch

from .manifest import AGIBOT_ARM_REST, FR3_HOME, GRIPPER_OPEN, UR5E_GRIPPER_OPEN, UR5E_HOME

INSTRUCTION = "pick up the black bowl and place it on the plate"
EXAMPLE_SIZE = 128


def write_png(path: Path, rgb: torch.Tensor) -> None:
    """Write uint8 [H, W, 3] as an 8-bit RGB PNG (filter 0 on every row)."""
    if rgb.dtype != torch.uint8 or rgb.dim() != 3 or rgb.shape[2] != 3:
        raise ValueError(f"write_png wants uint8 [H, W, 3], got {rgb.dtype} {list(rgb.shape)}")
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + bytes(rgb[y].reshape(-1).tolist()) for y in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    Path(path).write_bytes(png)


def _ellipse(yy: torch.Tensor, xx: torch.Tensor, cy: float, cx: float, ry: float, rx: float) -> torch.Tensor:
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2


def _paint(img: torch.Tensor, mask: torch.Tensor, color: Sequence[float]) -> None:
    img[mask] = torch.tensor(color, dtype=img.dtype)


def render_scene(*, view: str, size: int = EXAMPLE_SIZE, seed: int = 0) -> torch.Tensor:
    """uint8 [size, size, 3] tabletop image; view 'agentview' (front, wall at the top) or 'eye_in_hand' (close, top-down)."""
    g = torch.Generator().manual_seed(seed)
    s = size / 128.0
    yy, xx = torch.meshgrid(torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32), indexing="ij")
    img = torch.zeros(size, size, 3)
    # wooden table: warm brown, darker grain stripes, lighter towards the camera
    grain = 0.06 * torch.sin(xx / (3.0 * s) + 2.0 * torch.sin(yy / (17.0 * s)))
    light = 0.85 + 0.15 * yy / size
    for c, base in enumerate((0.62, 0.45, 0.30)):
        img[..., c] = (base + grain) * light
    if view == "agentview":
        wall = yy < 30 * s
        img[wall] = torch.tensor([0.78, 0.78, 0.74]) * (0.9 + 0.1 * yy[wall].unsqueeze(-1) / (30 * s))
        # white plate with a faint rim and shadow
        _paint(img, _ellipse(yy, xx, 84 * s, 86 * s, 11 * s, 20 * s) < 1, (0.25, 0.19, 0.13))
        _paint(img, _ellipse(yy, xx, 82 * s, 84 * s, 11 * s, 20 * s) < 1, (0.86, 0.86, 0.84))
        _paint(img, _ellipse(yy, xx, 82 * s, 84 * s, 7 * s, 13 * s) < 1, (0.93, 0.93, 0.91))
        # black bowl: dark body, grey rim, darker inside
        _paint(img, _ellipse(yy, xx, 66 * s, 40 * s, 10 * s, 14 * s) < 1, (0.10, 0.10, 0.11))
        _paint(img, _ellipse(yy, xx, 61 * s, 40 * s, 5 * s, 14 * s) < 1, (0.32, 0.32, 0.33))
        _paint(img, _ellipse(yy, xx, 61 * s, 40 * s, 4 * s, 12 * s) < 1, (0.05, 0.05, 0.06))
        # red box behind
        box = (yy > 38 * s) & (yy < 52 * s) & (xx > 92 * s) & (xx < 110 * s)
        _paint(img, box, (0.72, 0.12, 0.10))
        _paint(img, box & (yy < 42 * s), (0.85, 0.25, 0.20))
    elif view == "eye_in_hand":
        # close, top-down: bowl large in the centre, plate edge at the right, fingers at the bottom
        _paint(img, _ellipse(yy, xx, 60 * s, 140 * s, 40 * s, 40 * s) < 1, (0.88, 0.88, 0.86))
        _paint(img, _ellipse(yy, xx, 58 * s, 58 * s, 30 * s, 32 * s) < 1, (0.12, 0.12, 0.13))
        _paint(img, _ellipse(yy, xx, 58 * s, 58 * s, 26 * s, 28 * s) < 1, (0.30, 0.30, 0.31))
        _paint(img, _ellipse(yy, xx, 58 * s, 58 * s, 22 * s, 24 * s) < 1, (0.06, 0.06, 0.07))
        for x0 in (22, 92):
            finger = (yy > 104 * s) & (xx > x0 * s) & (xx < (x0 + 14) * s)
            _paint(img, finger, (0.55, 0.56, 0.58))
            _paint(img, finger & (yy > 118 * s), (0.40, 0.40, 0.42))
    else:
        raise ValueError(f"unknown view '{view}', expected 'agentview' or 'eye_in_hand'")
    img = img + 0.015 * torch.randn(img.shape, generator=g)
    return (img.clamp(0, 1) * 255).round().to(torch.uint8)


def franka_proprio(seed: int = 0) -> Dict[str, List[float]]:
    """Home pose plus a small seeded offset (rad), gripper open (m)."""
    g = torch.Generator().manual_seed(seed)
    q = [round(h + 0.05 * float(d), 4) for h, d in zip(FR3_HOME, torch.randn(7, generator=g))]
    return {"joint_positions": q, "gripper": [GRIPPER_OPEN]}


def ur5e_proprio(seed: int = 0) -> Dict[str, List[float]]:
    """UR5e home pose plus a small seeded offset (rad), gripper open (m)."""
    g = torch.Generator().manual_seed(seed)
    q = [round(h + 0.05 * float(d), 4) for h, d in zip(UR5E_HOME, torch.randn(6, generator=g))]
    return {"joint_positions": q, "gripper": [UR5E_GRIPPER_OPEN]}


def agibot_proprio(seed: int = 0) -> Dict[str, List[float]]:
    g = torch.Generator().manual_seed(seed)
    rest = AGIBOT_ARM_REST * 2
    q = [round(h + 0.05 * float(d), 4) for h, d in zip(rest, torch.randn(14, generator=g))]
    return {"joint_positions": q, "gripper": [GRIPPER_OPEN, GRIPPER_OPEN]}


def write_example(pkg_dir: Path, *, cameras: Sequence[str] = ("agentview", "eye_in_hand"),
                  proprio: Dict[str, List[float]] | None = None, file: str = "observation.json",
                  image_files: Dict[str, str] | None = None, views: Dict[str, str] | None = None) -> Path:
    """Write example/<file> and one PNG per camera; returns the JSON path. `views` maps a camera
    without a synthetic view of its own (e.g. 'head') to 'agentview' or 'eye_in_hand'."""
    ex = Path(pkg_dir) / "example"
    ex.mkdir(parents=True, exist_ok=True)
    image_files = image_files or {c: f"{c}.png" for c in cameras}
    for i, cam in enumerate(cameras):
        png = ex / image_files[cam]
        write_png(png, render_scene(view=(views or {}).get(cam, cam), seed=i))
    doc = {"instruction": INSTRUCTION, "stamp": 0,
           "proprio": proprio if proprio is not None else franka_proprio(),
           "images": {c: image_files[c] for c in cameras}}
    path = ex / file
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path
