"""vla-chunk-tiny: a tiny VLA that regresses a whole action chunk in one pass (OFT-style head).

Two cameras + instruction + Franka proprio -> 8 normalized joint_position actions x 8 dims.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

from armature_models.nets import ObservationEncoder, mlp


@dataclass(frozen=True)
class Config:
    vocab_size: int
    max_length: int = 16
    num_cameras: int = 2
    state_dim: int = 8
    action_dim: int = 8
    chunk_length: int = 8
    obs_dim: int = 128
    head_hidden: int = 256
    #: model image size after the in-graph pooling, px
    image_size: int = 64
    #: camera pixels the graph takes (uint8 HWC); None: normalized float CHW images of image_size
    pixel_size: Optional[int] = 128


class VlaChunkTiny(nn.Module):
    """forward(image_agentview, image_eye_in_hand, tokens, token_mask, state) -> actions [B, chunk, action_dim] (normalized).

    Images are uint8 [B, pixel_size, pixel_size, 3] HWC RGB (pooled to image_size inside), or
    normalized float [B, 3, image_size, image_size] when cfg.pixel_size is None.
    """

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.encoder = ObservationEncoder(num_cameras=cfg.num_cameras, vocab_size=cfg.vocab_size,
                                          max_length=cfg.max_length, state_dim=cfg.state_dim, out_dim=cfg.obs_dim,
                                          image_size=cfg.image_size, pixel_size=cfg.pixel_size)
        self.head = mlp([cfg.obs_dim, cfg.head_hidden, cfg.chunk_length * cfg.action_dim])

    def forward(self, image_agentview: torch.Tensor, image_eye_in_hand: torch.Tensor, tokens: torch.Tensor,
                token_mask: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        h = self.encoder([image_agentview, image_eye_in_hand], tokens, token_mask, state)
        return self.head(h).reshape(-1, self.cfg.chunk_length, self.cfg.action_dim)
