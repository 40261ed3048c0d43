/** Built-in demo scenes for `armature sim --scene <name>`: a table, a robot and a few objects. */
import type { SceneDescription } from '../scene/types.ts';
import { ArmatureError } from '../../src/errors.ts';

export interface ScenePreset {
  readonly scene: SceneDescription;
  /** robot description id in hardware/ */
  readonly robot: string;
  /** cameras a policy sees */
  readonly cameras: readonly string[];
  readonly instruction: string;
}

export const SCENE_PRESETS: Readonly<Record<string, ScenePreset>> = {
  franka: {
    robot: 'franka/fr3',
    cameras: ['agentview', 'eye_in_hand'],
    instruction: 'pick up the red cube and lift it',
    scene: {
      name: 'franka_tabletop',
      table: { pos: [0.5, 0, 0.4], halfSize: [0.4, 0.6] },
      robots: [{ kind: 'franka_fr3', pos: [0, 0, 0.4] }],
      objects: [
        { type: 'box', name: 'cube', pos: [0.5, 0, 0.425], size: [0.025, 0.025, 0.025], mass: 0.1, rgba: [0.8, 0.1, 0.1, 1] },
        { type: 'plate', name: 'plate', pos: [0.45, 0.2, 0.408], radius: 0.07, rgba: [0.9, 0.9, 0.9, 1] },
      ],
    },
  },
  ur5e: {
    robot: 'universal_robots/ur5e',
    cameras: ['agentview', 'eye_in_hand'],
    instruction: 'pick up the red cube and lift it',
    // the franka scene with a UR5e at the Franka's base position
    scene: {
      name: 'ur5e_tabletop',
      table: { pos: [0.5, 0, 0.4], halfSize: [0.4, 0.6] },
      robots: [{ kind: 'ur5e', pos: [0, 0, 0.4] }],
      objects: [
        { type: 'box', name: 'cube', pos: [0.5, 0, 0.425], size: [0.025, 0.025, 0.025], mass: 0.1, rgba: [0.8, 0.1, 0.1, 1] },
        { type: 'plate', name: 'plate', pos: [0.45, 0.2, 0.408], radius: 0.07, rgba: [0.9, 0.9, 0.9, 1] },
      ],
    },
  },
  dual_arm: {
    robot: 'agibot/dual_arm',
    cameras: ['head', 'left_wrist', 'right_wrist'],
    instruction: 'lift the box with both hands',
    scene: {
      name: 'dual_arm_tabletop',
      table: { pos: [0.6, 0, 0.75], halfSize: [0.3, 0.6] },
      robots: [{ kind: 'agibot_dual_arm' }],
      objects: [{ type: 'box', name: 'box', pos: [0.6, 0, 0.8], size: [0.05, 0.15, 0.05], mass: 0.3, rgba: [0.2, 0.4, 0.8, 1] }],
    },
  },
};

export function scenePreset(name: string): ScenePreset {
  const p = SCENE_PRESETS[name];
  if (!p) throw new ArmatureError('sim.scene', `unknown scene '${name}'; built-in scenes: ${Object.keys(SCENE_PRESETS).join(', ')}`);
  return p;
}
