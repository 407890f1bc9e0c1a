// Helpers shared by the RFB unit tests, the display integration tests and benches: a server on
// an ephemeral loopback port and a recording input sink.

import net from 'node:net';
import { Framebuffer } from '../framebuffer';
import type { InputSink } from '../input';
import type { VncConfig } from '../vnc-options';
import { RfbClient, type RfbClientOptions } from './client';
import { VncServer, type VncServerOptions } from './server';

export function ephemeralConfig(patch: Partial<VncConfig> = {}): VncConfig {
  return {
    listen: { kind: 'tcp', host: '127.0.0.1', port: 0, display: 0, lastPort: 0 },
    websocket: null,
    password: false,
    share: 'allow-exclusive',
    connections: 32,
    lossy: false,
    nonAdaptive: false,
    keyDelayMs: 0,
    ...patch,
  };
}

export function recordingSink(): { log: string[]; sink: InputSink } {
  const log: string[] = [];
  const sink: InputSink = {
    key: (code, down) => log.push(`key ${code} ${down ? 'down' : 'up'}`),
    pointerMove: (x, y) => log.push(`move ${x},${y}`),
    button: (code, down) => log.push(`btn ${code} ${down ? 'down' : 'up'}`),
    scroll: (v, h) => log.push(`scroll ${v},${h}`),
    sync: () => {},
  };
  return { log, sink };
}

export async function startServer(
  width: number,
  height: number,
  opts: Partial<VncServerOptions> = {},
  cfg: Partial<VncConfig> = {},
): Promise<{ fb: Framebuffer; server: VncServer; port: number; connect: (o?: RfbClientOptions) => Promise<RfbClient> }> {
  const fb = opts.framebuffer ?? new Framebuffer(width, height);
  const server = new VncServer({ ...opts, framebuffer: fb });
  const addr = await server.listen(ephemeralConfig(cfg));
  const port = addr.tcp!.port;
  const connect = (o?: RfbClientOptions) => RfbClient.connect(net.connect(port, '127.0.0.1'), o);
  return { fb, server, port, connect };
}

/** Resolves when `cond` holds, polling the event loop. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
