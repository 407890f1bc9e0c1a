// Schema tests of the API contract: what main accepts and refuses before any service runs.
import { describe, expect, it } from 'vitest';
import { api, AppEvent, channels, isChannel } from './api';
import { CreateVmRequest } from './vm-config';

const goodRequest = {
  name: 'Test',
  memoryMiB: 256,
  cpus: 1,
  boot: { kind: 'kernel', kernel: '/g/Image', initrd: '/g/initramfs.cpio.gz', append: 'console=ttyS0' },
  disk: { kind: 'none' },
  network: { enabled: false },
};

describe('API contract', () => {
  it('knows its channels and no others', () => {
    expect(channels).toContain('vms.create');
    expect(isChannel('vms.start')).toBe(true);
    expect(isChannel('constructor')).toBe(false);
    expect(isChannel('__proto__')).toBe(false);
    expect(isChannel(42)).toBe(false);
  });

  it('accepts a good create request and refuses bad ones with a reason', () => {
    expect(api['vms.create'].args.safeParse([goodRequest]).success).toBe(true);
    const cases: [unknown, string][] = [
      [{ ...goodRequest, memoryMiB: 8 }, 'memoryMiB'],
      [{ ...goodRequest, cpus: 9 }, 'cpus'],
      [{ ...goodRequest, name: '  ' }, 'name'],
      [{ ...goodRequest, name: 'a/b' }, 'name'],
      [{ ...goodRequest, boot: { kind: 'kernel', kernel: 'relative/Image' } }, 'boot'],
      [{ ...goodRequest, disk: { kind: 'new', sizeGiB: 0 } }, 'disk'],
      [{ ...goodRequest, extra: true }, ''],
    ];
    for (const [request, path] of cases) {
      const r = CreateVmRequest.safeParse(request);
      expect(r.success, JSON.stringify(request)).toBe(false);
      if (!r.success && path) expect(r.error.issues[0]!.path[0]).toBe(path);
    }
  });

  it('checks argument counts and id shapes', () => {
    expect(api['vms.start'].args.safeParse(['demo']).success).toBe(true);
    expect(api['vms.start'].args.safeParse([]).success).toBe(false);
    expect(api['vms.start'].args.safeParse(['../etc']).success).toBe(false);
    expect(api['vms.delete'].args.safeParse(['demo', { deleteDisks: 'yes' }]).success).toBe(false);
    expect(api['vms.list'].args.safeParse([1]).success).toBe(false);
  });

  it('validates events', () => {
    expect(AppEvent.safeParse({ type: 'vm.removed', id: 'x' }).success).toBe(true);
    expect(AppEvent.safeParse({ type: 'progress', id: 'p', label: 'Creating disk', fraction: 2, done: false }).success).toBe(false);
  });
});
