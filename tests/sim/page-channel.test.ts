import { createConnection } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptKey, FrameParser, frameHeader, OPCODE, PageChannel, type WsMessage } from '../../sim/render/page-channel.ts';

/** A masked client frame, as a browser sends it. */
function clientFrame(opcode: number, payload: Uint8Array, fin = true, mask = [0x12, 0x34, 0x56, 0x78]): Buffer {
  const n = payload.length;
  const ext = n < 126 ? Buffer.alloc(0) : n < 0x10000 ? Buffer.alloc(2) : Buffer.alloc(8);
  if (n >= 126 && n < 0x10000) ext.writeUInt16BE(n);
  if (n >= 0x10000) ext.writeBigUInt64BE(BigInt(n));
  const h = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | (n < 126 ? n : n < 0x10000 ? 126 : 127)]);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([h, ext, Buffer.from(mask), body]);
}

describe('WebSocket framing', () => {
  it('computes the RFC 6455 accept key', () => {
    // the example handshake in RFC 6455 section 1.3
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('writes 7-bit, 16-bit and 64-bit length headers', () => {
    expect([...frameHeader(OPCODE.binary, 5)]).toEqual([0x82, 5]);
    expect([...frameHeader(OPCODE.text, 300)]).toEqual([0x81, 126, 1, 44]);
    expect([...frameHeader(OPCODE.binary, 98304)]).toEqual([0x82, 127, 0, 0, 0, 0, 0, 1, 0x80, 0]);
  });

  it('unmasks, joins fragments and survives arbitrary chunking', () => {
    const big = Uint8Array.from({ length: 98304 }, (_, i) => (i * 7) & 0xff);
    const wire = Buffer.concat([
      clientFrame(OPCODE.text, Buffer.from('hi')),
      clientFrame(OPCODE.binary, big.subarray(0, 70000), false),
      clientFrame(OPCODE.ping, Buffer.from('p')),
      clientFrame(OPCODE.continuation, big.subarray(70000), true),
      clientFrame(OPCODE.binary, Uint8Array.from({ length: 200 }, (_, i) => i)),
    ]);
    for (const step of [1, 3, 1000, 65536, wire.length]) {
      const p = new FrameParser();
      const got: WsMessage[] = [];
      for (let i = 0; i < wire.length; i += step) got.push(...p.push(wire.subarray(i, i + step)));
      expect(got.map((m) => m.opcode)).toEqual([OPCODE.text, OPCODE.ping, OPCODE.binary, OPCODE.binary]);
      expect(got[0].data.toString()).toBe('hi');
      expect(got[1].data.toString()).toBe('p');
      expect(Buffer.compare(got[2].data, Buffer.from(big))).toBe(0);
      expect([...got[3].data.subarray(195)]).toEqual([195, 196, 197, 198, 199]);
    }
  });
});

describe('PageChannel over loopback', () => {
  let ch: PageChannel | null = null;
  afterEach(async () => {
    await ch?.close();
    ch = null;
  });

  it('serves the page, refuses a wrong path, and exchanges binary messages with a client', async () => {
    ch = await PageChannel.open({ html: '<p>x</p>' });
    const page = await fetch(ch.pageUrl);
    expect(await page.text()).toBe('<p>x</p>');
    expect((await fetch(ch.pageUrl.replace(/\/[0-9a-f]+\/$/, '/nope/'))).status).toBe(404);

    const url = new URL(ch.socketUrl);
    const sock = createConnection({ host: url.hostname, port: Number(url.port) });
    const received: WsMessage[] = [];
    const gotOne = new Promise<void>((resolve) => ch!.listen((m) => { received.push(m); resolve(); }, () => undefined));
    const connected = ch.connected(5000);
    const handshake = new Promise<string>((resolve) => sock.once('data', (d: Buffer) => resolve(d.toString('latin1'))));
    sock.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    expect(await handshake).toMatch(/^HTTP\/1.1 101[\s\S]*Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
    await connected;

    sock.write(clientFrame(OPCODE.binary, Uint8Array.from([1, 2, 3])));
    await gotOne;
    expect([...received[0].data]).toEqual([1, 2, 3]);

    const reply = new Promise<Buffer>((resolve) => sock.once('data', resolve));
    ch.send(Uint8Array.from([9, 8]));
    expect([...(await reply)]).toEqual([0x82, 2, 9, 8]);
    sock.destroy();
  });
});
