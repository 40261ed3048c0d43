"""diffusion-tiny: a tiny image diffusion policy split into an observation encoder and a denoiser.

The denoiser takes one diffusion timestep per horizon position, so it can run Streaming
Diffusion Policy (arXiv 2406.04806) buffers whose noise grows along the horizon, RTI-DP
warm starts, or ordinary DDPM/DDIM with all positions equal.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

from armature_models.nets import ObservationEncoder, TimeEmbedding


@dataclass(frozen=True)
class Config:
    vocab_size: int
    max_length: int = 16
    num_cameras: int = 2
    state_dim: int = 8
    action_dim: int = 7
    horizon: int = 16
    obs_dim: int = 128
    channels: int = 64
    blocks: int = 3
    kernel: int = 5
    num_train_timesteps: int = 100
    #: model image size after the in-graph pooling, px
    image_size: int = 64
    #: camera pixels the encoder takes (uint8 HWC); None: normalized float CHW images of image_size
    pixel_size: Optional[int] = 128


class Encoder(nn.Module):
    """forward(image_agentview, image_eye_in_hand, tokens, token_mask, state) -> obs_embedding [B, obs_dim].

    Images are uint8 [B, pixel_size, pixel_size, 3] HWC RGB (pooled to image_size inside)."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.net = ObservationEncoder(num_cameras=cfg.num_cameras, vocab_size=cfg.vocab_size,
                                      max_length=cfg.max_length, state_dim=cfg.state_dim, out_dim=cfg.obs_dim,
                                      image_size=cfg.image_size, pixel_size=cfg.pixel_size)

    def forward(self, image_agentview: torch.Tensor, image_eye_in_hand: torch.Tensor, tokens: torch.Tensor,
                token_mask: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return self.net([image_agentview, image_eye_in_hand], tokens, token_mask, state)


class FiLMBlock(nn.Module):
    """Residual temporal conv block on [B, C, T]; per-position time embedding added, FiLM from the observation."""

    def __init__(self, channels: int, cond_dim: int, kernel: int):
        super().__init__()
        pad = kernel // 2
        self.conv1 = nn.Conv1d(channels, channels, kernel, padding=pad)
        self.norm1 = nn.GroupNorm(8, channels)
        self.time = nn.Linear(channels, channels)
        self.film = nn.Linear(cond_dim, 2 * channels)
        self.conv2 = nn.Conv1d(channels, channels, kernel, padding=pad)
        self.norm2 = nn.GroupNorm(8, channels)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor, temb: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        # x [B, C, T], temb [B, T, C], cond [B, cond_dim]
        h = self.conv1(x) + self.time(temb).transpose(1, 2)
        h = self.act(self.norm1(h))
        scale, shift = self.film(cond).unsqueeze(-1).chunk(2, dim=1)
        h = h * (1 + scale) + shift
        h = self.act(self.norm2(self.conv2(h)))
        return x + h


class Denoiser(nn.Module):
    """forward(noisy_actions [B, T, A], timesteps [B, T] in [0, num_train_timesteps), obs_embedding [B, obs_dim])
    -> prediction [B, T, A] (epsilon)."""

    def __init__(self, cfg: Config):
        super().__init__()
        c = cfg.channels
        self.inp = nn.Linear(cfg.action_dim, c)
        self.temb = TimeEmbedding(c, freq_dim=32)
        self.blocks = nn.ModuleList([FiLMBlock(c, cfg.obs_dim, cfg.kernel) for _ in range(cfg.blocks)])
        self.out_norm = nn.LayerNorm(c)
        self.out = nn.Linear(c, cfg.action_dim)

    def forward(self, noisy_actions: torch.Tensor, timesteps: torch.Tensor, obs_embedding: torch.Tensor) -> torch.Tensor:
        temb = self.temb(timesteps)
        h = (self.inp(noisy_actions) + temb).transpose(1, 2)
        for block in self.blocks:
            h = block(h, temb, obs_embedding)
        return self.out(self.out_norm(h.transpose(1, 2)))


class DiffusionTiny(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.denoiser = Denoiser(cfg)
