// The Images view and the snapshot timeline as a person uses them, in Debian's Chromium against
// `viv serve` (one guest boot): import a base image (raw -> qcow2, with a progress bar), make an
// overlay on it in the graph, make a VM on the overlay, start it, write a file in the guest, Save
// now, change the file, Save now again, click the first snapshot and Restore (asked first: the VM
// changed): the guest has the first content again; a save after the restore branches the tree.
// Deleting the overlay's base is refused with the reason; an image that vanished or was damaged
// outside the app shows as missing/broken with the reason while the rest works. Debian's
// qemu-img checks the images after each step. Screenshots: test-results/e2e/images-*.png.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { type BrowserSession, type HostKind, openBrowser, root, serve, shot, type Served, waitForTerminal } from './harness';

const guestDir = path.resolve(root, '../shared/guests/riscv64');
const hostKind = (process.env.VIVARIUM_E2E_HOST ?? 'real') as HostKind;
const bootMs = { real: 480_000, qemu: 120_000, fake: 20_000 }[hostKind];
const hasQemuImg = spawnSync('qemu-img', ['--version']).status === 0;

function qemuCheck(file: string): void {
  const r = spawnSync('qemu-img', ['check', '-U', file], { encoding: 'utf8' });
  expect(r.status, `qemu-img check ${file}:\n${r.stdout}${r.stderr}`).toBe(0);
}

const qemuInfo = (file: string) => JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', file], { encoding: 'utf8' })) as Record<string, unknown>;
const qemuSnapshots = (file: string) =>
  execFileSync('qemu-img', ['snapshot', '-U', '-l', file], { encoding: 'utf8' }).split('\n').slice(2).filter(Boolean).map((l) => l.trim().split(/\s+/)[1]!);

