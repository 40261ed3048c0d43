/**
 * One headless Chromium per process (i.e. per vitest worker / CLI run), shared
 * by every renderer and test page: starting it costs ~1 s.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { ArmatureError } from '../../src/errors.ts';

/** Chromium is missing or cannot give WebGL2. */
export class BrowserUnavailableError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('render.browser', message, options);
  }
}

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

const BASE_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const SWIFTSHADER_ARGS = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'];

/** Path of the Chromium to drive: $ARMATURE_CHROMIUM or Debian's /usr/bin/chromium. */
export function chromiumPath(): string {
  return process.env.ARMATURE_CHROMIUM ?? DEFAULT_CHROMIUM;
}

/** Whether a Chromium executable is present (tests skip without it). */
export function chromiumAvailable(): boolean {
  return existsSync(chromiumPath());
}

interface Shared {
  browser: Promise<Browser>;
  users: number;
}
let shared: Shared | null = null;

async function hasWebGL2(browser: Browser): Promise<boolean> {
  const page = await browser.newPage();
  try {
    return (await page.evaluate("document.createElement('canvas').getContext('webgl2') !== null")) === true;
  } finally {
    await page.close();
  }
}

async function launch(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new BrowserUnavailableError(`no Chromium at ${executablePath}: install Debian's chromium (apt-get install -y chromium) or set ARMATURE_CHROMIUM`);
  }
  let browser = await chromium.launch({ executablePath, args: BASE_ARGS });
  if (!(await hasWebGL2(browser))) {
    // software GL is not offered by default in some builds: ask for SwiftShader
    await browser.close();
    browser = await chromium.launch({ executablePath, args: [...BASE_ARGS, ...SWIFTSHADER_ARGS] });
    if (!(await hasWebGL2(browser))) {
      await browser.close();
      throw new BrowserUnavailableError(`Chromium at ${executablePath} offers no WebGL2 even with SwiftShader: use a Chromium build with ANGLE/SwiftShader`);
    }
  }
  return browser;
}

/**
 * Borrow the process's shared browser; call the returned release() when done.
 * The browser closes when the last borrower releases it.
 */
export async function acquireBrowser(): Promise<{ browser: Browser; release: () => Promise<void> }> {
  if (shared === null) {
    const s: Shared = { browser: launch(), users: 0 };
    shared = s;
    s.browser.catch(() => {
      if (shared === s) shared = null;
    });
  }
  const s = shared;
  s.users++;
  let browser: Browser;
  try {
    browser = await s.browser;
  } catch (e) {
    s.users--;
    throw e;
  }
  let released = false;
  return {
    browser,
    release: async () => {
      if (released) return;
      released = true;
      s.users--;
      if (s.users === 0 && shared === s) {
        shared = null;
        await browser.close();
      }
    },
  };
}
