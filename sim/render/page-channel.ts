/**
 * A binary side channel between Node and one browser page: a loopback HTTP
 * server that serves the page and accepts one WebSocket from it.
 *
 * Why: page.evaluate sends everything through the DevTools protocol as JSON,
 * so 2 x 128 x 128 RGB frames go out as 131 KB of base64 per step plus a
 * protocol round trip (~3.5 ms measured here); a WebSocket carries raw bytes
 * in ~1.5-2 ms. Minimal RFC 6455 server (no extensions) so no dependency is
 * needed: the only client is our own page.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { ArmatureError } from '../../src/errors.ts';

/** The page channel failed: socket closed, protocol error, or page error. */
export class PageChannelError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('render.channel', message, options);
  }
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 section 4.2.2). */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + WS_GUID).digest('base64');
}

/** Header of one unmasked, final frame (server to client). */
export function frameHeader(opcode: number, length: number): Buffer {
  if (length < 126) return Buffer.from([0x80 | opcode, length]);
  if (length < 0x10000) {
    const h = Buffer.alloc(4);
    h[0] = 0x80 | opcode;
    h[1] = 126;
    h.writeUInt16BE(length, 2);
    return h;
  }
  const h = Buffer.alloc(10);
  h[0] = 0x80 | opcode;
  h[1] = 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  return h;
}

export interface WsMessage {
  /** OPCODE.text, binary, close, ping or pong */
  readonly opcode: number;
  readonly data: Buffer;
}

/**
 * Incremental frame parser: push socket chunks, get complete messages
 * (fragmented messages are joined; masked payloads unmasked).
 */
export class FrameParser {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;

  push(chunk: Buffer): WsMessage[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: WsMessage[] = [];
    for (;;) {
      const frame = this.next();
      if (frame === null) break;
      const { fin, opcode, data } = frame;
      if (opcode >= 8) {
        out.push({ opcode, data }); // control frames are never fragmented
      } else if (opcode !== OPCODE.continuation) {
        if (fin) out.push({ opcode, data });
        else {
          this.fragmentOpcode = opcode;
          this.fragments = [data];
        }
      } else {
        this.fragments.push(data);
        if (fin) {
          out.push({ opcode: this.fragmentOpcode, data: Buffer.concat(this.fragments) });
          this.fragments = [];
        }
      }
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0];
  }

  private next(): { fin: boolean; opcode: number; data: Buffer } | null {
    if (this.buffered < 2) return null;
    let h = this.peek(2);
    const fin = (h[0] & 0x80) !== 0;
    const opcode = h[0] & 0x0f;
    const masked = (h[1] & 0x80) !== 0;
    let len = h[1] & 0x7f;
    let off = 2;
    const ext = len === 126 ? 2 : len === 127 ? 8 : 0;
    const headerLen = off + ext + (masked ? 4 : 0);
    if (this.buffered < headerLen) return null;
    h = this.peek(headerLen);
    if (ext === 2) len = h.readUInt16BE(2);
    else if (ext === 8) len = Number(h.readBigUInt64BE(2));
    off += ext;
    if (this.buffered < headerLen + len) return null;
    const all = this.peek(headerLen + len);
    const data = Buffer.from(all.subarray(headerLen, headerLen + len)); // own copy: the chunk is reused below
    if (masked) {
      const m0 = all[off];
      const m1 = all[off + 1];
      const m2 = all[off + 2];
      const m3 = all[off + 3];
      for (let i = 0; i < len; i += 4) {
        data[i] ^= m0;
        if (i + 1 < len) data[i + 1] ^= m1;
        if (i + 2 < len) data[i + 2] ^= m2;
        if (i + 3 < len) data[i + 3] ^= m3;
      }
    }
    const rest = all.subarray(headerLen + len);
    this.chunks = rest.length > 0 ? [rest, ...this.chunks.slice(1)] : this.chunks.slice(1);
    this.buffered -= headerLen + len;
    return { fin, opcode, data };
  }
}

export interface PageChannelOptions {
  /** HTML served at pageUrl */
  readonly html: string;
}

/**
 * Loopback server for one page. Navigate the page to `pageUrl`, have it open
 * a WebSocket to `socketUrl`, then await `connected()`. Paths carry a random
 * token so no other local client can attach.
 */
export class PageChannel {
  private socket: Socket | null = null;
  private readonly parser = new FrameParser();
  private onConnect: ((s: Socket) => void) | null = null;
  private handler: (m: WsMessage) => void = () => undefined;
  private closeHandler: (e: Error) => void = () => undefined;
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly pageUrl: string,
    readonly socketUrl: string,
  ) {}

  static async open(opts: PageChannelOptions): Promise<PageChannel> {
    const token = randomBytes(12).toString('hex');
    const server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === `/${token}/`) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(opts.html);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new PageChannelError('render page server has no TCP address: loopback networking is unavailable');
    const base = `127.0.0.1:${addr.port}/${token}/`;
    const ch = new PageChannel(server, `http://${base}`, `ws://${base}ws`);
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => ch.upgrade(req, socket, `/${token}/ws`));
    return ch;
  }

  private upgrade(req: IncomingMessage, socket: Socket, path: string): void {
    const key = req.headers['sec-websocket-key'];
    if (req.url !== path || typeof key !== 'string' || this.socket !== null || this.closed) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    socket.setNoDelay(true);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`);
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      let msgs: WsMessage[];
      try {
        msgs = this.parser.push(chunk);
      } catch (e) {
        this.fail(new PageChannelError(`bad WebSocket frame from the render page: ${String(e)}`, { cause: e }));
        return;
      }
      for (const m of msgs) {
        if (m.opcode === OPCODE.ping) this.write(OPCODE.pong, m.data);
        else if (m.opcode === OPCODE.close) this.fail(new PageChannelError('the render page closed its WebSocket (page crashed or navigated): create a new renderer'));
        else if (m.opcode === OPCODE.text || m.opcode === OPCODE.binary) this.handler(m);
      }
    });
    socket.on('close', () => this.fail(new PageChannelError('the render page WebSocket closed (browser gone?): create a new renderer')));
    socket.on('error', (e) => this.fail(new PageChannelError(`render page WebSocket error: ${e.message}`, { cause: e })));
    this.onConnect?.(socket);
  }

  /** Resolves when the page's WebSocket is open (rejects after timeoutMs). */
  connected(timeoutMs = 10_000): Promise<void> {
    if (this.socket !== null) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new PageChannelError(`the render page did not open its WebSocket to ${this.socketUrl} within ${timeoutMs} ms: check that loopback connections are allowed`)), timeoutMs);
      this.onConnect = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Handle every text/binary message from the page, and the channel's end. */
  listen(onMessage: (m: WsMessage) => void, onClose: (e: Error) => void): void {
    this.handler = onMessage;
    this.closeHandler = onClose;
  }

  /** Send one message (binary for typed arrays, text for strings). */
  send(data: Uint8Array | string): void {
    if (typeof data === 'string') this.write(OPCODE.text, Buffer.from(data, 'utf8'));
    else this.write(OPCODE.binary, data);
  }

  private write(opcode: number, payload: Uint8Array): void {
    const s = this.socket;
    if (s === null || this.closed) throw new PageChannelError('render page channel is not connected or already closed: create a new renderer');
    s.cork();
    s.write(frameHeader(opcode, payload.length));
    s.write(payload);
    s.uncork();
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closeHandler(e);
    this.socket?.destroy();
    this.server.close();
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.closeHandler(new PageChannelError('render page channel closed'));
    }
    this.socket?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
