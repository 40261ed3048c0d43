/**
 * Bundles a browser entry (TypeScript + three.js) into one IIFE script with
 * esbuild, once per process, so pages need no module server or import map.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ArmatureError } from '../../src/errors.ts';

const cache = new Map<string, Promise<string>>();

/** Browser entries shipped with Armature, relative to this folder. */
export const BROWSER_ENTRIES = {
  render: new URL('./page-entry.ts', import.meta.url),
  viewer: new URL('../viewer/page.ts', import.meta.url),
} as const;

/** The bundled script for a browser entry (cached per process). */
export function bundleBrowserEntry(entry: keyof typeof BROWSER_ENTRIES): Promise<string> {
  let p = cache.get(entry);
  if (p === undefined) {
    const file = fileURLToPath(BROWSER_ENTRIES[entry]);
    p = build({
      entryPoints: [file],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'chrome110',
      write: false,
      minify: true,
      keepNames: true,
      logLevel: 'silent',
    }).then(
      (r) => r.outputFiles[0].text,
      (e: unknown) => {
        cache.delete(entry);
        throw new ArmatureError('render.bundle', `cannot bundle browser entry ${file}: ${String(e)}; check that three and esbuild are installed (npm install)`, { cause: e });
      },
    );
    cache.set(entry, p);
  }
  return p;
}
