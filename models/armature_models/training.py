"""Shared training machinery for the bundled policies.

- `Arrays`: the binary arrays `armature dataset arrays` writes (memory-mapped), with
  per-frame action-chunk indices that stop at the episode end (the last action repeats,
  as LeRobot's `action_is_pad` padding does);
- normalization stats from the data, random-shift augmentation, EMA weights;
- `Checkpointer`: save every few minutes and resume after a kill;
- `write_loss_png`: the loss curve as a PNG without matplotlib (Debian's torch has none);
- `machine_info`: what ran the training, for training.json.
"""
from __future__ import annotations

import copy
import json
import math
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
import torch
from torch import nn


class Arrays:
    """Frames of one or more recorded datasets; images stay on disk (np.memmap)."""

    def __init__(self, root: str | Path):
        root = Path(root)
        self.index = json.loads((root / "arrays.json").read_text())
        if self.index.get("format") != "armature.arrays/1":
            raise ValueError(f"{root}/arrays.json is not armature.arrays/1: re-run `armature dataset arrays`")
        n = self.index["frames"]
        self.n = n
        self.state = np.fromfile(root / "state.f32", dtype=np.float32).reshape(n, self.index["state"]["dim"])
        self.action = np.fromfile(root / "action.f32", dtype=np.float32).reshape(n, self.index["action"]["dim"])
        self.episode = np.fromfile(root / "episode.i32", dtype=np.int32)
        s = self.index["imageSize"]
        self.cameras: List[str] = list(self.index["cameras"])
        self.tasks: List[str] = list(self.index["tasks"])
        #: frames whose images were kept (models/armature_models/transport.py may keep every k-th frame only)
        self.image_stride = int(self.index.get("imageStride", 1))
        self.observation_frames = np.arange(0, n, self.image_stride)
        #: compact: the image files hold only the kept frames (row = frame // stride), not every frame
        self.images_compact = bool(self.index.get("imagesCompact", False))
        rows = len(self.observation_frames) if self.images_compact else n
        self.images = {c: np.memmap(root / f"images.{c}.u8", dtype=np.uint8, mode="r", shape=(rows, s, s, 3))
                       for c in self.cameras}
        self.frame_task = np.zeros(n, dtype=np.int64)
        self.episode_end = np.zeros(n, dtype=np.int64)
        for e in self.index["episodes"]:
            a, b = e["start"], e["start"] + e["length"]
            self.frame_task[a:b] = e["task"]
            self.episode_end[a:b] = b - 1

    def chunk_index(self, frames: np.ndarray, horizon: int) -> np.ndarray:
        """[B] frame ids -> [B, horizon] ids of the actions t..t+H-1, clipped at each episode's last frame."""
        idx = frames[:, None] + np.arange(horizon)[None, :]
        return np.minimum(idx, self.episode_end[frames][:, None])

    def image_rows(self, frames):
        """Rows of the image files that hold `frames` (observation frames; numpy or torch)."""
        return frames // self.image_stride if self.images_compact else frames

    def load_images(self, frames: np.ndarray) -> Dict[str, torch.Tensor]:
        """uint8 [B, S, S, 3] per camera (sorted reads are faster on memmaps)."""
        frames = self.image_rows(frames)
        order = np.argsort(frames)
        inv = np.empty_like(order)
        inv[order] = np.arange(len(order))
        out = {}
        for c in self.cameras:
            block = self.images[c][frames[order]]
            out[c] = torch.from_numpy(np.ascontiguousarray(block[inv]))
        return out


