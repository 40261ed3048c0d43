"""uniact-small: a trained universal-action VLA for the FR3 and the AgiBot dual arm.

- Backbone (shared by every robot): primary camera (agentview on the FR3, head on the dual
  arm) through the language-FiLM keypoint encoder + the instruction -> features, and logits
  over K universal action codes.
- Codebook [K, D]: learned by vector quantization (straight-through + commitment, dead codes
  restarted) of per-embodiment chunk encodings of normalized action chunks, so both robots'
  chunks share one discrete vocabulary.
- Decoder per embodiment: (code embedding, backbone features, normalized proprio, that robot's
  wrist camera(s) through a small conv encoder) -> normalized action chunk [H, A].
Adding a robot is a chunk encoder (training only) + a decoder head; the backbone and codebook stay.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import torch
from torch import nn

from armature_models.nets import LanguageEncoder, PixelInput, mlp
from armature_models.vision import KeypointImageEncoder, SpatialSoftmax


@dataclass(frozen=True)
class Embodiment:
    state_dim: int
    action_dim: int
    #: wrist cameras the decoder reads, in graph-input order
    wrists: Tuple[str, ...]


#: every robot a uniact package can have a decoder for: (state, action) dims and wrist cameras
EMBODIMENTS: Dict[str, Embodiment] = {
    "franka": Embodiment(8, 7, ("eye_in_hand",)),
    "agibot": Embodiment(16, 14, ("left_wrist", "right_wrist")),
    # UR5e: 6 joints + gripper width; the same end-effector delta actions as the FR3
    "ur5e": Embodiment(7, 7, ("eye_in_hand",)),
}


@dataclass(frozen=True)
class Config:
    vocab_size: int
    max_length: int = 20
    chunk_length: int = 8
    codebook_size: int = 64
    codebook_dim: int = 32
    feature_dim: int = 128
    image_size: int = 64
    pixel_size: int = 128
    embodiments: Dict[str, Embodiment] = field(default_factory=lambda: {
        n: EMBODIMENTS[n] for n in ("franka", "agibot")})


class Backbone(nn.Module):
    """normalized primary image [B, 3, 64, 64], tokens, mask -> (logits [B, K], features [B, F])."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.language = LanguageEncoder(cfg.vocab_size, cfg.max_length, embed_dim=64, out_dim=64)
        self.image = KeypointImageEncoder(64, 128, image_size=cfg.image_size)
        self.fuse = mlp([128 + 64, 256, cfg.feature_dim])
        self.norm = nn.LayerNorm(cfg.feature_dim)
        self.head = mlp([cfg.feature_dim, 128, cfg.codebook_size])

    def forward(self, image: torch.Tensor, tokens: torch.Tensor, token_mask: torch.Tensor):
        lang = self.language(tokens, token_mask)
        feat = self.norm(self.fuse(torch.cat([self.image(image, lang), lang], dim=-1)))
        return self.head(feat), feat


class WristEncoder(nn.Module):
    """Small conv + spatial softmax for a wrist camera: normalized [B, 3, 64, 64] -> [B, 64]."""

    def __init__(self, image_size: int = 64, keypoints: int = 16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 16, 5, stride=2, padding=2), nn.GroupNorm(4, 16), nn.ReLU(),
                                 nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.GroupNorm(8, 32), nn.ReLU(),
                                 nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.GroupNorm(8, 32), nn.ReLU())
        self.keys = nn.Conv2d(32, keypoints, 1)
        self.softmax = SpatialSoftmax(image_size // 8, image_size // 8)
        self.proj = nn.Linear(2 * keypoints + 32, 64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.net(x)
        return self.proj(torch.cat([self.softmax(self.keys(h)), h.mean(dim=(2, 3))], dim=-1))


class Decoder(nn.Module):
    """(code embedding [B, D], features [B, F], state [B, S], wrist images [B, 3, 64, 64] each) -> [B, H, A]."""

    def __init__(self, cfg: Config, emb: Embodiment):
        super().__init__()
        self.h, self.a = cfg.chunk_length, emb.action_dim
        self.wrist = WristEncoder(cfg.image_size)
        self.state = mlp([emb.state_dim, 64, 64])
        self.net = mlp([cfg.codebook_dim + cfg.feature_dim + 64 + 64 * len(emb.wrists), 512, 512, self.h * self.a])

    def forward(self, code: torch.Tensor, features: torch.Tensor, state: torch.Tensor, wrists: Sequence[torch.Tensor]):
        parts = [code, features, self.state(state)] + [self.wrist(w) for w in wrists]
        return self.net(torch.cat(parts, dim=-1)).view(-1, self.h, self.a)


class ChunkEncoder(nn.Module):
    """training only: normalized chunk [B, H, A] -> pre-quantization latent [B, D]."""

    def __init__(self, cfg: Config, emb: Embodiment):
        super().__init__()
        self.net = mlp([cfg.chunk_length * emb.action_dim, 256, 256, cfg.codebook_dim])

    def forward(self, chunk: torch.Tensor) -> torch.Tensor:
        return self.net(chunk.flatten(1))


class UniActSmall(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.backbone = Backbone(cfg)
        self.codebook = nn.Parameter(torch.randn(cfg.codebook_size, cfg.codebook_dim) * 0.5)
        self.decoders = nn.ModuleDict({n: Decoder(cfg, e) for n, e in cfg.embodiments.items()})
        self.chunk_encoders = nn.ModuleDict({n: ChunkEncoder(cfg, e) for n, e in cfg.embodiments.items()})

    def quantize(self, z: torch.Tensor):
        """nearest code: (straight-through embedding [B, D], index [B], vq loss, commitment loss)."""
        d = (z.pow(2).sum(1, keepdim=True) - 2 * z @ self.codebook.t() + self.codebook.pow(2).sum(1)[None, :])
        idx = d.argmin(dim=1)
        e = self.codebook[idx]
        vq = (e - z.detach()).pow(2).mean()
        commit = (z - e.detach()).pow(2).mean()
        return z + (e - z).detach(), idx, vq, commit


class BackboneExport(nn.Module):
    """Graph form of the backbone: uint8 HWC pixels in, pooled + normalized in the graph."""

    def __init__(self, backbone: Backbone, cfg: Config):
        super().__init__()
        self.pixels = PixelInput(cfg.pixel_size, cfg.pixel_size, cfg.image_size, cfg.image_size)
        self.backbone = backbone

    def forward(self, image_primary: torch.Tensor, tokens: torch.Tensor, token_mask: torch.Tensor):
        return self.backbone(self.pixels(image_primary), tokens, token_mask)


class DecoderExport(nn.Module):
    """Graph form of a decoder: (ua_embedding, features, state, wrist pixels uint8 HWC...) -> actions."""

    def __init__(self, decoder: Decoder, cfg: Config, wrists: int):
        super().__init__()
        self.pixels = PixelInput(cfg.pixel_size, cfg.pixel_size, cfg.image_size, cfg.image_size)
        self.decoder = decoder
        self.wrists = wrists

    def forward(self, ua_embedding: torch.Tensor, features: torch.Tensor, state: torch.Tensor, *wrists: torch.Tensor):
        return self.decoder(ua_embedding, features, state, [self.pixels(w) for w in wrists])


def wrist_inputs(emb: Embodiment) -> List[str]:
    return [f"image_{w}" for w in emb.wrists]
