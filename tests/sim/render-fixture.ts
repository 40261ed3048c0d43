/** Loads the render/viewer MJCF fixtures with MuJoCo (shared by tests/sim/render* and viewer*). */
import { readFileSync } from 'node:fs';
import loadMujoco, { type MainModule, type MjData, type MjModel } from '@mujoco/mujoco';
import { describeScene, extractState, type MjDataLike, type MjModelLike, type RenderScene } from '../../sim/render/scene-description.ts';

export interface LoadedFixture {
  readonly mj: MainModule;
  readonly model: MjModel;
  readonly data: MjData;
  readonly scene: RenderScene;
  /** set qpos, run mj_forward, return the render state */
  state(qpos?: readonly number[]): Float32Array;
  dispose(): void;
}

let mjPromise: Promise<MainModule> | null = null;

export async function loadFixture(name: 'render-box' | 'viewer-arm'): Promise<LoadedFixture> {
  mjPromise ??= loadMujoco();
  const mj = await mjPromise;
  const xml = readFileSync(new URL(`../fixtures/sim/${name}.xml`, import.meta.url), 'utf8');
  const model = mj.MjModel.from_xml_string(xml);
  const data = new mj.MjData(model);
  mj.mj_forward(model, data);
  const scene = describeScene(model as unknown as MjModelLike);
  return {
    mj,
    model,
    data,
    scene,
    state(qpos) {
      if (qpos) (data.qpos as Float64Array).set(qpos);
      mj.mj_forward(model, data);
      return extractState(scene, data as unknown as MjDataLike);
    },
    dispose() {
      data.delete();
      model.delete();
    },
  };
}
