export { Simulation, SimulationError, type SimulationOptions, type Pose, type ContactInfo } from './simulation.ts';
export {
  ControlLoop, ControllerError, createController, controlPreset,
  FR3_ARM_JOINTS, DUAL_ARM_LEFT_JOINTS, DUAL_ARM_RIGHT_JOINTS,
  type ControlSpec, type Controller, type ControlLoopOptions, type ControlMode,
} from './controllers.ts';
export { benchPhysics, FRANKA_BENCH_SCENE } from './bench.ts';
export { getMujoco, type Mujoco } from './mujoco.ts';
