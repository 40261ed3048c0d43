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

from armature_models.denoiser import ChunkDenoiser
from armature_models.nets import ObservationEncoder


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


class DiffusionTiny(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.denoiser = ChunkDenoiser(action_dim=cfg.action_dim, obs_dim=cfg.obs_dim, channels=cfg.channels,
                                      blocks=cfg.blocks, kernel=cfg.kernel)
