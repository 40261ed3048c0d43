import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireBrowser, chromiumAvailable, chromiumPath } from '../../sim/render/chromium.ts';
import { episodeToNdjson, packFrame, type Episode } from '../../sim/viewer/episode.ts';
import { startViewerServer, ViewerError, type ViewerHandle } from '../../sim/viewer/server.ts';
import { loadFixture, type LoadedFixture } from './render-fixture.ts';

const hasChromium = chromiumAvailable();
if (!hasChromium) console.warn(`skipping viewer page tests: no Chromium at ${chromiumPath()} (apt-get install -y chromium)`);

const STEPS = 20;

function makeEpisode(f: LoadedFixture): Episode {
  const steps = [];
  for (let k = 0; k < STEPS; k++) {
    const q = [(-1.2 * k) / (STEPS - 1), (0.8 * k) / (STEPS - 1)];
    steps.push(packFrame({ t: 0.05 * k, state: f.state(q), joints: q, chunkPath: [[0.1, 0, 0.7], [0.2, 0, 0.6], [0.3, 0, 0.5]] }));
  }
  return { format: 'armature.episode/1', scene: f.scene, jointNames: ['shoulder', 'elbow'], instruction: 'wave the arm', dt: 0.02, steps };
}

/** Screenshot of the main 3D view, decoded. */
async function mainView(page: Page): Promise<PNG> {
  return PNG.sync.read(await page.locator('#main canvas').screenshot());
}

/** pixels that look like the orange robot (rgba 1 0.5 0 lit) */
function countOrange(img: PNG): number {
  let n = 0;
  const d = img.data;
  for (let i = 0; i < d.length; i += 4) if (d[i] > 100 && d[i + 1] > 25 && d[i + 1] < 0.8 * d[i] && d[i + 2] < 0.3 * d[i]) n++;
  return n;
}

function countDifferent(a: PNG, b: PNG): number {
  let n = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    if (Math.abs(a.data[i] - b.data[i]) + Math.abs(a.data[i + 1] - b.data[i + 1]) + Math.abs(a.data[i + 2] - b.data[i + 2]) > 30) n++;
  }
  return n;
}

describe.skipIf(!hasChromium)('viewer page (real headless Chromium)', () => {
  let f: LoadedFixture;
  let browser: Browser;
  let release: () => Promise<void>;
  beforeAll(async () => {
    f = await loadFixture('viewer-arm');
    ({ browser, release } = await acquireBrowser());
  });
  afterAll(async () => {
    await release?.();
    f?.dispose();
  });

  async function open(v: ViewerHandle): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
    await page.goto(v.url);
    await page.waitForFunction('window.armatureViewer && (window.armatureViewer.ready || window.armatureViewer.error !== null)');
    expect(await page.evaluate('window.armatureViewer.error')).toBeNull();
    return page;
  }

  it('replays an episode: shows the robot, and the scrubber moves the step and the picture', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'armature-viewer-'));
    const file = join(dir, 'ep.ndjson');
    writeFileSync(file, episodeToNdjson(makeEpisode(f)));
    const v = await startViewerServer({ port: 0, source: { type: 'episode-file', path: file } });
    const page = await open(v);
    try {
      expect(v.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(await page.locator('#instruction').textContent()).toBe('wave the arm');
      expect(await page.locator('#step').textContent()).toMatch(/^step 0 \/ 19/);
      await page.waitForTimeout(100); // one animation frame for the main view
      const first = await mainView(page);
      // the robot stands in the middle of the view: orange pixels there, none in the corners
      expect(countOrange(first)).toBeGreaterThan(1000);
      const w = first.width;
      const h = first.height;
      const corner = new PNG({ width: 40, height: 40 });
      PNG.bitblt(first, corner, 0, 0, 40, 40, 0, 0);
      expect(countOrange(corner)).toBe(0);
      expect(w).toBeGreaterThan(400);
      expect(h).toBeGreaterThan(300);
      // policy camera canvases and joint plots exist and are drawn
      expect(await page.locator('#cams canvas').count()).toBe(2);
      expect(await page.locator('#plots canvas').count()).toBe(2);
      const agentview = PNG.sync.read(await page.locator('canvas[data-camera="agentview"]').screenshot());
      expect(countOrange(agentview)).toBeGreaterThan(20);

      await page.locator('#scrubber').fill('19');
      await page.waitForFunction('document.body.dataset.step === "19"');
      expect(await page.locator('#step').textContent()).toMatch(/^step 19 \/ 19\s+t = 0\.95 s/);
      await page.waitForTimeout(100);
      const last = await mainView(page);
      expect(countDifferent(first, last)).toBeGreaterThan(1000);
      expect(countOrange(last)).toBeGreaterThan(1000);

      // back to 0 gives the first picture again
      await page.locator('#scrubber').fill('0');
      await page.waitForFunction('document.body.dataset.step === "0"');
      await page.waitForTimeout(100);
      expect(countDifferent(first, await mainView(page))).toBeLessThan(50);

      // play runs to the end (dt 0.02 s, 20 steps)
      await page.locator('#play').click();
      await page.waitForFunction('document.body.dataset.step === "19"', undefined, { timeout: 10_000 });
      expect(await page.locator('#play').textContent()).toBe('play');
    } finally {
      await page.close();
      await v.close();
    }
  });

  it('streams live frames over SSE to the page', async () => {
    const v = await startViewerServer({
      port: 0,
      source: { type: 'live', scene: f.scene, jointNames: ['shoulder', 'elbow'], instruction: 'live run' },
      policyCameras: ['wrist'],
    });
    const page = await open(v);
    try {
      expect(await page.evaluate('window.armatureViewer.mode')).toBe('live');
      expect(await page.locator('#cams canvas').count()).toBe(1);
      await expect.poll(() => v.clients).toBe(1);
      v.push({ t: 0, state: Array.from(f.state([0, 0])), joints: [0, 0], instruction: 'now: wave', chunkPath: [[0, 0, 0.8], [0.2, 0, 0.8]] });
      await page.waitForFunction('window.armatureViewer.frames === 1');
      await page.waitForTimeout(100);
      const a = await mainView(page);
      expect(await page.locator('#instruction').textContent()).toBe('now: wave');
      v.push(packFrame({ t: 0.05, state: f.state([-1.2, 0.8]), joints: [-1.2, 0.8] }));
      await page.waitForFunction('window.armatureViewer.frames === 2');
      await page.waitForTimeout(100);
      expect(countDifferent(a, await mainView(page))).toBeGreaterThan(1000);
      expect(() => v.push({ t: 1, state: [1, 2, 3] })).toThrow(/state has 3 floats/);
      // plain HTTP routes
      const scene = (await (await fetch(new URL('scene.json', v.url))).json()) as { format: string };
      expect(scene.format).toBe('armature.scene/1');
      expect((await fetch(new URL('episode.json', v.url))).status).toBe(404);
      expect((await fetch(new URL('nope', v.url))).status).toBe(404);
    } finally {
      await page.close();
      await v.close();
    }
  });

  it('rejects unknown policy cameras and live calls on a replay', async () => {
    await expect(startViewerServer({ port: 0, source: { type: 'live', scene: f.scene }, policyCameras: ['eye'] })).rejects.toThrow(
      /policy camera 'eye' is not in the scene \(has: agentview, wrist\)/,
    );
    const v = await startViewerServer({ port: 0, source: { type: 'episode', episode: makeEpisode(f) } });
    try {
      expect(() => v.push({ t: 0, state: [] })).toThrow(ViewerError);
    } finally {
      await v.close();
    }
  });
});
