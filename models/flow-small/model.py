"""flow-small: the trained flow-matching policy with early exits (A1), FR3 end-effector deltas, at its
original size (1.48 M parameters). Architecture, export and training: armature_models/flow_policy.py."""
from __future__ import annotations

from armature_models.flow_policy import FlowConfig, FlowPolicy

NAME = "flow-small"


def config(vocab_size: int) -> FlowConfig:
    # execution chosen on validation layouts (seed 9000, not the fixed init states): blending into each
    # new chunk every 4 actions beat execute-8-then-replan on all four suites (flow-base/experiments/schedule/),
    # and so did sampling from a quarter of the trained noise (flow-base/experiments/noise-scale/)
    return FlowConfig(vocab_size=vocab_size, execute_length=4, blend_steps=4, noise_scale=0.25)


__all__ = ["NAME", "config", "FlowPolicy"]
