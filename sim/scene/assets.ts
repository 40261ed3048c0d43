/**
 * Loading a user's own MJCF file with mesh/texture files beside it. Asset references are
 * rewritten to names in the MuJoCo virtual file system, and the bytes are returned so the
 * simulator can put them there. A missing file is reported before MuJoCo sees the model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { MjcfAssetError, SceneError, findElements, getAttr, stripComments, xmlAttr } from './mjcf.ts';

/** virtual file name -> bytes */
export type AssetMap = Map<string, Uint8Array>;

export interface LoadedMjcf {
  /** MJCF text with asset `file` attributes pointing into the virtual file system */
  xml: string;
  assets: AssetMap;
  /** absolute path of the file that was read */
  path: string;
}

const ASSET_ELEMENTS = /<(mesh|skin|texture|hfield)\b[^>]*>/g;

/**
 * Read an MJCF file and the asset files it references (resolved like MuJoCo does: relative
 * to `compiler meshdir`/`texturedir`/`assetdir`, themselves relative to the file's folder).
 * @param vfsPrefix folder name used in the virtual file system, unique per loaded file
 */
export function loadMjcfFile(path: string, vfsPrefix: string): LoadedMjcf {
  const abs = resolve(path);
  if (!existsSync(abs)) {
    throw new SceneError(`MJCF file '${abs}' does not exist: check the path`);
  }
  const raw = stripComments(readFileSync(abs, 'utf8'));
  if (/<include\b/.test(raw)) {
    throw new SceneError(`MJCF ${abs}: <include> is not supported; inline the included file`);
  }
  const dir = dirname(abs);
  const compiler = findElements(raw, 'compiler')[0];
  const dirAttr = (name: string): string | undefined => (compiler ? getAttr(compiler.openTag, name) : undefined);
  const assetdir = dirAttr('assetdir');
  const meshdir = dirAttr('meshdir') ?? assetdir ?? '';
  const texturedir = dirAttr('texturedir') ?? assetdir ?? '';
  const assets: AssetMap = new Map();

  let xml = raw.replace(ASSET_ELEMENTS, (tag: string, kind: string) => {
    const file = getAttr(tag, 'file');
    if (file === undefined) return tag;
    const sub = kind === 'texture' ? texturedir : meshdir;
    const full = isAbsolute(file) ? file : resolve(dir, sub, file);
    if (!existsSync(full)) {
      throw new MjcfAssetError(
        full,
        abs,
        `MJCF ${abs}: <${kind} file="${file}"> not found at '${full}': put the file beside the MJCF (or under its compiler meshdir/texturedir) or fix the path`,
      );
    }
    const vfsName = `${vfsPrefix}/${file.replace(/^\/+/, '').replace(/\.\.\//g, 'up/')}`;
    assets.set(vfsName, new Uint8Array(readFileSync(full)));
    // Without an explicit name MuJoCo names the asset after the file stem; keep that name.
    let out = tag.replace(/\sfile\s*=\s*("[^"]*"|'[^']*')/, ` file="${xmlAttr(vfsName)}"`);
    if (getAttr(tag, 'name') === undefined) {
      const stem = file.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
      out = out.replace(`<${kind}`, `<${kind} name="${xmlAttr(stem)}"`);
    }
    return out;
  });
  // asset folders are now baked into the virtual names
  xml = xml.replace(/\s(meshdir|texturedir|assetdir)\s*=\s*("[^"]*"|'[^']*')/g, '');
  return { xml, assets, path: abs };
}
