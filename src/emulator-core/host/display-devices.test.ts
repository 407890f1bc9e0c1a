import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { RfbClient } from '../display/rfb/client';
import { KEY } from '../display/keymap';
import { VirtioGpu } from '../devices/virtio/gpu';
import { VirtioInput } from '../devices/virtio/input';
import { TestDriver } from '../devices/virtio/test-driver';
import { addDisplayDevice, createDisplayDevices, DisplayOptionError, emptyDisplayConfig, setVnc, startDisplay } from './display-devices';

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
});
