// `viv img snapshot [-U] [-q] [-l | -a snapshot | -c snapshot | -d snapshot] filename`
// (qemu-img snapshot): list, create, apply (revert to) and delete internal snapshots.
import { BlockError, Qcow2Driver } from '../../emulator-core/block';
import { CommandError, openForCli, out, runCommand, UsageError, warnProbedRaw } from './common';
import { getopt } from './getopt';
import { snapshotLine } from './image-info';
import { refuseUnsupported } from './unsupported';

type Action = 'list' | 'apply' | 'create' | 'delete';

export function snapshotCommand(argv: string[]): Promise<number> {
  return runCommand(async () => {
    const { options, operands } = getopt(argv, ':la:c:d:hqU', [
      { name: 'help', hasArg: false, key: 'h' },
      { name: 'object', hasArg: true, key: 'object' },
      { name: 'image-opts', hasArg: false, key: 'image-opts' },
      { name: 'force-share', hasArg: false, key: 'U' },
    ]);
    let action: Action | undefined;
    let name = '';
    const set = (a: Action, v?: string) => {
      if (action) throw new UsageError("Cannot mix '-l', '-a', '-c', '-d'");
      action = a;
      name = v ?? '';
    };
    for (const o of options) {
      switch (o.key) {
        case 'h': return (await import('./help')).printHelp();
        case 'l': set('list'); break;
        case 'a': set('apply', o.value); break;
        case 'c': set('create', o.value); break;
        case 'd': set('delete', o.value); break;
        case 'object': case 'image-opts': refuseUnsupported(`--${o.key}`);
      }
    }
    if (operands.length !== 1) throw new UsageError('Expecting one image file name');
    const filename = operands[0]!;
    const drv = await openForCli(filename, { readOnly: action === 'list' || action === undefined });
    try {
      const q = drv instanceof Qcow2Driver ? drv : null;
      switch (action) {
        case 'list': {
          const list = q ? (await q.getInfo()).snapshots ?? [] : [];
          if (list.length) out(`Snapshot list:\n${snapshotLine()}\n${list.map((s) => snapshotLine(s) + '\n').join('')}`);
          break;
        }
        case 'create': {
          if (!q) throw new CommandError(`Could not create snapshot '${name}': -95 (Operation not supported)`);
          const now = Date.now() * 1000 + Math.floor((performance.now() % 1) * 1000); // microseconds, like g_get_real_time
          try {
            await q.createSnapshot({ name, dateSec: Math.floor(now / 1e6), dateNsec: (now % 1e6) * 1000, icount: 0 });
          } catch (err) {
            if (err instanceof BlockError) throw new CommandError(`Could not create snapshot '${name}': ${err.message}`);
            throw err;
          }
          break;
        }
        case 'apply': {
          if (!q) {
            // qemu-img reopens a probed raw image while trying to apply, so it warns twice.
            warnProbedRaw(filename);
            throw new CommandError(`Could not apply snapshot '${name}': Block driver does not support snapshots`);
          }
          if (!q.listSnapshots().some((s) => s.id === name || s.name === name)) {
            throw new CommandError(`Could not apply snapshot '${name}': Failed to load snapshot: No such file or directory`);
          }
          try {
            await q.applySnapshot(name);
          } catch (err) {
            if (err instanceof BlockError) throw new CommandError(`Could not apply snapshot '${name}': Failed to load snapshot: ${err.message}`);
            throw err;
          }
          break;
        }
        case 'delete': {
          // qemu-img finds the snapshot to delete by name only (bdrv_snapshot_find).
          const sn = q?.listSnapshots().find((s) => s.name === name);
          if (!q || !sn) throw new CommandError(`Could not delete snapshot '${name}': snapshot not found`);
          try {
            await q.deleteSnapshot(sn.id);
          } catch (err) {
            if (err instanceof BlockError) throw new CommandError(`Could not delete snapshot '${name}': ${err.message}`);
            throw err;
          }
          break;
        }
      }
    } finally {
      await drv.close();
    }
    return 0;
  });
}
