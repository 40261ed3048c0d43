import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { acquireBrowser, chromiumAvailable } from '../../sim/render/chromium.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const hasChromium = chromiumAvailable();
if (!hasChromium) console.warn('skipping `armature sim --viewer` test: /usr/bin/chromium not installed (run scripts/setup.sh)');

describe.skipIf(!hasChromium)('armature sim --viewer, as the README shows it', () => {
  it('serves a page on 127.0.0.1 that shows the simulated Franka, and stops on Ctrl-C', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'armature.mjs'), 'sim', '--scene', 'franka', '--steps', '400', '--viewer', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no viewer URL; stderr:\n${stderr}`)), 30_000);
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        const m = /viewer: open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`sim exited (${code}) before serving; stderr:\n${stderr}`)));
    });
    const { browser, release } = await acquireBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
      await page.goto(url);
      await page.waitForSelector('#main canvas');
      // wait until the episode has streamed a few frames
      await page.waitForFunction(() => Number(document.body.dataset['step'] ?? '0') > 5, undefined, { timeout: 20_000 });
      const img = PNG.sync.read(await page.locator('#main canvas').screenshot());
      // the robot and table differ from the flat background colour of the top-left corner
      const bg = [img.data[0]!, img.data[1]!, img.data[2]!];
      let differing = 0;
      for (let i = 0; i < img.data.length; i += 4) {
        if (Math.abs(img.data[i]! - bg[0]!) + Math.abs(img.data[i + 1]! - bg[1]!) + Math.abs(img.data[i + 2]! - bg[2]!) > 40) differing++;
      }
      expect(differing).toBeGreaterThan(img.width * img.height * 0.05);
      await page.close();
    } finally {
      await release();
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });
});
