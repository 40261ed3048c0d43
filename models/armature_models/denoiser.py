"""Action-chunk denoiser shared by the diffusion policies.

forward(noisy_actions [B, T, A], timesteps [B, T], obs_embedding [B, D]) -> [B, T, A].
One timestep per horizon position, so the same weights serve DDPM/DDIM (all
positions equal), Streaming Diffusion Policy buffers (noise rising along the
horizon) and RTI warm starts.
"""
from __future__ import annotations

import torch
from torch import nn

from .nets import TimeEmbedding


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


class ChunkDenoiser(nn.Module):
    def __init__(self, *, action_dim: int, obs_dim: int, channels: int = 64, blocks: int = 3, kernel: int = 5):
        super().__init__()
        self.inp = nn.Linear(action_dim, channels)
        self.temb = TimeEmbedding(channels, freq_dim=32)
        self.blocks = nn.ModuleList([FiLMBlock(channels, obs_dim, kernel) for _ in range(blocks)])
        self.out_norm = nn.LayerNorm(channels)
        self.out = nn.Linear(channels, action_dim)

    def forward(self, noisy_actions: torch.Tensor, timesteps: torch.Tensor, obs_embedding: torch.Tensor) -> torch.Tensor:
        temb = self.temb(timesteps)
        h = (self.inp(noisy_actions) + temb).transpose(1, 2)
        for block in self.blocks:
            h = block(h, temb, obs_embedding)
        return self.out(self.out_norm(h.transpose(1, 2)))
