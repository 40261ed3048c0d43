"""flow-small: the trained flow-matching policy with early exits (A1), FR3 end-effector deltas, at its
original size (1.48 M parameters). Architecture, export and training: armature_models/flow_policy.py."""
from __future__ import annotations

from armature_models.flow_policy import FlowConfig, FlowPolicy

NAME = "flow-small"


def config(vocab_size: int) -> FlowConfig:
    return FlowConfig(vocab_size=vocab_size)


__all__ = ["NAME", "config", "FlowPolicy"]
