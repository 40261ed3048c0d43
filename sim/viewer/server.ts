/**
 * `armature sim --viewer`: serves the viewer page on 127.0.0.1. Live mode
 * pushes frames with Server-Sent Events (no WebSocket dependency); replay mode
 * serves a recorded episode for the page's timeline.
 *
 * Routes: / (page), /viewer.js (bundle), /session.json, /scene.json,
 * /episode.json (replay), /events (SSE: `scene` and `frame` events).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ArmatureError } from '../../src/errors.ts';
import { bundleBrowserEntry } from '../render/bundle.ts';
import type { RenderScene } from '../render/scene-description.ts';
import { frameState, parseEpisode, type Episode, type ViewerFrame } from './episode.ts';

/** What the viewer shows: a live simulation, or a recorded episode. */
export type ViewerSource =
  | { readonly type: 'live'; readonly scene: RenderScene; readonly jointNames?: readonly string[]; readonly instruction?: string }
  | { readonly type: 'episode'; readonly episode: Episode }
  | { readonly type: 'episode-file'; readonly path: string };

export interface ViewerServerOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one */
  readonly port: number;
  readonly source: ViewerSource;
  /** cameras to show as policy views (default: every camera in the scene) */
  readonly policyCameras?: readonly string[];
  /** policy view size, px (default 128) */
  readonly policyViewSize?: number;
}

/** What the page reads first from /session.json. */
export interface ViewerSession {
  readonly mode: 'live' | 'replay';
  readonly jointNames: readonly string[];
  readonly instruction: string;
  readonly policyCameras: readonly string[];
  readonly policyViewSize: number;
  readonly dt: number;
}

export interface ViewerHandle {
  /** e.g. http://127.0.0.1:41234/ */
  readonly url: string;
  /** live mode: send one step to every open page (the last one is kept for late joiners) */
  push(frame: ViewerFrame): void;
  /** live mode: replace the scene (e.g. on episode reset with a new model) */
  setScene(scene: RenderScene, jointNames?: readonly string[]): void;
  /** number of pages connected to the live stream */
  readonly clients: number;
  close(): Promise<void>;
}

export class ViewerError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('viewer.invalid', message, options);
  }
}

const PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Armature viewer</title>
<style>
  body { margin: 0; font: 13px system-ui, sans-serif; background: #15171c; color: #dde; display: grid;
         grid-template-columns: 1fr 300px; grid-template-rows: auto 1fr auto; height: 100vh; }
  #instruction { grid-column: 1 / 3; padding: 6px 10px; background: #20232b; min-height: 18px; }
  #main { position: relative; min-height: 0; }
  #main canvas { width: 100%; height: 100%; display: block; }
  #side { overflow-y: auto; padding: 6px; border-left: 1px solid #333; }
  #side h3 { margin: 8px 0 4px; font-size: 12px; color: #99a; }
  .cam { display: inline-block; margin: 2px; text-align: center; font-size: 11px; }
  .cam canvas { display: block; background: #000; image-rendering: pixelated; }
  .plot { display: block; width: 284px; height: 48px; margin-bottom: 2px; background: #1c1f26; }
  #timeline { grid-column: 1 / 3; display: flex; gap: 8px; align-items: center; padding: 6px 10px; background: #20232b; }
  #timeline[hidden] { display: none; }
  #scrubber { flex: 1; }
</style></head>
<body>
<div id="instruction"></div>
<div id="main"></div>
<div id="side"><h3>policy cameras</h3><div id="cams"></div><h3>joints</h3><div id="plots"></div></div>
<div id="timeline" hidden><button id="play">play</button><input id="scrubber" type="range" min="0" max="0" value="0" step="1"><span id="step">step 0 / 0</span></div>
<script src="/viewer.js"></script>
</body></html>
`;

export async function startViewerServer(opts: ViewerServerOptions): Promise<ViewerHandle> {
  let episode: Episode | null = null;
  let scene: RenderScene;
  let jointNames: readonly string[];
  let instruction: string;
  const src = opts.source;
  if (src.type === 'live') {
    scene = src.scene;
    jointNames = src.jointNames ?? [];
    instruction = src.instruction ?? '';
  } else {
    episode = src.type === 'episode' ? src.episode : parseEpisode(await readFile(src.path, 'utf8'), src.path);
    scene = episode.scene;
    jointNames = episode.jointNames;
    instruction = episode.instruction ?? '';
  }
  const cameraNames = (): string[] => scene.cameras.map((c) => c.name);
  for (const c of opts.policyCameras ?? []) {
    if (!cameraNames().includes(c)) {
      throw new ViewerError(`policy camera '${c}' is not in the scene (has: ${cameraNames().join(', ') || 'none'}): pass names from the MJCF`);
    }
  }
  const script = await bundleBrowserEntry('viewer');
  const clients = new Set<ServerResponse>();
  let last: ViewerFrame | null = null;

  const session = (): ViewerSession => ({
    mode: episode ? 'replay' : 'live',
    jointNames,
    instruction,
    policyCameras: opts.policyCameras ?? cameraNames(),
    policyViewSize: opts.policyViewSize ?? 128,
    dt: episode?.dt ?? 0.05,
  });
  const send = (res: ServerResponse, event: string, data: unknown): void => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const json = (res: ServerResponse, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(text);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    switch (path) {
      case '/':
      case '/index.html':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE_HTML);
        return;
      case '/viewer.js':
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
        return;
      case '/favicon.ico':
        res.writeHead(204).end();
        return;
      case '/session.json':
        json(res, session());
        return;
      case '/scene.json':
        json(res, scene);
        return;
      case '/episode.json':
        if (episode === null) res.writeHead(404).end('live session: no episode');
        else json(res, episode);
        return;
      case '/events':
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(': armature viewer\n\n');
        clients.add(res);
        if (last !== null) send(res, 'frame', last);
        req.on('close', () => clients.delete(res));
        return;
      default:
        res.writeHead(404).end('not found');
    }
  });
  // SSE comments keep proxies and idle timers from closing the stream
  const keepAlive = setInterval(() => {
    for (const c of clients) c.write(': ping\n\n');
  }, 15_000);
  keepAlive.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(new ViewerError(`viewer cannot listen on 127.0.0.1:${opts.port}: ${String(e)}; pick another --port (0 = any free)`, { cause: e })),
    );
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    push(frame) {
      if (episode !== null) throw new ViewerError('push() is for live sessions; this viewer replays an episode');
      frameState(scene, frame, 'pushed frame');
      last = frame;
      for (const c of clients) send(c, 'frame', frame);
    },
    setScene(next, names) {
      if (episode !== null) throw new ViewerError('setScene() is for live sessions; this viewer replays an episode');
      scene = next;
      if (names !== undefined) jointNames = names;
      last = null;
      for (const c of clients) send(c, 'scene', { scene, session: session() });
    },
    get clients() {
      return clients.size;
    },
    async close() {
      clearInterval(keepAlive);
      for (const c of clients) c.end();
      clients.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
