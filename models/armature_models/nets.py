"""Small building blocks shared by the model packages.

Everything here exports to ONNX opset 17 with a dynamic batch dimension and only
uses ops onnxruntime supports (Conv, Gemm/MatMul, Gather, LayerNormalization,
ReduceMean/ReduceSum, Sin/Cos, Relu/Sigmoid, Cast/Transpose/AveragePool). Keep graphs
deterministic: no dropout, no randomness inside forward().
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .manifest import IMAGENET_MEAN, IMAGENET_STD


class PixelInput(nn.Module):
    """Camera pixels as the simulator renders them -> the normalized image the encoder reads.

    uint8 [B, height_in, width_in, C] (HWC, channel order as the manifest camera's `channels`)
    -> float32 [B, C, height, width]: cast, transpose to CHW, average-pool by the integer factors
    height_in / height and width_in / width, then (x * scale - mean) / std. Exports to ONNX as
    Transpose, Cast, AveragePool, Mul, Add, so onnxruntime does the preprocessing natively; train
    with the same module on uint8 frames. No parameters (buffers are not saved in state_dict), so
    adding it changes neither random init nor checkpoints.
    """

    def __init__(self, height_in: int, width_in: int, height: int, width: int,
                 mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD, scale: float = 1 / 255):
        super().__init__()
        if height_in % height or width_in % width:
            raise ValueError(f"PixelInput: input {height_in}x{width_in} must be an integer multiple of the model "
                             f"image {height}x{width} (average pooling by an integer factor)")
        if len(mean) != len(std) or any(s <= 0 for s in std):
            raise ValueError(f"PixelInput: mean/std need one value per channel and std > 0, got {list(mean)} / {list(std)}")
        self.height_in, self.width_in, self.height, self.width = height_in, width_in, height, width
        self.channels = len(mean)
        self.factor = (height_in // height, width_in // width)
        std_t = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
        mean_t = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
        # pooling commutes with the affine normalization, so normalize the smaller image
        self.register_buffer("gain", scale / std_t, persistent=False)
        self.register_buffer("bias", -mean_t / std_t, persistent=False)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        # transpose the uint8 bytes (4x less to move than float), then cast
        x = pixels.permute(0, 3, 1, 2).to(torch.float32)
        if self.factor != (1, 1):
            # count_include_pad=False: without padding it changes nothing, but keeps a no-op Pad out of the graph
            x = F.avg_pool2d(x, kernel_size=self.factor, stride=self.factor, count_include_pad=False)
        return x * self.gain + self.bias

    def manifest_block(self) -> dict:
        """The manifest camera `pixels` block describing this input."""
        return {"dtype": "uint8", "layout": "hwc", "height": self.height_in, "width": self.width_in}


class ImageEncoder(nn.Module):
    """Conv encoder: normalized image [B, 3, H, W] -> feature [B, out_dim].

    Four stride-2 convs (64x64 -> 4x4), global average pool, LayerNorm so the
    feature scale stays O(1) even with random weights.
    """

    def __init__(self, out_dim: int = 64, widths: Sequence[int] = (16, 32, 64, 64), in_channels: int = 3):
        super().__init__()
        layers: list[nn.Module] = []
        c = in_channels
        for i, w in enumerate(widths):
            k = 5 if i == 0 else 3
            layers += [nn.Conv2d(c, w, k, stride=2, padding=k // 2), nn.GroupNorm(max(1, w // 8), w), nn.ReLU()]
            c = w
        self.convs = nn.Sequential(*layers)
        self.proj = nn.Linear(c, out_dim)
        self.norm = nn.LayerNorm(out_dim)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.convs(image).mean(dim=(2, 3))
        return self.norm(self.proj(x))


class LanguageEncoder(nn.Module):
    """Bag of words with position: tokens int64 [B, L], mask float32 [B, L] -> [B, out_dim].

    Masked mean of (word + position) embeddings; padding contributes nothing, and an
    all-padding instruction gives the projection of a zero vector.
    """

    def __init__(self, vocab_size: int, max_length: int, embed_dim: int = 32, out_dim: int = 32):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.pos = nn.Parameter(torch.randn(max_length, embed_dim) * 0.1)
        self.proj = nn.Linear(embed_dim, out_dim)
        self.norm = nn.LayerNorm(out_dim)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        e = self.embed(tokens) + self.pos
        m = mask.unsqueeze(-1)
        pooled = (e * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
        return self.norm(self.proj(pooled))


def mlp(dims: Sequence[int], act: type[nn.Module] = nn.SiLU, final_act: bool = False) -> nn.Sequential:
    """Linear layers dims[0] -> ... -> dims[-1] with `act` between them."""
    layers: list[nn.Module] = []
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i < len(dims) - 2 or final_act:
            layers.append(act())
    return nn.Sequential(*layers)


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Transformer-style embedding of a scalar per element: t [...] -> [..., dim] (sin half, cos half)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.unsqueeze(-1) * freqs
    return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)


class TimeEmbedding(nn.Module):
    """Scalar time(s) [...] -> [..., out_dim]: sinusoidal features (of t * scale) then a 2-layer MLP."""

    def __init__(self, out_dim: int, freq_dim: int = 32, scale: float = 1.0):
        super().__init__()
        self.freq_dim = freq_dim
        self.scale = scale
        self.mlp = mlp([freq_dim, out_dim, out_dim])

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.mlp(sinusoidal_embedding(t * self.scale, self.freq_dim))


class ObservationEncoder(nn.Module):
    """Cameras + language + proprio state -> one observation feature [B, out_dim].

    forward(images, tokens, token_mask, state): `images` is a list in camera order, each
    uint8 pixels [B, pixel_size, pixel_size, 3] (HWC RGB, through PixelInput) when pixel_size
    is set, else normalized float32 [B, 3, image_size, image_size]; state is normalized
    proprio [B, state_dim].
    """

    def __init__(self, *, num_cameras: int, vocab_size: int, max_length: int, state_dim: int,
                 out_dim: int, image_dim: int = 64, lang_dim: int = 32, state_hidden: int = 32,
                 hidden: int = 128, image_size: int = 64, pixel_size: Optional[int] = None):
        super().__init__()
        self.pixels = (nn.ModuleList([PixelInput(pixel_size, pixel_size, image_size, image_size)
                                      for _ in range(num_cameras)]) if pixel_size else None)
        self.cameras = nn.ModuleList([ImageEncoder(image_dim) for _ in range(num_cameras)])
        self.language = LanguageEncoder(vocab_size, max_length, out_dim=lang_dim)
        self.state = mlp([state_dim, state_hidden, state_hidden]) if state_dim > 0 else None
        fused = num_cameras * image_dim + lang_dim + (state_hidden if state_dim > 0 else 0)
        self.fuse = mlp([fused, hidden, out_dim])
        self.norm = nn.LayerNorm(out_dim)

    def forward(self, images: Sequence[torch.Tensor], tokens: torch.Tensor, token_mask: torch.Tensor,
                state: torch.Tensor | None = None) -> torch.Tensor:
        if self.pixels is not None:
            images = [px(img) for px, img in zip(self.pixels, images)]
        parts = [enc(img) for enc, img in zip(self.cameras, images)]
        parts.append(self.language(tokens, token_mask))
        if self.state is not None:
            if state is None:
                raise ValueError("ObservationEncoder was built with state_dim > 0 but got no state")
            parts.append(self.state(state))
        return self.norm(self.fuse(torch.cat(parts, dim=-1)))


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
