/**
 * The MuJoCo WASM module, loaded once per process (the promise is cached: loading
 * compiles ~10 MB of WebAssembly).
 */
import loadMujoco, { type MainModule } from '@mujoco/mujoco';

export type Mujoco = MainModule;
export type { MjModel, MjData } from '@mujoco/mujoco';

let cached: Promise<Mujoco> | null = null;

export function getMujoco(): Promise<Mujoco> {
  if (cached === null) {
    cached = loadMujoco().catch((err: unknown) => {
      cached = null; // let a later call retry
      throw err;
    });
  }
  return cached;
}
