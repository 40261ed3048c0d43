import { describe, expect, it } from 'vitest';
import { scheduleFor } from '../../src/schedule/create.ts';
import type { PolicyMetadata } from '../../src/policy/types.ts';
import type { ActionSpec } from '../../src/policy/manifest.ts';

const meta = (extra: Partial<PolicyMetadata> = {}): PolicyMetadata => ({
  name: 'm',
  kind: 'flow',
  horizon: 16,
  controlRateHz: 20,
  cameras: [],
  proprioFields: {},
  embodiments: { franka: { gripper_dims: [6] } as unknown as ActionSpec },
  ...extra,
});

describe('scheduleFor: the caller over the package over execute-then-replan', () => {
  it('replans the whole chunk, or the package\'s execute length, or the caller\'s (capped at the chunk)', () => {
    expect(scheduleFor(meta(), 'franka')).toEqual({ mode: 'replan', actionsPerChunk: 16 });
    expect(scheduleFor(meta({ executeLength: 8 }), 'franka')).toEqual({ mode: 'replan', actionsPerChunk: 8 });
    expect(scheduleFor(meta({ executeLength: 8 }), 'franka', { actionsPerChunk: 40 })).toEqual({ mode: 'replan', actionsPerChunk: 16 });
  });

  it('runs a package\'s blend with its steps, and the caller may switch it off or retune it', () => {
    const blend = meta({ executeLength: 4, schedule: { mode: 'blend', blendSteps: 4 } });
    expect(scheduleFor(blend, 'franka')).toEqual({ mode: 'blend', actionsPerChunk: 4, blendSteps: 4, ramp: undefined });
    expect(scheduleFor(blend, 'franka', { blendSteps: 2, actionsPerChunk: 8 })).toEqual({ mode: 'blend', actionsPerChunk: 8, blendSteps: 2, ramp: undefined });
    // another mode does not inherit the package's blend steps
    expect(scheduleFor(blend, 'franka', { mode: 'replan' })).toEqual({ mode: 'replan', actionsPerChunk: 4 });
    expect(() => scheduleFor(meta(), 'franka', { blendSteps: 4 })).toThrow(/blend steps \/ ramp were given, but m runs schedule 'replan': choose mode blend/);
  });

  it('ensembles every tick (ACT) with the gripper from the newest chunk, unless the package chose ensembling', () => {
    expect(scheduleFor(meta({ executeLength: 8 }), 'franka', { mode: 'ensemble' })).toEqual({ mode: 'ensemble', actionsPerChunk: 1, decay: undefined, gripperDims: [6] });
    expect(scheduleFor(meta({ executeLength: 2, schedule: { mode: 'ensemble', decay: 0.1 } }), 'franka')).toEqual({ mode: 'ensemble', actionsPerChunk: 2, decay: 0.1, gripperDims: [6] });
    expect(() => scheduleFor(meta(), 'franka', { mode: 'blend', decay: 0.1 })).toThrow(/an ensemble decay was given, but m runs schedule 'blend'/);
  });
});
