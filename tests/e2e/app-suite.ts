// The app as a person uses it, in Debian's Chromium against `viv serve`: walk the wizard with
// its defaults, Create and start, read the guest's answer to `uname -a` in the console, stop,
// reload: the VM is still in the library. Then the wizard's messages for bad input, disks,
// broken configs, and the server's refusals. Screenshots land in test-results/e2e/<host>-*.png.
// app-guest.test.ts runs it with a core host that boots the real guest; app-fake.test.ts with
// the stand-in.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { type HostKind, openBrowser, root, serve, shot as takeShot, terminalText, waitForTerminal, type BrowserSession, type Served } from './harness';

const guestDir = path.resolve(root, '../shared/guests/riscv64');

/** The whole suite against one kind of core host; screenshots are prefixed with its name. */
export function appSuite(hostKind: HostKind): void {
  // Linux on our own emulator takes a while; the stand-in answers in a second.
  const bootTimeoutMs = { real: 480_000, qemu: 120_000, fake: 20_000 }[hostKind];
  const shot = (page: Page, name: string) => takeShot(page, `${hostKind}-${name}`);

  let served: Served;
  let session: BrowserSession;

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

  describe(`the app in web mode (core host: ${hostKind})`, () => {
    it('creates the demo VM with the wizard defaults, boots it, answers uname -a, and keeps it', async () => {
      const { page } = session;
      await page.goto(served.url);
      await page.getByText('No virtual machines yet').waitFor();
      await shot(page, '01-empty-library');

      await page.locator('[data-test="new-vm"]').click();
      await page.getByText('What does the VM boot?').waitFor();
      // The defaults point at the shared guest.
      // (filled in once the host's info arrives)
      await expect.poll(() => page.locator('input[name="kernel"]').inputValue()).toBe(path.join(guestDir, 'Image'));
      expect(await page.locator('input[name="initrd"]').inputValue()).toBe(path.join(guestDir, 'initramfs.cpio.gz'));
      await shot(page, '02-wizard-boot');
      await page.locator('[data-test="next"]').click();
      await page.locator('[data-step="resources"]').waitFor();
      await expect.poll(() => page.locator('[data-test="host-limits"]').innerText()).toMatch(/up to .* of memory/);
      await shot(page, '03-wizard-resources');
      await page.locator('[data-test="next"]').click();
      await page.locator('[data-step="disk"]').waitFor();
      await page.locator('[data-test="next"]').click();
      await page.locator('[data-step="name"]').waitFor();
      expect(await page.locator('input[name="name"]').inputValue()).toBe('Linux VM');
      await page.locator('[data-test="next"]').click();
      await page.locator('[data-step="summary"]').waitFor();
      expect(await page.locator('[data-test="command-line"]').innerText()).toMatch(/^viv run -M virt -m \d+M -smp 1 -kernel \S+Image/);
      expect(await page.locator('[data-test="command-line"]').innerText()).toContain('-netdev user,id=net0 -device virtio-net-device,netdev=net0');
      await shot(page, '04-wizard-summary');

      await page.locator('[data-test="create-start"]').click();
      await page.locator('[data-test="terminal"]').waitFor();
      expect(page.url()).toContain('#/vm/linux-vm/console');
      const booted = await waitForTerminal(page, /GUEST-READY \S+/, bootTimeoutMs);
      expect(booted).toMatch(/GUEST-READY/);
      await shot(page, '05-console-booted');

      await page.locator('[data-test="terminal"]').click();
      await page.keyboard.type('uname -a');
      await page.keyboard.press('Enter');
      const answered = await waitForTerminal(page, /Linux \S+ \S+.*riscv64/, 60_000);
      expect(answered).toMatch(/Linux .*riscv64/);
      if (hostKind !== 'fake') {
        // The wizard's default network: a virtio-net card with QEMU's default MAC address.
        await page.keyboard.type('ip -o link show eth0');
        await page.keyboard.press('Enter');
        await waitForTerminal(page, /eth0:.*link\/ether 52:54:00:12:34:56/, 30_000);
      }
      await shot(page, '06-console-uname');

      // The console in its own window: the same stream, without the app's chrome.
      const [popup] = await Promise.all([session.context.waitForEvent('page'), page.locator('[data-test="pop-out"]').click()]);
      await waitForTerminal(popup, /riscv64/, 10_000);
      expect(await popup.locator('.app-header').count()).toBe(0);
      expect(await popup.title()).toBe('Linux VM — Vivarium');
      await shot(popup, '06b-console-window');
      await popup.close();

      // While it runs, the library shows it running and its settings are read-only.
      await page.locator('a[aria-label="Back to the library"]').click();
      const running = page.locator('[data-vm="linux-vm"]');
      await expect.poll(() => running.locator('[data-test="state"]').innerText()).toBe('Running');
      await shot(page, '07-library-running');
      await running.locator('[data-test="settings"]').click();
      await page.locator('[data-test="locked-note"]').waitFor();
      expect(await page.locator('[data-test="save"]').isDisabled()).toBe(true);
      expect(await page.locator('input[name="memoryMiB"]').isDisabled()).toBe(true);
      await shot(page, '08-settings-read-only');

      // Back in the console: the scrollback is replayed; pause and resume; then force off.
      await page.goto(served.url + '#/vm/linux-vm/console');
      await waitForTerminal(page, /riscv64/, 10_000);
      await page.locator('[data-test="pause"]').click();
      await expect.poll(() => page.locator('[data-test="state"]').innerText()).toBe('Paused');
      // Paused over QMP: no "paused by signal" note (that is the --no-qmp fallback).
      expect(await page.locator('main').innerText()).not.toMatch(/SIGSTOP/);
      await shot(page, '09-console-paused');
      await page.locator('[data-test="resume"]').click();
      await expect.poll(() => page.locator('[data-test="state"]').innerText()).toBe('Running');
      await page.locator('[data-test="force-off"]').click();
      await page.locator('[data-test="confirm-force-off"]').click();
      await expect.poll(() => page.locator('[data-test="state"]').innerText(), { timeout: 15_000 }).toBe('Stopped');
      // The console keeps the last run's text.
      expect(await terminalText(page)).toMatch(/riscv64/);

      await page.goto(served.url);
      await page.reload();
      const row = page.locator('[data-vm="linux-vm"]');
      await row.waitFor();
      expect(await row.locator('h3').innerText()).toBe('Linux VM');
      expect(await row.locator('[data-test="state"]').innerText()).toBe('Stopped');
      expect(await row.innerText()).toMatch(/1 CPU · Linux kernel \+ initrd · No disk · Network/);
      await shot(page, '10-library-after-reload');

      await row.locator('[data-test="settings"]').click();
      await page.locator('[data-test="command-line"]').waitFor();
      expect(await page.locator('[data-test="command-line"]').innerText()).toContain('-append console=ttyS0');
      await shot(page, '11-vm-settings');
      // Nothing the page did was refused by its CSP or threw.
      expect(session.errors).toEqual([]);
    });

    it('shows clear messages for a missing file, memory out of range and a taken name', async () => {
      const { page } = session;
      await page.goto(served.url + '#/new');
      await page.locator('input[name="kernel"]').fill('/no/such/Image');
      await page.locator('[data-test="next"]').click();
      await expect.poll(() => page.locator('[data-error="kernel"]').innerText()).toBe('Kernel not found: /no/such/Image');
      await page.locator('input[name="kernel"]').fill('relative/Image');
      await page.locator('[data-test="next"]').click();
      await expect.poll(() => page.locator('[data-error="kernel"]').innerText()).toBe('Kernel: use an absolute path');
      await page.locator('input[name="kernel"]').fill(path.join(guestDir, 'Image'));
      await page.locator('[data-test="next"]').click();

      await page.locator('input[name="memoryMiB"]').fill('999999');
      await page.locator('[data-test="next"]').click();
      await expect.poll(() => page.locator('[data-error="memoryMiB"]').innerText()).toMatch(/^Memory must be a whole number between 16 and \d+ MiB$/);
      await shot(page, '12-wizard-memory-error');
      await page.locator('input[name="memoryMiB"]').fill('256');
      await page.locator('[data-test="next"]').click();

      await page.locator('[data-choice="new"]').click();
      await page.locator('input[name="sizeGiB"]').fill('0');
      await page.locator('[data-test="next"]').click();
      await expect.poll(() => page.locator('[data-error="sizeGiB"]').innerText()).toMatch(/between 1 and/);
      await page.locator('[data-choice="existing"]').click();
      await page.locator('input[name="diskPath"]').fill('/no/disk.qcow2');
      await page.locator('[data-test="next"]').click();
      await expect.poll(() => page.locator('[data-error="diskPath"]').innerText()).toBe('Disk image not found: /no/disk.qcow2');
      await page.locator('[data-choice="none"]').click();
      await page.locator('[data-test="next"]').click();

      await page.locator('input[name="name"]').fill('linux vm');
      await page.locator('[data-test="next"]').click();
      await expect.poll(() => page.locator('[data-error="name"]').innerText()).toBe("A VM named 'Linux VM' already exists");
      await page.locator('input[name="name"]').fill('');
      await page.locator('[data-test="next"]').click();
      await expect.poll(() => page.locator('[data-error="name"]').innerText()).toBe('Give the VM a name');
      await shot(page, '13-wizard-name-error');
    });

    // Resetting the real guest means a second boot; the stand-in shows the wiring quickly.
    it.skipIf(hostKind !== 'fake')('resets a running VM over QMP', async () => {
      const { page } = session;
      await page.goto(served.url + '#/vm/linux-vm/console');
      await page.locator('[data-test="start"]').click();
      await expect.poll(() => page.locator('[data-test="state"]').innerText()).toBe('Running');
      await waitForTerminal(page, /GUEST-READY/, bootTimeoutMs);
      await page.locator('[data-test="reset"]').click();
      await waitForTerminal(page, /after reset\)\s+GUEST-READY/, 10_000);
      await page.locator('[data-test="force-off"]').click();
      await page.locator('[data-test="confirm-force-off"]').click();
      await expect.poll(() => page.locator('[data-test="state"]').innerText(), { timeout: 15_000 }).toBe('Stopped');
    });

    // Only the stand-in can be told to die; the supervisor's crash handling is unit-tested too.
    it.skipIf(hostKind !== 'fake')('shows a crashed VM with its last console lines, and the app stays up', async () => {
      const { page } = session;
      await page.goto(served.url + '#/vm/linux-vm/console');
      await page.locator('[data-test="start"]').click();
      // The terminal showed the last run; a new run starts on a clear screen.
      await expect.poll(() => page.locator('[data-test="state"]').innerText()).toBe('Running');
      await waitForTerminal(page, /GUEST-READY/, bootTimeoutMs);
      expect(await terminalText(page)).not.toMatch(/uname/);
      await page.locator('[data-test="terminal"]').click();
      await page.keyboard.type('crash');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('[data-test="state"]').innerText(), { timeout: 10_000 }).toBe('Crashed');
      await page.goto(served.url);
      const row = page.locator('[data-vm="linux-vm"]');
      await expect.poll(() => row.innerText()).toMatch(/The core host exited with status 3[\s\S]*Kernel panic/);
      await shot(page, '14-library-crashed');
    });

    it('edits a stopped VM\'s settings and keeps them', async () => {
      const { page } = session;
      await page.goto(served.url + '#/vm/linux-vm/settings');
      await page.locator('input[name="memoryMiB"]').fill('384');
      await page.locator('input[name="append"]').fill('console=ttyS0 loglevel=4');
      await page.locator('[data-test="save"]').click();
      await page.getByRole('status').waitFor();
      await page.reload();
      await expect.poll(() => page.locator('input[name="memoryMiB"]').inputValue()).toBe('384');
      expect(await page.locator('[data-test="command-line"]').innerText()).toContain("-m 384M");
      expect(await page.locator('[data-test="command-line"]').innerText()).toContain("-append 'console=ttyS0 loglevel=4'");
      const saved = JSON.parse(readFileSync(path.join(served.dataHome, 'vivarium/vms/linux-vm/config.json'), 'utf8'));
      expect(saved.memoryMiB).toBe(384);
    });

    it('creates a VM on an existing disk image, and deletes it keeping the image', async () => {
      const { page } = session;
      const image = path.join(served.dataHome, 'my-disk.img');
      writeFileSync(image, Buffer.alloc(1024 * 1024));
      await page.goto(served.url + '#/new');
      await page.locator('[data-test="next"]').click();
      await page.locator('[data-step="resources"]').waitFor();
      await page.locator('[data-test="next"]').click();
      await page.locator('[data-choice="existing"]').click();
      await page.locator('input[name="diskPath"]').fill(image);
      await page.locator('[data-test="next"]').click();
      await page.locator('input[name="name"]').fill('With disk');
      await page.locator('[data-test="next"]').click();
      expect(await page.locator('[data-test="command-line"]').innerText()).toContain(`-drive file=${image},format=raw,if=virtio`);
      await page.locator('[data-test="create"]').click();
      const row = page.locator('[data-vm="with-disk"]');
      await row.waitFor();
      expect(await row.innerText()).toMatch(/my-disk\.img \(raw\)/);

      await row.locator('[data-test="delete"]').click();
      await page.getByRole('dialog').waitFor();
      expect(await page.locator('[data-test="keep-disks"]').isChecked()).toBe(true);
      await shot(page, '15-delete-dialog');
      await page.locator('[data-test="confirm-delete"]').click();
      await row.waitFor({ state: 'detached' });
      expect(existsSync(path.join(served.dataHome, 'vivarium/vms/with-disk'))).toBe(false);
      expect(existsSync(image)).toBe(true);
    });

    it('creates a VM with a new QCOW2 disk (qemu-img reads it), and deletes it with its disk', async () => {
      const { page } = session;
      await page.goto(served.url + '#/new');
      await page.locator('[data-test="next"]').click();
      await page.locator('[data-step="resources"]').waitFor();
      await page.locator('[data-test="next"]').click();
      await page.locator('[data-choice="new"]').click();
      await page.locator('input[name="sizeGiB"]').fill('4');
      await page.locator('[data-test="next"]').click();
      await page.locator('input[name="name"]').fill('Fresh disk');
      await page.locator('[data-test="next"]').click();
      await page.locator('[data-test="create"]').click();
      const row = page.locator('[data-vm="fresh-disk"]');
      await row.waitFor();
      expect(await row.innerText()).toMatch(/disk\.qcow2 \(qcow2\)/);
      const disk = path.join(served.dataHome, 'vivarium/vms/fresh-disk/disk.qcow2');
      const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', disk], { encoding: 'utf8' }));
      expect(info).toMatchObject({ format: 'qcow2', 'virtual-size': 4 * 1024 ** 3 });

      await row.locator('[data-test="delete"]').click();
      await page.locator('[data-test="delete-disks"]').check();
      await page.locator('[data-test="confirm-delete"]').click();
      await row.waitFor({ state: 'detached' });
      expect(existsSync(disk)).toBe(false);
      expect(existsSync(path.join(served.dataHome, 'vivarium/kept-disks'))).toBe(false);
    });

    it('creates a VM on an overlay of a base image, leaving the base untouched', async () => {
      const { page } = session;
      const base = path.join(served.dataHome, 'base.raw');
      writeFileSync(base, Buffer.alloc(2 * 1024 * 1024, 0x5a));
      await page.goto(served.url + '#/new');
      await page.locator('[data-test="next"]').click();
      await page.locator('[data-step="resources"]').waitFor();
      await page.locator('[data-test="next"]').click();
      await page.locator('[data-choice="overlay"]').click();
      await page.locator('input[name="diskBase"]').fill(base);
      await page.locator('[data-test="next"]').click();
      await page.locator('input[name="name"]').fill('Layered');
      await page.locator('[data-test="next"]').click();
      await page.locator('[data-test="create"]').click();
      const row = page.locator('[data-vm="layered"]');
      await row.waitFor();
      expect(await row.innerText()).toMatch(/Overlay on base\.raw/);
      const overlay = path.join(served.dataHome, 'vivarium/vms/layered/overlay.qcow2');
      const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', overlay], { encoding: 'utf8' }));
      expect(info).toMatchObject({ format: 'qcow2', 'virtual-size': 2 * 1024 * 1024, 'backing-filename': base, 'backing-filename-format': 'raw' });
      await row.locator('[data-test="delete"]').click();
      await page.locator('[data-test="delete-disks"]').check();
      await page.locator('[data-test="confirm-delete"]').click();
      await row.waitFor({ state: 'detached' });
      // The overlay went with the VM; its base never belongs to a VM.
      expect(existsSync(overlay)).toBe(false);
      expect(readFileSync(base).every((b) => b === 0x5a)).toBe(true);
    });

    it('shows a VM with a corrupt config as broken, and loads the rest', async () => {
      const { page } = session;
      mkdirSync(path.join(served.dataHome, 'vivarium/vms/mangled'), { recursive: true });
      writeFileSync(path.join(served.dataHome, 'vivarium/vms/mangled/config.json'), '{"version": 1, "id": "mangled", "name": ');
      await page.goto(served.url);
      await page.reload();
      const broken = page.locator('[data-vm="mangled"]');
      await broken.waitFor();
      expect(await broken.locator('[data-test="state"]').innerText()).toBe('Broken');
      expect(await broken.innerText()).toMatch(/config\.json is not valid JSON/);
      await page.locator('[data-vm="linux-vm"]').waitFor();
      await shot(page, '16-library-broken-entry');
      await broken.locator('[data-test="delete"]').click();
      await page.locator('[data-test="confirm-delete"]').click();
      await broken.waitFor({ state: 'detached' });
    });

    it('deletes a VM after confirmation', async () => {
      const { page } = session;
      await page.goto(served.url);
      const row = page.locator('[data-vm="linux-vm"]');
      await row.locator('[data-test="delete"]').click();
      await page.getByRole('dialog').waitFor();
      await page.locator('[data-test="confirm-delete"]').click();
      await page.getByText('No virtual machines yet').waitFor();
      expect(existsSync(path.join(served.dataHome, 'vivarium/vms/linux-vm'))).toBe(false);
    });

    it('a second app on the same library gets a clear message', async () => {
      await expect(serve(hostKind, { dataHome: served.dataHome })).rejects.toThrow(/Another Vivarium \(process \d+/);
    });
  });

  function get(pathname: string, headers: Record<string, string> = {}, method = 'GET', body?: string) {
    return new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: served.port, path: pathname, method, headers }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  describe('the web server refuses strangers', () => {
    it('needs the token on every request', async () => {
      expect(await get(`/${served.token}/`)).toBe(200);
      expect(await get('/')).toBe(404);
      expect(await get('/index.html')).toBe(404);
      expect(await get(`/${'x'.repeat(served.token.length)}/`)).toBe(404);
    });

    it('refuses a foreign Origin, including from a page in the browser', async () => {
      const api = `/${served.token}/api/vms.list`;
      const json = { 'Content-Type': 'application/json' };
      expect(await get(api, { ...json, Origin: `http://127.0.0.1:${served.port}` }, 'POST', '{"args":[]}')).toBe(200);
      expect(await get(api, { ...json, Origin: 'http://attacker.example' }, 'POST', '{"args":[]}')).toBe(403);
      // A page from another origin in the same browser, knowing even the token, gets nothing.
      const { page } = session;
      await page.goto('about:blank');
      const result = await page.evaluate(async (url) => {
        try {
          const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"args":[]}' });
          return `status ${r.status}`;
        } catch (err) {
          return `blocked: ${(err as Error).message}`;
        }
      }, `http://127.0.0.1:${served.port}${api}`);
      expect(result).toMatch(/^blocked/);
    });
  });
}