@dataclass
class Stats:
    mean: np.ndarray
    std: np.ndarray

    def to_json(self) -> dict:
        return {"mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std]}


#: per-dim std floors of the FR3 ee-delta actions: m, rad, m (gripper width)
EE_ACTION_STD_FLOOR = (1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-2)


def data_stats(data: "Arrays") -> tuple:
    """(proprio stats, action stats) with std floors, as the manifests record them."""
    st = stats(data.state, 1e-3)
    act = stats(data.action, 0.0)
    act.std = np.maximum(act.std, np.array(EE_ACTION_STD_FLOOR[:act.std.shape[0]] + (1e-3,) * max(0, act.std.shape[0] - 7)))
    return st, act


def stats_to_json(state: Stats, action: Stats) -> dict:
    """Both stats as plain lists (kept in checkpoints, so a later stage normalizes as the base did)."""
    return {"state": state.to_json(), "action": action.to_json()}


def stats_from_json(d: dict) -> tuple:
    return tuple(Stats(mean=np.asarray(d[k]["mean"], dtype=np.float64), std=np.asarray(d[k]["std"], dtype=np.float64))
                 for k in ("state", "action"))


def stats_from_manifest(path: str | Path, embodiment: str = "franka") -> tuple:
    """(proprio stats, action stats) of an exported single-arm package (arm_ee_embodiment's layout)."""
    e = json.loads(Path(path).read_text())["embodiments"][embodiment]
    fields = e["proprio"]["fields"]
    st = Stats(mean=np.concatenate([np.asarray(f["mean"], dtype=np.float64) for f in fields]),
               std=np.concatenate([np.asarray(f["std"], dtype=np.float64) for f in fields]))
    return st, Stats(mean=np.asarray(e["action"]["mean"], dtype=np.float64), std=np.asarray(e["action"]["std"], dtype=np.float64))


def base_checkpoint(base: str | Path, package: str | Path) -> dict:
    """A main training's last.pt for a later stage that fine-tunes it: {'ema', 'step', 'elapsed_s', 'machine',
    'history', 'stats': (state, action)}. Stats come from the checkpoint, else from the package the main
    training exported (checkpoints made before they kept stats)."""
    saved = torch.load(Path(base) / "last.pt", map_location="cpu")
    st = stats_from_json(saved["stats"]) if "stats" in saved else stats_from_manifest(Path(package) / "manifest.json")
    return {"ema": saved["ema"], "step": saved["step"], "elapsed_s": saved["elapsed_s"], "machine": saved.get("machine"),
            "history": saved["history"], "stats": st}


def saved_stats(checkpoint: str | Path) -> tuple | None:
    """(proprio stats, action stats) kept in <checkpoint>/last.pt by an earlier run of the same training, if any."""
    path = Path(checkpoint) / "last.pt"
    if not path.exists():
        return None
    saved = torch.load(path, map_location="cpu")
    return stats_from_json(saved["stats"]) if "stats" in saved else None


def stats(x: np.ndarray, min_std: float) -> Stats:
    """Per-dimension mean/std with a floor, so constant dims don't blow up."""
    return Stats(mean=x.mean(axis=0).astype(np.float64), std=np.maximum(x.std(axis=0), min_std).astype(np.float64))


def random_shift(img: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """DrQ-style augmentation: replicate-pad by `pad` px and crop back at a random offset per sample.
    img: float [B, C, H, W]. (A per-sample slice loop: ~20x cheaper than index gathers on CPU.)"""
    b, _, h, w = img.shape
    padded = nn.functional.pad(img, (pad, pad, pad, pad), mode="replicate")
    off = torch.randint(0, 2 * pad + 1, (b, 2), generator=gen).tolist()
    return torch.stack([padded[i, :, oy:oy + h, ox:ox + w] for i, (oy, ox) in enumerate(off)])


class Ema:
    """Exponential moving average of a module's parameters (evaluated and exported weights)."""

    def __init__(self, module: nn.Module, decay: float):
        self.decay = decay
        self.shadow = copy.deepcopy(module).eval()
        for p in self.shadow.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, module: nn.Module, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))
        shadow = list(self.shadow.parameters())
        torch._foreach_mul_(shadow, d)
        torch._foreach_add_(shadow, [p.detach() for p in module.parameters()], alpha=1 - d)
        for s, b in zip(self.shadow.buffers(), module.buffers()):
            s.copy_(b)


class Checkpointer:
    """Keeps `<dir>/last.pt`; writes atomically so a kill mid-save keeps the previous one."""

    def __init__(self, directory: str | Path, every_s: float = 120.0):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "last.pt"
        self.every_s = every_s
        self.last = time.time()

    def load(self) -> dict | None:
        if not self.path.exists():
            return None
        return torch.load(self.path, map_location="cpu")

    def save(self, state: dict) -> None:
        tmp = self.path.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, self.path)
        self.last = time.time()

    def due(self) -> bool:
        return time.time() - self.last >= self.every_s


