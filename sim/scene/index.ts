export { buildScene, buildSceneWithAssets, lookAtXyaxes, ROBOT_MJCF, type BuiltScene } from './build.ts';
export { loadMjcfFile, type AssetMap, type LoadedMjcf } from './assets.ts';
export { SceneError, MjcfAssetError, parseFragment, type MjcfFragment } from './mjcf.ts';
export type * from './types.ts';
