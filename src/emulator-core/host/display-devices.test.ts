import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RfbClient } from '../display/rfb/client';
import { KEY } from '../display/keymap';
import { VirtioGpu } from '../devices/virtio/gpu';
import { VirtioInput } from '../devices/virtio/input';
import { TestDriver } from '../devices/virtio/test-driver';
import { EventEmitter } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import { WebSocket } from 'ws';
import type { ByteMessagePort } from '../display/rfb/message-port-stream';
import {
  acceptDisplayPorts,
  addDisplayDevice,
  createDisplayDevices,
  DISPLAY_PORT_MESSAGE,
  DisplayOptionError,
  emptyDisplayConfig,
  type ParentPort,
  setVnc,
  startDisplay,
  WEBSOCKET_ORIGINS_ENV,
} from './display-devices';

describe('-device and -vnc for display and input', () => {
  it('takes QEMU device names and properties, and leaves other devices alone', () => {
    const c = emptyDisplayConfig();
    expect(addDisplayDevice(c, 'virtio-gpu-device,xres=1024,yres=768,edid=off')).toBe(true);
    expect(addDisplayDevice(c, 'virtio-keyboard-device')).toBe(true);
    expect(addDisplayDevice(c, 'virtio-tablet-device,id=tab0')).toBe(true);
    expect(addDisplayDevice(c, 'virtio-net-device,netdev=n0')).toBe(false);
    expect(c.devices).toEqual([
      { kind: 'gpu', xres: 1024, yres: 768, edid: false },
      { kind: 'input', input: 'keyboard' },
      { kind: 'input', input: 'tablet' },
    ]);
    const devices = createDisplayDevices(c);
    expect(devices[0]).toBeInstanceOf(VirtioGpu);
    expect((devices[2] as VirtioInput).kind).toBe('tablet');
  });

  it('refuses what it cannot honour, by name', () => {
    const bad: [string, RegExp][] = [
      ['virtio-gpu-pci', /no PCI bus.*virtio-gpu-device/],
      ['virtio-vga', /virtio-gpu-device/],
      ['virtio-gpu-device,xres=5', /xres must be/],
      ['virtio-gpu-device,max_outputs=2', /max_outputs=2/],
      ['virtio-gpu-device,frob=1', /Property 'frob' not found/],
      ['virtio-keyboard-device,xres=1', /Property 'xres'/],
    ];
    for (const [v, msg] of bad) expect(() => addDisplayDevice(emptyDisplayConfig(), v), v).toThrow(msg);
    const c = emptyDisplayConfig();
    addDisplayDevice(c, 'virtio-gpu-device');
    expect(() => addDisplayDevice(c, 'virtio-gpu-device')).toThrow(/only one display/);
    setVnc(c, ':1');
    expect(() => setVnc(c, ':2')).toThrow(/only one VNC/);
    expect(() => setVnc(emptyDisplayConfig(), ':1,tls-creds=x')).toThrow(DisplayOptionError);
  });

  it('serves the GPU framebuffer over VNC and feeds keys to the keyboard, waking the machine', async () => {
    const c = emptyDisplayConfig();
    addDisplayDevice(c, 'virtio-gpu-device');
    addDisplayDevice(c, 'virtio-keyboard-device');
    setVnc(c, `127.0.0.1:${40 + (process.pid % 40)},to=99`);
    const devices = createDisplayDevices(c);
    const kbd = new TestDriver(devices[1]!);
    kbd.init();
    const addrs: number[] = [];
    for (let i = 0; i < 4; i++) addrs.push(kbd.post(0, [], [8]).out[0]!);
    const TEST_EVENT_ADDR = (_d: TestDriver, head: number) => addrs[head]!;
    kbd.notify(0);
    let wakes = 0;
    const display = await startDisplay(c, [undefined, ...devices], () => wakes++, 'vm-a');
    try {
      expect(display.framebuffer).toBe((devices[0] as VirtioGpu).framebuffer);
      const client = await RfbClient.connect(net.connect(display.addresses.tcp!.port, '127.0.0.1'));
      expect(client.name).toBe('vm-a');
      client.key(0x61, true);
      await new Promise<void>((resolve) => {
        const poll = () => (wakes > 0 ? resolve() : setTimeout(poll, 5));
        poll();
      });
      const used = kbd.used(0);
      expect(used.length).toBe(2); // KEY_A down, then SYN
      const ev = kbd.read(TEST_EVENT_ADDR(kbd, used[0]![0]), 8);
      expect(new DataView(ev.buffer, ev.byteOffset).getUint16(2, true)).toBe(KEY.A);
      client.close();
    } finally {
      await display.close();
    }
  });

  it('the app\'s WebSocket: a free port, origins from the environment, a password from QMP', async () => {
    const c = emptyDisplayConfig();
    addDisplayDevice(c, 'virtio-gpu-device');
    const dir = mkdtempSync(join(tmpdir(), 'viv-disp-'));
    setVnc(c, `unix:${join(dir, 'vnc')},websocket=127.0.0.1:0,password=on`);
    const origin = 'http://127.0.0.1:4567';
    const display = await startDisplay(c, createDisplayDevices(c), () => {}, 'vm', { [WEBSOCKET_ORIGINS_ENV]: `${origin}, http://localhost:4567` });
    try {
      const port = display.addresses.websocket!.port;
      expect(port).toBeGreaterThan(0);
      const open = (o: string) =>
        new Promise<number>((resolve) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/`, ['binary'], { headers: { Origin: o } });
          ws.once('open', () => (ws.close(), resolve(101)));
          ws.once('unexpected-response', (_q, r) => resolve(r.statusCode ?? 0));
        });
      expect(await open('http://evil.example')).toBe(403);
      expect(await open('http://localhost:4567')).toBe(101);
      expect(display.control.vnc()).toEqual({ enabled: true, passwordAuth: true });
      // What the app reads over QMP to find the port (query-vnc-servers).
      expect(display.control.vncSockets!().servers).toEqual([
        { host: '', service: join(dir, 'vnc'), family: 'unix', websocket: false },
        { host: '127.0.0.1', service: String(port), family: 'ipv4', websocket: true },
      ]);
    } finally {
      await display.close();
    }
  });

  it('serves RFB on the MessagePorts main hands over (Electron), and closes them without a VNC server', async () => {
    const c = emptyDisplayConfig();
    addDisplayDevice(c, 'virtio-gpu-device');
    setVnc(c, `unix:${join(mkdtempSync(join(tmpdir(), 'viv-disp-')), 'vnc')}`);
    const display = await startDisplay(c, createDisplayDevices(c), () => {});
    const parent = new EventEmitter();
    acceptDisplayPorts(parent as unknown as ParentPort, display.vnc);
    const electronShaped = (p: import('node:worker_threads').MessagePort) =>
      ({
        postMessage: (m: unknown) => p.postMessage(m),
        on(event: string, l: (e: { data: unknown }) => void) {
          if (event === 'message') p.on('message', (data) => l({ data }));
          else p.on('close', () => (l as () => void)());
          return this;
        },
        start: () => p.start(),
        close: () => p.close(),
      }) as ByteMessagePort;
    try {
      const { port1, port2 } = new MessageChannel();
      const greeting = new Promise<string>((r) => port2.on('message', (m: Uint8Array) => r(Buffer.from(m).toString('latin1'))));
      parent.emit('message', { data: { type: 'something else' }, ports: [] });
      parent.emit('message', { data: { type: DISPLAY_PORT_MESSAGE }, ports: [electronShaped(port1)] });
      expect(await greeting).toBe('RFB 003.008\n');
      expect(display.vnc!.clients).toHaveLength(1);
      port2.close();

      const lonely = new MessageChannel();
      const closed = new Promise((r) => lonely.port2.on('close', r));
      const parentWithoutVnc = new EventEmitter();
      acceptDisplayPorts(parentWithoutVnc as unknown as ParentPort, null);
      parentWithoutVnc.emit('message', { data: { type: DISPLAY_PORT_MESSAGE }, ports: [electronShaped(lonely.port1)] });
      await closed;
    } finally {
      await display.close();
    }
  });
});