def cosine_lr(step: int, total: int, base: float, warmup: int = 200) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p)))


def machine_info() -> dict:
    cuda = torch.cuda.is_available()
    return {"device": torch.cuda.get_device_name(0) if cuda else "cpu",
            "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "torch": torch.__version__, "python": platform.python_version()}


# --- loss curve PNG (no matplotlib here) ---------------------------------------------

_FONT = {  # 3x5 digits for axis labels
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001001001001",
    "8": "111101111101111", "9": "111101111001111", ".": "000000000000010", "e": "000111101110111",
    "-": "000000111000000", "k": "100101110101101",
}


def _text(img: np.ndarray, x: int, y: int, s: str, color=(60, 60, 60)) -> None:
    for ch in s:
        glyph = _FONT.get(ch)
        if glyph:
            for i, bit in enumerate(glyph):
                if bit == "1":
                    yy, xx = y + (i // 3) * 2, x + (i % 3) * 2
                    img[yy:yy + 2, xx:xx + 2] = color
        x += 8


def _png(path: str | Path, img: np.ndarray) -> None:
    from .example import write_png
    write_png(Path(path), torch.from_numpy(np.ascontiguousarray(img)))


def write_loss_png(path: str | Path, curves: Dict[str, Sequence[float]], steps: Sequence[int],
                   width: int = 640, height: int = 360) -> None:
    """Log-scale loss curves (one colour each) over training steps, with min/max labels."""
    colors = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189)]
    img = np.full((height, width, 3), 255, dtype=np.uint8)
    left, right, top, bottom = 60, 10, 20, 30
    pw, ph = width - left - right, height - top - bottom
    img[top:top + ph, left] = (0, 0, 0)
    img[top + ph, left:left + pw] = (0, 0, 0)
    vals = [v for c in curves.values() for v in c if v > 0 and math.isfinite(v)]
    if not vals or not steps:
        _png(path, img)
        return
    lo, hi = math.log10(min(vals)), math.log10(max(vals))
    if hi - lo < 1e-6:
        hi = lo + 1
    s0, s1 = steps[0], max(steps[-1], steps[0] + 1)
    for k, (name, c) in enumerate(curves.items()):
        col = colors[k % len(colors)]
        prev = None
        for s, v in zip(steps, c):
            if v <= 0 or not math.isfinite(v):
                continue
            x = left + int((s - s0) / (s1 - s0) * (pw - 1))
            y = top + int((hi - math.log10(v)) / (hi - lo) * (ph - 1))
            if prev is not None:
                n = max(abs(x - prev[0]), abs(y - prev[1]), 1)
                for i in range(n + 1):
                    xx = prev[0] + (x - prev[0]) * i // n
                    yy = prev[1] + (y - prev[1]) * i // n
                    img[yy:yy + 2, xx:xx + 2] = col
            prev = (x, y)
        img[6 + 10 * k:10 + 10 * k, width - 120:width - 100] = col
    _text(img, 4, top, f"{10 ** hi:.3g}")
    _text(img, 4, top + ph - 10, f"{10 ** lo:.3g}")
    _text(img, left, top + ph + 8, str(s0))
    _text(img, left + pw - 60, top + ph + 8, f"{s1}")
    _png(path, img)


# --- batches and the resumable loop shared by every policy's train.py ---------------

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class Batch:
    views: List[torch.Tensor]
    """normalized, randomly shifted images [B, 3, S, S] in camera order"""
    tokens: torch.Tensor
    masks: torch.Tensor
    state: torch.Tensor
    """normalized proprio [B, state_dim]"""
    chunk: torch.Tensor
    """normalized action chunk [B, H, A]"""