describe.skipIf(!existsSync(path.join(guestDir, 'Image')) || hostKind === 'fake' || !hasQemuImg)(`Images and the snapshot timeline (core host: ${hostKind})`, () => {
  let served: Served;
  let session: BrowserSession;
  let images: string;

  beforeAll(async () => {
    if (!existsSync(path.join(root, 'out/renderer/index.html'))) throw new Error('build first: npm run build');
    served = await serve(hostKind);
    session = await openBrowser();
    images = path.join(served.dataHome, 'vivarium/images');
  });

  afterAll(async () => {
    await session?.close();
    await served?.stop();
    if (served) rmSync(served.dataHome, { recursive: true, force: true });
  });

  const image = (page: Page, name: string) => page.locator(`[data-image="${name}"]`);
  const details = (page: Page) => page.locator('[data-test="image-details"]');

  /** Types a command in the console; with `answer`, waits for the output it makes. */
  async function run(page: Page, command: string, answer?: RegExp): Promise<string> {
    await page.locator('[data-test="terminal"]').click();
    await page.keyboard.type(command);
    await page.keyboard.press('Enter');
    return answer ? waitForTerminal(page, answer, 60_000) : '';
  }

  /** The guest prints the file with a prefix the typed command does not contain as such. */
  const readNote = (page: Page, n: number) => run(page, `echo "NOTE$((${n}))[$(cat /tmp/note)]"`, new RegExp(`NOTE${n}\\[\\w+\\]`));
  const noteOf = (text: string, n: number) => new RegExp(`NOTE${n}\\[(\\w+)\\]`).exec(text)?.[1];

  it('imports a base, makes an overlay and a VM on it; Save now, Restore, branch; refuses deleting the base', async () => {
    const { page } = session;
    // A raw "base image" with recognisable content: 48 MiB, the first 4 MiB of it data.
    const source = path.join(served.dataHome, 'base-image.raw');
    const bytes = Buffer.alloc(48 * 1024 * 1024);
    bytes.fill(0x5a, 0, 4 * 1024 * 1024);
    writeFileSync(source, bytes);

    await page.goto(served.url);
    await page.locator('[data-test="nav-images"]').click();
    await page.locator('[data-test="no-images"]').waitFor();
    await page.locator('[data-test="import"]').click();
    await page.locator('input[name="source"]').fill(source);
    expect(await page.locator('input[name="name"]').inputValue()).toBe('base-image');
    await page.locator('input[name="name"]').fill('debian-base');
    await shot(page, 'images-01-import-dialog');
    await page.locator('[data-test="confirm-import"]').click();
    await image(page, 'debian-base.qcow2').waitFor({ timeout: 60_000 });
    const base = path.join(images, 'debian-base.qcow2');
    expect(qemuInfo(base)).toMatchObject({ format: 'qcow2', 'virtual-size': 48 * 1024 * 1024 });
    qemuCheck(base);
    // Converted, not copied: qemu-img sees the same bytes as the raw source.
    expect(spawnSync('qemu-img', ['compare', '-U', '-f', 'raw', '-F', 'qcow2', source, base]).status).toBe(0);
    await expect.poll(() => details(page).getAttribute('data-selected')).toBe('debian-base.qcow2');
    await expect.poll(() => details(page).locator('[data-test="image-job"]').getAttribute('data-state')).toBe('done');

    // An overlay on it, from the graph.
    await details(page).locator('[data-op="overlay"]').click();
    await page.locator('input[name="overlay-name"]').fill('work');
    await page.locator('[data-test="confirm-overlay"]').click();
    await image(page, 'work.qcow2').waitFor();
    const overlay = path.join(images, 'work.qcow2');
    expect(qemuInfo(overlay)).toMatchObject({ 'backing-filename': base, 'virtual-size': 48 * 1024 * 1024 });
    qemuCheck(overlay);
    await expect.poll(() => details(page).locator('[data-test="image-chain"]').innerText()).toMatch(/work\.qcow2\s*→\s*debian-base\.qcow2/);

    // A VM on the overlay: the wizard opens with it as the VM's disk.
    await details(page).locator('[data-op="vm"]').click();
    await page.locator('[data-test="next"]').waitFor();
    await expect.poll(() => page.locator('input[name="kernel"]').inputValue()).toBe(path.join(guestDir, 'Image'));
    await page.locator('[data-test="next"]').click();
    await page.locator('[data-step="resources"]').waitFor();
    await page.locator('input[name="memoryMiB"]').fill('256');
    await page.locator('[data-test="next"]').click();
    await page.locator('[data-step="disk"]').waitFor();
    expect(await page.locator('input[name="diskPath"]').inputValue()).toBe(overlay);
    // On to the name with each step's defaults (the wizard may gain steps in between).
    for (let i = 0; i < 4 && !(await page.locator('[data-step="name"]').isVisible()); i++) {
      await page.locator('[data-test="next"]').click();
      await page.locator('[data-step="name"]').waitFor({ timeout: 1000 }).catch(() => undefined);
    }
    await page.locator('input[name="name"]').fill('Snap VM');
    await page.locator('[data-test="next"]').click();
    expect(await page.locator('[data-test="command-line"]').innerText()).toContain(`-drive file=${overlay},format=qcow2,if=virtio`);
    await page.locator('[data-test="create-start"]').click();
    await page.locator('[data-test="terminal"]').waitFor();
    await waitForTerminal(page, /GUEST-READY/, bootMs);
    await run(page, 'echo first > /tmp/note');
    expect(noteOf(await readNote(page, 1), 1)).toBe('first');

    // Save now on the VM's page.
    await page.goto(served.url + '#/vm/snap-vm/settings');
    const timeline = page.locator('[data-test="timeline"]');
    await timeline.waitFor();
    await timeline.locator('[data-test="save-now"]').click();
    await expect.poll(() => timeline.locator('[data-snapshot]').count(), { timeout: 120_000 }).toBe(1);
    const first = (await timeline.locator('[data-snapshot]').first().getAttribute('data-snapshot'))!;
    expect(first).toMatch(/^vm-\d{14}$/);
    expect(qemuSnapshots(overlay)).toEqual([first]);
    // Its thumbnail: the console's last lines at save time.
    expect(await timeline.locator('.thumb.console').first().innerText()).toMatch(/NOTE1\[first\]/);

    // Change the file and save that too.
    await page.locator('[data-test="open-console"]').click();
    await page.locator('[data-test="terminal"]').waitFor();
    await run(page, 'echo second > /tmp/note');
    expect(noteOf(await readNote(page, 2), 2)).toBe('second');
    await page.goto(served.url + '#/vm/snap-vm/settings');
    await timeline.locator('[data-test="save-now"]').click();
    await expect.poll(() => timeline.locator('[data-snapshot]').count(), { timeout: 120_000 }).toBe(2);

    // Back to the first: the VM changed since the last save, so the app asks first.
    await timeline.locator(`[data-snapshot="${first}"] .pick`).click();
    await timeline.locator('[data-test="restore"]').click();
    await page.getByRole('dialog').waitFor();
    expect(await page.getByRole('dialog').innerText()).toMatch(/has changed since/);
    await shot(page, 'images-04-restore-confirm');
    await page.locator('[data-test="confirm-restore"]').click();
    await expect.poll(() => timeline.locator(`[data-snapshot="${first}"]`).getAttribute('class'), { timeout: 120_000 }).toMatch(/\bcurrent\b/);
    expect(await timeline.locator('[data-test="timeline-status"]').innerText()).toMatch(/^Changed since “Saved at /);
    await page.locator('[data-test="open-console"]').click();
    await page.locator('[data-test="terminal"]').waitFor();
    const restored = await readNote(page, 3);
    expect(noteOf(restored, 3)).toBe('first');

    // A save after the restore is a branch beside the second snapshot; give it a name.
    await page.goto(served.url + '#/vm/snap-vm/settings');
    await timeline.locator('[data-test="save-now"]').click();
    await expect.poll(() => timeline.locator('[data-snapshot]').count(), { timeout: 120_000 }).toBe(3);
    const third = timeline.locator('[data-snapshot]').nth(2);
    expect(await third.getAttribute('data-branch-from'), await timeline.innerText()).toBe(first);
    expect(await third.innerText()).toMatch(/branched from “Saved at /);
    await third.locator('.pick').click();
    await timeline.locator('[data-test="rename"]').click();
    await timeline.locator('input[name="snapshot-title"]').fill('after the restore');
    await timeline.locator('[data-test="confirm-rename"]').click();
    await timeline.locator('[data-snapshot="after the restore"]').waitFor();
    await page.mouse.move(0, 0);
    await shot(page, 'images-05-timeline-branched');
    expect(qemuSnapshots(overlay)).toHaveLength(3);
    expect(session.errors).toEqual([]);

    // While the VM runs, the images under it refuse what would change them.
    await page.goto(served.url + '#/images');
    await image(page, 'work.qcow2').click();
    await expect.poll(() => details(page).locator('[data-refusal="commit"]').innerText()).toMatch(/Snap VM is running on work\.qcow2: stop it first/);

    await page.goto(served.url + '#/vm/snap-vm/console');
    await page.locator('[data-test="force-off"]').click();
    await page.locator('[data-test="confirm-force-off"]').click();
    await expect.poll(() => page.locator('[data-test="state"]').innerText(), { timeout: 15_000 }).toBe('Stopped');
    qemuCheck(overlay);
    qemuCheck(base);

    // The graph: the base, its overlay, the VM on the overlay. Deleting the base is refused, with the reason.
    await page.goto(served.url + '#/images');
    await image(page, 'debian-base.qcow2').click();
    await page.locator('[data-graph-vm="snap-vm"]').waitFor();
    expect(await details(page).locator('[data-op="delete"]').isDisabled()).toBe(true);
    const reason = 'work.qcow2 is built on debian-base.qcow2: deleting it would destroy that overlay.';
    expect(await details(page).locator('[data-refusal="delete"]').innerText()).toBe(`Delete: ${reason}`);
    expect(await details(page).locator('[data-test="image-users"]').innerText()).toMatch(/work\.qcow2 \(overlay\)/);
    await page.mouse.move(0, 0);
    await shot(page, 'images-02-graph');
    // The server refuses it too, whatever the page shows.
    const refusal = await page.evaluate(async (p) => {
      const r = await fetch('api/images.delete', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ args: [{ path: p }] }) });
      return (await r.json()) as { ok: boolean; error?: { code: string; message: string } };
    }, base);
    expect(refusal).toEqual({ ok: false, error: { code: 'refused', message: reason } });
    expect(existsSync(base)).toBe(true);

    await image(page, 'work.qcow2').click();
    expect(await details(page).locator('[data-test="image-users"]').innerText()).toMatch(/Snap VM \(its disk\)/);
    await details(page).locator('[data-op="check"]').click();
    await expect.poll(() => details(page).locator('[data-test="check-report"]').innerText(), { timeout: 30_000 }).toMatch(/No errors were found on the image/);
    await shot(page, 'images-03-overlay-checked');
    expect(session.errors).toEqual([]);
  });

  it('shows an image that vanished or was damaged outside the app, with the reason, and refuses operations on it', async () => {
    const { page } = session;
    const spare = path.join(images, 'spare.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', spare, '16M']);
    // Put in the images folder by hand: the view shows it once it reads the folder again.
    await page.goto(served.url + '#/images');
    await page.reload();
    await image(page, 'spare.qcow2').click();
    await details(page).locator('[data-op="overlay"]').click();
    await page.locator('input[name="overlay-name"]').fill('on-spare');
    await page.locator('[data-test="confirm-overlay"]').click();
    await image(page, 'on-spare.qcow2').waitFor();

    // Outside the app: the base goes, and a second file is overwritten with junk.
    rmSync(spare);
    const damaged = path.join(images, 'damaged.qcow2');
    writeFileSync(damaged, Buffer.concat([Buffer.from('QFI\xfb', 'latin1'), Buffer.alloc(60, 0xff)]));
    await page.reload();
    await image(page, 'spare.qcow2').click();
    expect(await details(page).locator('[data-test="image-status"]').innerText()).toBe('Missing');
    expect(await details(page).locator('[data-test="image-reason"]').innerText()).toMatch(/The file is gone: it was deleted or moved outside Vivarium/);
    for (const op of ['overlay', 'check', 'resize']) expect(await details(page).locator(`[data-op="${op}"]`).isDisabled()).toBe(true);
    await image(page, 'damaged.qcow2').click();
    expect(await details(page).locator('[data-test="image-status"]').innerText()).toBe('Broken');
    expect(await details(page).locator('[data-test="image-reason"]').innerText()).toMatch(/\S/);
    expect(await details(page).locator('[data-op="overlay"]').isDisabled()).toBe(true);
    await page.mouse.move(0, 0);
    await shot(page, 'images-06-missing-and-broken');

    // The rest works: the base of the VM still takes a new overlay.
    await image(page, 'debian-base.qcow2').click();
    await details(page).locator('[data-op="overlay"]').click();
    await page.locator('input[name="overlay-name"]').fill('second-work');
    await page.locator('[data-test="confirm-overlay"]').click();
    await image(page, 'second-work.qcow2').waitFor();
    qemuCheck(path.join(images, 'second-work.qcow2'));
    // And the damaged file, which nothing uses, can be deleted.
    await image(page, 'damaged.qcow2').click();
    await details(page).locator('[data-op="delete"]').click();
    await page.locator('[data-test="confirm-delete-image"]').click();
    await image(page, 'damaged.qcow2').waitFor({ state: 'detached' });
    expect(existsSync(damaged)).toBe(false);
    expect(session.errors).toEqual([]);
  });
  it('commits (accepting the overlay it invalidates), rebases, flattens, grows and deletes from the panel; deletes a snapshot offline', async () => {
    const { page } = session;
    const b1 = path.join(images, 'b1.qcow2');
    const b2 = path.join(images, 'b2.qcow2');
    for (const b of [b1, b2]) execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', b, '16M']);
    await page.goto(served.url + '#/images');
    await page.reload();
    const op = (name: string) => details(page).locator(`[data-op="${name}"]`);
    /** The operation's job ended well; else the page's words (a refusal, the job's error) say why. */
    const done = async (which: string) => {
      const state = () => details(page).locator(`[data-test="image-job"][data-job-op="${which}"]`).getAttribute('data-state', { timeout: 1000 }).catch(() => null);
      const end = Date.now() + 30_000;
      while ((await state()) !== 'done' && Date.now() < end) await page.waitForTimeout(100);
      expect(await state(), await page.locator('main').innerText()).toBe('done');
    };
    for (const name of ['o1', 'o2']) {
      await image(page, 'b1.qcow2').click();
      await op('overlay').click();
      await page.locator('input[name="overlay-name"]').fill(name);
      await page.locator('[data-test="confirm-overlay"]').click();
      await image(page, `${name}.qcow2`).waitFor();
    }
    const o1 = path.join(images, 'o1.qcow2');
    const o2 = path.join(images, 'o2.qcow2');
    execFileSync('qemu-io', ['-c', 'write -P 0xab 0 64k', o1]);

    // Commit o1 into b1: o2 is b1's other overlay, so the app asks the person to accept that first.
    await image(page, 'o1.qcow2').click();
    await op('commit').click();
    expect(await page.getByRole('dialog').innerText()).toMatch(/b1\.qcow2 is also the base of o2\.qcow2/);
    expect(await page.locator('[data-test="confirm-commit"]').isDisabled()).toBe(true);
    await page.locator('[data-test="accept-invalidated"]').check();
    await shot(page, 'images-07-commit-confirm');
    await page.locator('[data-test="confirm-commit"]').click();
    await done('commit');
    expect(spawnSync('qemu-io', ['-r', '-c', 'read -P 0xab 0 64k', b1], { encoding: 'utf8' }).stdout).not.toMatch(/Pattern verification failed/);
    for (const f of [b1, o1, o2]) qemuCheck(f);

    // Rebase o2 onto b2, flatten o1, grow it, delete it.
    await image(page, 'o2.qcow2').click();
    await op('rebase').click();
    await page.locator('select[name="new-base"]').selectOption(b2);
    await page.locator('[data-test="confirm-rebase"]').click();
    await done('rebase');
    expect(qemuInfo(o2)['backing-filename']).toBe(b2);
    await image(page, 'o1.qcow2').click();
    await op('flatten').click();
    await page.locator('[data-test="confirm-flatten"]').click();
    await done('flatten');
    expect(qemuInfo(o1)['backing-filename']).toBeUndefined();
    await op('resize').click();
    await page.locator('input[name="size-mib"]').fill('32');
    await page.locator('[data-test="confirm-resize"]').click();
    await done('resize');
    expect(qemuInfo(o1)['virtual-size']).toBe(32 * 1024 * 1024);
    expect(spawnSync('qemu-io', ['-r', '-c', 'read -P 0xab 0 64k', o1], { encoding: 'utf8' }).stdout).not.toMatch(/Pattern verification failed/);
    for (const f of [b1, b2, o1, o2]) qemuCheck(f);
    await op('delete').click();
    await page.locator('[data-test="confirm-delete-image"]').click();
    await image(page, 'o1.qcow2').waitFor({ state: 'detached' });
    expect(existsSync(o1)).toBe(false);

    // The stopped VM's timeline: delete a snapshot through the block engine.
    const overlay = path.join(images, 'work.qcow2');
    const before = qemuSnapshots(overlay);
    await page.goto(served.url + '#/vm/snap-vm/settings');
    const timeline = page.locator('[data-test="timeline"]');
    await timeline.locator('[data-snapshot="after the restore"] .pick').click();
    await timeline.locator('[data-test="delete-snapshot"]').click();
    await page.locator('[data-test="confirm-delete-snapshot"]').click();
    await timeline.locator('[data-snapshot="after the restore"]').waitFor({ state: 'detached' });
    expect(qemuSnapshots(overlay)).toEqual(before.slice(0, 2));
    qemuCheck(overlay);
    expect(session.errors).toEqual([]);
  });
});
