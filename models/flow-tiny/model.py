"""flow-tiny: a flow-matching policy with early exits (A1-style truncated, adaptive VLA, arXiv 2604.05672).

The backbone is a chain of stages (stage_0: observation -> h_0; stage_k: h_{k-1} -> h_k);
each exit k has its own velocity head v_k(x_t, t, h_k). The runtime can stop after any
stage when the exits agree, and warm-start a later exit's flow from an earlier one's actions.
Time convention: t = 0 is pure noise, t = 1 is data; x_{t+dt} = x_t + dt * v.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

from armature_models.flow import ResidualStage, VelocityHead
from armature_models.nets import ObservationEncoder


@dataclass(frozen=True)
class Config:
    vocab_size: int
    max_length: int = 16
    num_cameras: int = 2
    state_dim: int = 8
    action_dim: int = 8
    horizon: int = 16
    feature_dim: int = 64
    exits: int = 3
    stage_hidden: int = 128
    head_hidden: int = 192
    #: t in [0, 1] is multiplied by this before the sinusoidal embedding
    time_scale: float = 100.0
    #: model image size after the in-graph pooling, px
    image_size: int = 64
    #: camera pixels stage_0 takes (uint8 HWC); None: normalized float CHW images of image_size
    pixel_size: Optional[int] = 128


class ObservationStage(nn.Module):
    """stage_0: forward(image_agentview, image_eye_in_hand, tokens, token_mask, state) -> features [B, F].

    Images are uint8 [B, pixel_size, pixel_size, 3] HWC RGB (pooled to image_size inside)."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.net = ObservationEncoder(num_cameras=cfg.num_cameras, vocab_size=cfg.vocab_size,
                                      max_length=cfg.max_length, state_dim=cfg.state_dim, out_dim=cfg.feature_dim,
                                      image_size=cfg.image_size, pixel_size=cfg.pixel_size)

    def forward(self, image_agentview: torch.Tensor, image_eye_in_hand: torch.Tensor, tokens: torch.Tensor,
                token_mask: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return self.net([image_agentview, image_eye_in_hand], tokens, token_mask, state)


class FlowTiny(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.stages = nn.ModuleList([ObservationStage(cfg)] + [ResidualStage(cfg.feature_dim, cfg.stage_hidden)
                                                                for _ in range(cfg.exits - 1)])
        self.heads = nn.ModuleList([VelocityHead(horizon=cfg.horizon, action_dim=cfg.action_dim,
                                                 feature_dim=cfg.feature_dim, hidden=cfg.head_hidden,
                                                 time_dim=cfg.feature_dim, time_scale=cfg.time_scale)
                                    for _ in range(cfg.exits)])

    def sample(self, obs: dict, exit: int, steps: int, noise: torch.Tensor) -> torch.Tensor:
        """Euler integration from noise (t = 0) to actions (t = 1) with exit `exit`; reference for the runtime."""
        h = self.stages[0](**obs)
        for k in range(1, exit + 1):
            h = self.stages[k](h)
        x = noise
        for i in range(steps):
            t = torch.full((x.shape[0],), i / steps)
            x = x + self.heads[exit](x, t, h) / steps
        return x