class BatchSource:
    """Random frames -> normalized training batches (images as PixelInput would normalize them)."""

    def __init__(self, data: Arrays, *, horizon: int, max_length: int, state: Stats, action: Stats,
                 shift: int = 4):
        from .tokenizer import default_vocab, split_words, tokenize
        import sys

        self.data, self.horizon, self.shift = data, horizon, shift
        vocab = default_vocab()
        unknown = sorted({w for t in data.tasks for w in split_words(t) if w not in vocab})
        if unknown:
            print(f"warning: instruction words outside the vocabulary map to <unk>: {unknown}", file=sys.stderr)
        toks = [tokenize(t, vocab, max_length) for t in data.tasks]
        self.tokens = torch.tensor([t[0] for t in toks], dtype=torch.int64)
        self.masks = torch.tensor([t[1] for t in toks], dtype=torch.float32)
        self.mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        self.s_mean, self.s_std = torch.tensor(state.mean).float(), torch.tensor(state.std).float()
        self.a_mean, self.a_std = torch.tensor(action.mean).float(), torch.tensor(action.std).float()

    @property
    def transport(self) -> dict | None:
        """how the arrays were carried to this machine (transport.py), if they were"""
        return self.data.index.get("transport")

    def sample(self, batch: int, rng: np.random.Generator, gen: torch.Generator) -> Batch:
        d = self.data
        frames = d.observation_frames[rng.integers(0, len(d.observation_frames), batch)]
        imgs = d.load_images(frames)
        views = []
        for c in d.cameras:
            x = imgs[c].permute(0, 3, 1, 2).float().div_(255.0)
            views.append(random_shift((x - self.mean) / self.std, self.shift, gen))
        task = torch.from_numpy(d.frame_task[frames])
        state = (torch.from_numpy(d.state[frames]) - self.s_mean) / self.s_std
        chunk = (torch.from_numpy(d.action[d.chunk_index(frames, self.horizon)]) - self.a_mean) / self.a_std
        return Batch(views=views, tokens=self.tokens[task], masks=self.masks[task], state=state, chunk=chunk)


