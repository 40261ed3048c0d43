"""Small building blocks shared by the model packages.

Everything here exports to ONNX opset 17 with a dynamic batch dimension and only
uses ops onnxruntime supports (Conv, Gemm/MatMul, Gather, LayerNormalization,
ReduceMean/ReduceSum, Sin/Cos, Relu/Sigmoid). Keep graphs deterministic: no dropout,
no randomness inside forward().
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn


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
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
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

    forward(images, tokens, token_mask, state): `images` is a list in camera order,
    each normalized float32 [B, 3, H, W]; state is normalized proprio [B, state_dim].
    """

    def __init__(self, *, num_cameras: int, vocab_size: int, max_length: int, state_dim: int,
                 out_dim: int, image_dim: int = 64, lang_dim: int = 32, state_hidden: int = 32,
                 hidden: int = 128):
        super().__init__()
        self.cameras = nn.ModuleList([ImageEncoder(image_dim) for _ in range(num_cameras)])
        self.language = LanguageEncoder(vocab_size, max_length, out_dim=lang_dim)
        self.state = mlp([state_dim, state_hidden, state_hidden]) if state_dim > 0 else None
        fused = num_cameras * image_dim + lang_dim + (state_hidden if state_dim > 0 else 0)
        self.fuse = mlp([fused, hidden, out_dim])
        self.norm = nn.LayerNorm(out_dim)

    def forward(self, images: Sequence[torch.Tensor], tokens: torch.Tensor, token_mask: torch.Tensor,
                state: torch.Tensor | None = None) -> torch.Tensor:
        parts = [enc(img) for enc, img in zip(self.cameras, images)]
        parts.append(self.language(tokens, token_mask))
        if self.state is not None:
            if state is None:
                raise ValueError("ObservationEncoder was built with state_dim > 0 but got no state")
            parts.append(self.state(state))
        return self.norm(self.fuse(torch.cat(parts, dim=-1)))


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
