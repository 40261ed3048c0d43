"""Observation encoder for the trained policies: language-conditioned convolutions with
spatial-softmax keypoints.

Why not ObservationEncoder (nets.py): global average pooling throws away *where*
things are, which is exactly what "the bowl between the plate and the ramekin" asks.
Spatial softmax (Levine et al. 2016, used by Diffusion Policy and robomimic) keeps
expected keypoint coordinates; FiLM from the instruction lets the same layout produce
different features for different goals (the goal suite changes only the instruction).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .nets import LanguageEncoder, mlp


class SpatialSoftmax(nn.Module):
    """[B, K, H, W] feature maps -> [B, 2K] expected (x, y) in [-1, 1] per map."""

    def __init__(self, height: int, width: int):
        super().__init__()
        ys = torch.linspace(-1.0, 1.0, height).view(height, 1).expand(height, width).reshape(-1)
        xs = torch.linspace(-1.0, 1.0, width).view(1, width).expand(height, width).reshape(-1)
        self.register_buffer("grid", torch.stack([xs, ys], dim=1))  # [HW, 2]

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        b, k, h, w = maps.shape
        attn = torch.softmax(maps.reshape(b, k, h * w), dim=-1)
        return torch.matmul(attn, self.grid).reshape(b, 2 * k)


class FiLM(nn.Module):
    def __init__(self, cond_dim: int, channels: int):
        super().__init__()
        self.lin = nn.Linear(cond_dim, 2 * channels)
        nn.init.zeros_(self.lin.weight)
        nn.init.zeros_(self.lin.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        scale, shift = self.lin(cond)[:, :, None, None].chunk(2, dim=1)
        return x * (1 + scale) + shift


class KeypointImageEncoder(nn.Module):
    """normalized image [B, 3, 64, 64] + condition [B, cond_dim] -> [B, out_dim]."""

    def __init__(self, cond_dim: int, out_dim: int = 128, widths: Sequence[int] = (32, 32, 32),
                 keypoints: int = 32, image_size: int = 64):
        super().__init__()
        c0, c1, c2 = widths
        self.conv0 = nn.Conv2d(3, c0, 5, stride=2, padding=2)
        self.norm0 = nn.GroupNorm(8, c0)
        self.conv1 = nn.Conv2d(c0, c1, 3, stride=2, padding=1)
        self.norm1 = nn.GroupNorm(8, c1)
        self.film1 = FiLM(cond_dim, c1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.norm2 = nn.GroupNorm(8, c2)
        self.film2 = FiLM(cond_dim, c2)
        self.keys = nn.Conv2d(c2, keypoints, 1)
        side = image_size // 4
        self.softmax = SpatialSoftmax(side, side)
        self.pool = nn.Linear(c2, out_dim // 2)
        self.proj = nn.Linear(2 * keypoints + out_dim // 2, out_dim)
        self.act = nn.ReLU()

    def forward(self, image: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self.act(self.norm0(self.conv0(image)))
        h = self.act(self.film1(self.norm1(self.conv1(h)), cond))
        h = self.act(self.film2(self.norm2(self.conv2(h)), cond))
        pts = self.softmax(self.keys(h))
        glob = self.pool(h.mean(dim=(2, 3)))
        return self.proj(torch.cat([pts, glob], dim=-1))


class KeypointObservationEncoder(nn.Module):
    """Cameras (normalized float [B, 3, 64, 64] each, camera order) + instruction tokens + proprio
    state -> observation feature [B, out_dim]."""

    def __init__(self, *, num_cameras: int, vocab_size: int, max_length: int, state_dim: int,
                 out_dim: int = 256, image_dim: int = 128, lang_dim: int = 64, hidden: int = 256,
                 conv_widths: Sequence[int] = (32, 32, 32), keypoints: int = 32):
        super().__init__()
        self.language = LanguageEncoder(vocab_size, max_length, embed_dim=64, out_dim=lang_dim)
        self.cameras = nn.ModuleList([KeypointImageEncoder(lang_dim, image_dim, widths=conv_widths, keypoints=keypoints)
                                      for _ in range(num_cameras)])
        self.state = mlp([state_dim, 64, 64])
        self.fuse = mlp([num_cameras * image_dim + lang_dim + 64, hidden, out_dim])
        self.norm = nn.LayerNorm(out_dim)

    def forward(self, images: Sequence[torch.Tensor], tokens: torch.Tensor, token_mask: torch.Tensor,
                state: torch.Tensor) -> torch.Tensor:
        lang = self.language(tokens, token_mask)
        parts = [enc(img, lang) for enc, img in zip(self.cameras, images)]
        parts += [lang, self.state(state)]
        return self.norm(self.fuse(torch.cat(parts, dim=-1)))


class TwoCameraKeypointEncoder(nn.Module):
    """forward(image_agentview, image_eye_in_hand (normalized [B, 3, 64, 64]), tokens, token_mask, state)
    -> [B, out_dim]: the graph-facing signature of KeypointObservationEncoder for the FR3's two cameras."""

    def __init__(self, *, vocab_size: int, max_length: int, state_dim: int, out_dim: int, **sizes):
        super().__init__()
        # sizes: KeypointObservationEncoder's image_dim, hidden, conv_widths, keypoints (defaults: the small models')
        self.net = KeypointObservationEncoder(num_cameras=2, vocab_size=vocab_size, max_length=max_length,
                                              state_dim=state_dim, out_dim=out_dim, **sizes)

    def forward(self, image_agentview: torch.Tensor, image_eye_in_hand: torch.Tensor, tokens: torch.Tensor,
                token_mask: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return self.net([image_agentview, image_eye_in_hand], tokens, token_mask, state)


class WithPixelInput(nn.Module):
    """Export form of a two-camera observation module: both frames arrive as uint8 HWC of `pixels`
    px and go through nets.PixelInput (pool + normalize in the graph) before `module`. Training
    feeds `module` normalized images of `image_size` directly."""

    def __init__(self, module: nn.Module, *, pixels: int, image_size: int):
        super().__init__()
        from .nets import PixelInput

        self.pixels = PixelInput(pixels, pixels, image_size, image_size)
        self.module = module

    def forward(self, image_agentview: torch.Tensor, image_eye_in_hand: torch.Tensor, tokens: torch.Tensor,
                token_mask: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return self.module(self.pixels(image_agentview), self.pixels(image_eye_in_hand), tokens, token_mask, state)
