"""diffusion-small: the trained image diffusion policy (FR3, end-effector deltas).

Encoder: two cameras -> language-FiLM conv + spatial-softmax keypoints, instruction,
proprio -> observation embedding. Denoiser: temporal conv U-less stack with
per-position timesteps (trained with Streaming-Diffusion-Policy noise patterns).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from armature_models.denoiser import ChunkDenoiser
from armature_models.vision import TwoCameraKeypointEncoder


@dataclass(frozen=True)
class Config:
    vocab_size: int
    max_length: int = 16
    num_cameras: int = 2
    state_dim: int = 8
    action_dim: int = 7
    horizon: int = 16
    obs_dim: int = 256
    channels: int = 64
    blocks: int = 3
    kernel: int = 5
    num_train_timesteps: int = 100
    image_size: int = 64


class DiffusionSmall(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.encoder = TwoCameraKeypointEncoder(vocab_size=cfg.vocab_size, max_length=cfg.max_length,
                                                state_dim=cfg.state_dim, out_dim=cfg.obs_dim)
        self.denoiser = ChunkDenoiser(action_dim=cfg.action_dim, obs_dim=cfg.obs_dim, channels=cfg.channels,
                                      blocks=cfg.blocks, kernel=cfg.kernel)
