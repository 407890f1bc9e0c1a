// The app's display window, in Debian's Chromium against `viv serve`: a VM with a display boots
// the shared guest with console=tty0; the display window (noVNC straight to the core host's own
// WebSocket with this run's VNC password: frames never pass through the web server) shows its
// console, keys typed into the page run a command in the guest's shell (seen on the serial
// console), and the toolbar works.
// The core host is our emulator (`viv run`), or with VIVARIUM_E2E_HOST=qemu Debian's QEMU given
// the same argv (the reference: the same -device and -vnc options).
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserSession, type HostKind, openBrowser, root, serve, shot, type Served, waitForTerminal } from './harness';

// What the page code touches (this tsconfig has no DOM library: it runs in Chromium).
interface PageDom {
  document: { querySelector(s: string): { textContent: string | null; width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } } | null };
}

const guestDir = path.resolve(root, '../shared/guests/riscv64');
const hostKind = (process.env.VIVARIUM_E2E_HOST ?? 'real') as HostKind;
const bootMs = { real: 480_000, qemu: 120_000, fake: 20_000 }[hostKind];

describe.skipIf(!existsSync(path.join(guestDir, 'Image')) || hostKind === 'fake')(`the display window (core host: ${hostKind})`, () => {
  let served: Served;
  let session: BrowserSession;

  const api = async (channel: string, ...args: unknown[]) => {
    const res = await fetch(new URL(`api/${channel}`, served.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ args }) });
    const reply = (await res.json()) as { ok: boolean; value?: unknown; error?: { message: string } };
    if (!reply.ok) throw new Error(`${channel}: ${reply.error?.message}`);
    return reply.value as Record<string, unknown>;
  };

  beforeAll(async () => {
    if (!existsSync(path.join(root, 'out/renderer/index.html'))) throw new Error('build first: npm run build');
    served = await serve(hostKind);
    session = await openBrowser();
  });

  afterAll(async () => {
    await session?.close();
    await served?.stop();
    if (served) rmSync(served.dataHome, { recursive: true, force: true });
  });

  it('shows the guest console, takes keys and has working buttons', async () => {
    const vm = await api('vms.create', {
      name: 'Screen VM',
      memoryMiB: 256,
      cpus: 1,
      boot: { kind: 'kernel', kernel: path.join(guestDir, 'Image'), initrd: path.join(guestDir, 'initramfs.cpio.gz'), append: 'console=ttyS0 console=tty0' },
      disk: { kind: 'none' },
      network: { enabled: false },
      display: { enabled: true },
    });
    const id = vm.id as string;
    await api('vms.start', id);
    const { page, errors } = session;
    // Every WebSocket the page opens: the display's must go to the core host, not to `viv serve`.
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));

    // The console page offers the display; the serial line carries the kernel log meanwhile.
    await page.goto(served.url + `#/vm/${id}/console`);
    await page.locator('[data-test=open-display]').click();
    await page.waitForURL((u) => u.hash === `#/vm/${id}/display`);
    // noVNC draws into a canvas inside the screen element once RFB is up.
    // noVNC connected: the status line is empty. (A function: the page's CSP refuses eval.)
    const connected = () => (globalThis as unknown as PageDom).document.querySelector('[data-test=display-status]')?.textContent === '';
    try {
      await page.waitForFunction(connected, null, { timeout: bootMs });
    } catch (err) {
      await shot(page, `${hostKind}-display-not-connected`);
      throw new Error(`noVNC did not connect: "${await page.locator('[data-test=display-status]').textContent()}", sockets ${sockets.join(' ')}, page errors ${errors.join(' | ')}`, { cause: err });
    }
    const display = sockets.map((u) => new URL(u)).filter((u) => Number(u.port) !== served.port);
    expect(display.map((u) => u.hostname)).toEqual(['127.0.0.1']);
    expect(sockets.filter((u) => u.includes('/display/'))).toEqual([]);
    const canvas = page.locator('[data-test=screen] canvas');
    await expect.poll(async () => (await canvas.boundingBox())?.width ?? 0, { timeout: 30_000 }).toBeGreaterThan(100);

    // 1:1, so the canvas holds the guest's pixels unscaled; then wait for the console text
    // (the framebuffer console draws light grey glyphs on black).
    await page.locator('[data-test=fit]').click();
    expect(await page.locator('[data-test=fit]').textContent()).toBe('Fit');
    const litPixels = () =>
      page.evaluate(() => {
        const c = (globalThis as unknown as PageDom).document.querySelector('[data-test=screen] canvas')!;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let lit = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i]! + d[i + 1]! + d[i + 2]! > 300) lit++;
        return { lit, width: c.width, height: c.height };
      });
    try {
      await expect.poll(async () => (await litPixels()).lit, { timeout: bootMs, interval: 1000 }).toBeGreaterThan(2000);
    } finally {
      await shot(page, `${hostKind}-display-console`);
    }
    expect(await litPixels()).toMatchObject({ width: 1280, height: 800 });

    // Keys typed into the page reach the shell on tty0; the shell writes to the serial line.
    await canvas.click({ position: { x: 40, y: 40 } });
    // As a person types it: Shift held for capitals and symbols. (Playwright's type() sends 'S'
    // without a Shift key event, and noVNC sends scancodes, which carry no case.)
    const shifted: Record<string, string> = { $: 'Digit4', '(': 'Digit9', ')': 'Digit0', '*': 'Digit8', '>': 'Period' };
    for (const ch of 'echo SCREEN-$((6*7)) > /dev/ttyS0') {
      if (/[A-Z]/.test(ch)) await page.keyboard.press(`Shift+Key${ch}`);
      else if (shifted[ch]) await page.keyboard.press(`Shift+${shifted[ch]}`);
      else await page.keyboard.type(ch);
    }
    await page.keyboard.press('Enter');
    // The VT echoes keys as they arrive, before the shell reads them: they show on the screen.
    await page.waitForTimeout(3000);
    await shot(page, `${hostKind}-display-typed`);
    await page.goto(served.url + `#/vm/${id}/console`);
    try {
      await waitForTerminal(page, /SCREEN-42/, bootMs);
    } finally {
      await shot(page, `${hostKind}-display-serial`);
    }

    // The toolbar: a fresh window fits, and 1:1 toggles; Ctrl-Alt-Del is sent without error, a screenshot downloads.
    await page.goto(served.url + `#/vm/${id}/display`);
    await page.waitForFunction(connected, null, { timeout: 60_000 });
    await page.locator('[data-test=fit]').click();
    expect(await page.locator('[data-test=fit]').textContent()).toBe('Fit');
    const download = page.waitForEvent('download');
    await page.locator('[data-test=screenshot]').click();
    expect((await download).suggestedFilename()).toBe('Screen VM-screen.png');
    await page.locator('[data-test=ctrl-alt-del]').click();
    await shot(page, `${hostKind}-display`);
    expect(errors).toEqual([]);
    await api('vms.forceOff', id);
  });
});