def random_shift_batched(img: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """random_shift as one gather (the accelerator path: a per-sample loop would launch B kernels)."""
    b, c, h, w = img.shape
    dev = img.device
    padded = nn.functional.pad(img, (pad, pad, pad, pad), mode="replicate").permute(0, 2, 3, 1)
    off = torch.randint(0, 2 * pad + 1, (b, 2), generator=gen, device=dev)
    rows = off[:, 0:1] + torch.arange(h, device=dev)
    cols = off[:, 1:2] + torch.arange(w, device=dev)
    out = padded[torch.arange(b, device=dev)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2)


class ResidentBatchSource(BatchSource):
    """BatchSource with the whole dataset in the device's memory (images stay uint8; ~3 GB for the
    Franka suites), batches drawn and augmented there: the GPU path, where host reads would starve it."""

    def __init__(self, data: Arrays, *, device: torch.device, **kw):
        super().__init__(data, **kw)
        self.device = device
        to = lambda x: torch.from_numpy(np.array(x)).to(device)  # noqa: E731  (a copy: memmaps are read-only)
        self.images = {c: to(data.images[c]) for c in data.cameras}
        self.state_d, self.action_d = to(data.state), to(data.action)
        self.task_d, self.end_d = to(data.frame_task), to(data.episode_end)
        self.frames_d = to(data.observation_frames)
        self.tokens, self.masks = self.tokens.to(device), self.masks.to(device)
        self.mean, self.std = self.mean.to(device), self.std.to(device)
        self.s_mean, self.s_std = self.s_mean.to(device), self.s_std.to(device)
        self.a_mean, self.a_std = self.a_mean.to(device), self.a_std.to(device)
        self.steps = torch.arange(self.horizon, device=device)

    def sample(self, batch: int, rng: np.random.Generator, gen: torch.Generator) -> Batch:
        pick = torch.randint(0, len(self.frames_d), (batch,), generator=gen, device=self.device)
        frames = self.frames_d[pick]
        views = []
        for c in self.data.cameras:
            x = self.images[c][self.data.image_rows(frames)].permute(0, 3, 1, 2).float().div_(255.0)
            views.append(random_shift_batched((x - self.mean) / self.std, self.shift, gen))
        task = self.task_d[frames]
        state = (self.state_d[frames] - self.s_mean) / self.s_std
        idx = torch.minimum(frames[:, None] + self.steps[None, :], self.end_d[frames][:, None])
        chunk = (self.action_d[idx] - self.a_mean) / self.a_std
        return Batch(views=views, tokens=self.tokens[task], masks=self.masks[task], state=state, chunk=chunk)


def batch_source(data: Arrays, device: torch.device, **kw) -> BatchSource:
    """The batch source for `device`: host memory-mapped reads on the CPU, resident arrays elsewhere."""
    return BatchSource(data, **kw) if device.type == "cpu" else ResidentBatchSource(data, device=device, **kw)


@dataclass
class TrainResult:
    step: int
    elapsed_s: float
    history: Dict[str, list]
    #: machine_info() of the machine that trained (from the checkpoint when exporting elsewhere)
    machine: dict
    #: how the training data reached that machine (transport.py), if it was carried
    transport: dict | None = None


def set_threads(threads: int) -> None:
    torch.set_num_threads(threads if threads > 0 else (os.cpu_count() or 1))


def fit(model: nn.Module, ema: Ema, loss_fn, *, source: BatchSource, steps: int, batch: int, lr: float, seed: int,
        checkpoint: str | Path, device: torch.device = torch.device("cpu"), time_budget_s: float = 0.0,
        log_every: int = 100, keep: dict | None = None) -> TrainResult:
    """AdamW + cosine LR + grad clipping + EMA, resuming from <checkpoint>/last.pt; `loss_fn(model, batch, gen)`
    returns (loss, {name: float}) and the dict entries are logged as curves; `gen` lives on `device`.
    `keep`: extra entries saved in every checkpoint (e.g. the normalization stats).

    time_budget_s > 0: after the LR warm-up, measure the step rate and cut `steps` to what fits in the budget
    (the cosine schedule then ends there); the checkpoint keeps that total, so a resume finishes the same run."""
    model.to(device)
    ema.shadow.to(device)
    extra = {"foreach": True} if device.type == "cuda" else {}
    if device.type == "cuda":
        # TF32 matmuls and convolutions: several times the fp32 rate, well inside what behaviour cloning resolves
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4, **extra)
    ckpt = Checkpointer(checkpoint)
    saved = ckpt.load()
    step, elapsed, history, machine = 0, 0.0, {"step": []}, machine_info()
    # sources mixing several datasets (uniact-small's MixedSource) have no single transport
    transport = getattr(source, "transport", None)
    #: the step count a time budget fixed (kept in the checkpoint)
    fixed_total: int | None = None
    if saved is not None:
        model.load_state_dict(saved["model"])
        ema.shadow.load_state_dict(saved["ema"])
        if "opt" in saved:
            opt.load_state_dict(saved["opt"])
        step, history, elapsed = saved["step"], saved["history"], saved["elapsed_s"]
        machine = saved.get("machine", machine)
        transport = saved.get("transport")
        if "total_steps" in saved:
            steps = fixed_total = saved["total_steps"]
        print(f"resumed at step {step} ({elapsed / 60:.1f} min trained)", flush=True)
    gen = torch.Generator(device=device).manual_seed(seed * 1000 + step)
    rng = np.random.default_rng(seed * 1000 + step)
    model.train()
    t0 = time.time()
    start_step = step
    window: Dict[str, list] = {}

    def state() -> dict:
        return {"model": model.state_dict(), "ema": ema.shadow.state_dict(), "opt": opt.state_dict(), "step": step,
                "history": history, "elapsed_s": elapsed + time.time() - t0, "machine": machine, "transport": transport,
                **({} if fixed_total is None else {"total_steps": fixed_total}), **(keep or {})}

    while step < steps:
        if time_budget_s > 0 and fixed_total is None and step - start_step in (200, 500):
            # rate over steps 200-500: the first ones pay for start-up (allocator, cuDNN autotuning)
            if device.type == "cuda":
                torch.cuda.synchronize()
            if step - start_step == 200:
                t_rate = time.time()
        if time_budget_s > 0 and fixed_total is None and step - start_step == 500:
            rate = 300 / (time.time() - t_rate)
            steps = fixed_total = max(step, min(steps, step + int(rate * (time_budget_s - (time.time() - t0)))))
            print(f"{rate:.1f} steps/s: {steps} steps fit the {time_budget_s:.0f} s budget", flush=True)
            if step >= steps:
                break
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, steps, lr)
        loss, parts = loss_fn(model, source.sample(batch, rng, gen), gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema.update(model, step)
        step += 1
        for k, v in parts.items():
            window.setdefault(k, []).append(v.detach() if isinstance(v, torch.Tensor) else v)
        if step % log_every == 0:
            history["step"].append(step)
            # loss parts may be device tensors: read them (one sync) only when logging
            for k, v in window.items():
                history.setdefault(k, []).append(sum(float(x) for x in v) / len(v))
            window = {}
            rate = (step - start_step) / max(1e-9, time.time() - t0)
            shown = " ".join(f"{k} {history[k][-1]:.4f}" for k in parts)
            print(f"step {step}/{steps} {shown} ({rate:.2f} steps/s)", flush=True)
        if ckpt.due():
            ckpt.save(state())
    if step > start_step:
        ckpt.save(state())
        elapsed += time.time() - t0
    return TrainResult(step=step, elapsed_s=elapsed, history=history, machine=machine, transport=transport)


def training_record(*, name: str, seed: int, result: TrainResult, batch: int, lr: float, data: Arrays,
                    arrays: str | Path, parameters: Dict[str, int]) -> dict:
    """training.json: what was trained, on what, how long, on which machine."""
    curves = {k: v for k, v in result.history.items() if k != "step"}
    return {"name": name, "seed": seed, "steps": result.step, "batch": batch, "lr": lr,
            "training_time_s": round(result.elapsed_s, 1), "machine": result.machine, "parameters": parameters,
            "data": {"frames": data.n, "episodes": len(data.index["episodes"]), "instructions": len(data.tasks),
                     "arrays": Path(arrays).name,
                     # a copy carried to another machine (transport.py): lossy images, every k-th frame observed
                     **({"transport": result.transport} if result.transport else {})},
            "final": {k: v[-1] for k, v in curves.items() if v},
            "curves": {"step": result.history["step"], **curves}}


def arm_ee_embodiment(state: Stats, action: Stats, *, robot: str = "franka/fr3", joints: int = 7) -> dict:
    """Manifest embodiment of a trained single-arm policy, normalized with the training data's stats:
    proprio [joints (rad), gripper width (m)] (the expert demos' observation.state), actions
    [dx, dy, dz (m), drx, dry, drz (rad), gripper width (m)] (the expert's ee-delta commands)."""
    s_mean, s_std = [float(v) for v in state.mean], [float(v) for v in state.std]
    a = {"space": "ee_delta_pose", "names": ["dx", "dy", "dz", "drx", "dry", "drz", "gripper"],
         "units": ["m", "m", "m", "rad", "rad", "rad", "m"],
         "mean": [float(v) for v in action.mean], "std": [float(v) for v in action.std], "gripper_dims": [6]}
    proprio = {"input": "state", "fields": [
        {"name": "joint_positions", "dim": joints, "mean": s_mean[:joints], "std": s_std[:joints]},
        {"name": "gripper", "dim": 1, "mean": s_mean[joints:joints + 1], "std": s_std[joints:joints + 1]},
    ]}
    return {"robot": robot, "proprio": proprio, "action": a}


def franka_ee_embodiment(state: Stats, action: Stats) -> dict:
    """The FR3's ee-delta embodiment (7 joints)."""
    return arm_ee_embodiment(state, action)


def train_arguments(package_dir: Path, default_steps: int = 20000):
    """The command line every train.py takes (and `armature train` passes): parsed, threads set."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--arrays", required=True, help="folder written by `armature dataset arrays`")
    ap.add_argument("--checkpoint", required=True, help="folder for last.pt (resumed when present)")
    ap.add_argument("--out", default=str(package_dir), help="package folder to export into")
    ap.add_argument("--steps", type=int, default=default_steps)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = all cores)")
    ap.add_argument("--device", default="auto", help="cpu, cuda, or auto (cuda when available)")
    ap.add_argument("--time-budget", type=float, default=0.0,
                    help="seconds: after warm-up, cut --steps to what fits (0 = no budget)")
    ap.add_argument("--no-export", action="store_true", help="train (or resume) only; export later")
    ap.add_argument("--base", default=None,
                    help="a main training's checkpoint folder to fine-tune from (a train.json stage passes it)")
    args = ap.parse_args()
    set_threads(args.threads)
    args.device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    if args.device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    return args
