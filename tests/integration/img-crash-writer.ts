// The process the crash test kills: random sector-aligned writes (some several at once), zero
// writes, discards, compressed writes, flushes and snapshots through the block driver, with tiny
// metadata caches so tables are written all the time. Every operation is logged before it starts
// ("B"), every completed flush after it ends ("F"); the test kills this with SIGKILL and checks
// the image against the log. usage: node writer.mjs IMAGE LOG SEED
import { appendFileSync } from 'node:fs';
import { openImage, Qcow2Driver } from '../../src/emulator-core/block';
import { prng, randInt } from '../../src/emulator-core/block/testing/model';
import { sectorPattern } from './img-crash-pattern';

async function main(): Promise<void> {
  const [file, log, seedText] = process.argv.slice(2) as [string, string, string];
  const seed = Number(seedText);
  const rnd = prng(seed);
  const drv = (await openImage(file, { l2CacheTables: 2, refblockCacheTables: 2 })) as Qcow2Driver;
  const cs = drv.image.clusterSize;
  const sectors = drv.length() / 512;
  for (let k = seed * 100000; ; k++) {
    const r = rnd();
    if (r < 0.55) {
      // Half the time four writes in flight together (disjoint quarters of the disk), as a
      // guest's queue or convert issues them: their data I/O overlaps outside the image lock.
      const batch = rnd() < 0.5 ? 4 : 1;
      const part = Math.floor(sectors / batch);
      const writes: Promise<void>[] = [];
      for (let j = 0; j < batch; j++) {
        const n = randInt(rnd, 1, Math.min(256, (cs / 512) * 3));
        const s = j * part + randInt(rnd, 0, part - n);
        appendFileSync(log, `B ${k + j} W ${s} ${n}\n`);
        const buf = new Uint8Array(n * 512);
        for (let i = 0; i < n; i++) buf.set(sectorPattern(k + j, s + i), i * 512);
        writes.push(drv.write(s * 512, buf));
      }
      k += batch - 1;
      await Promise.all(writes);
    } else if (r < 0.65) {
      const n = randInt(rnd, 1, (cs / 512) * 4);
      const s = randInt(rnd, 0, sectors - n);
      appendFileSync(log, `B ${k} Z ${s} ${n}\n`);
      await drv.writeZeroes(s * 512, n * 512, { mayUnmap: rnd() < 0.5 });
    } else if (r < 0.72) {
      const c = randInt(rnd, 0, drv.length() / cs - 1);
      appendFileSync(log, `B ${k} D ${(c * cs) / 512} ${cs / 512}\n`);
      await drv.discard(c * cs, cs);
    } else if (r < 0.82) {
      const c = randInt(rnd, 0, drv.length() / cs - 1);
      const s = (c * cs) / 512;
      appendFileSync(log, `B ${k} C ${s} ${cs / 512}\n`);
      const buf = new Uint8Array(cs);
      // Compressible: the sector pattern is 16 bytes repeated.
      for (let i = 0; i < cs / 512; i++) buf.set(sectorPattern(k, s + i), i * 512);
      await drv.writeCompressed(c * cs, buf);
    } else if (r < 0.95) {
      await drv.flush();
      appendFileSync(log, `F ${k}\n`);
    } else if (r < 0.98) {
      appendFileSync(log, `B ${k} S 0 0\n`);
      await drv.createSnapshot({ name: `s${k}` });
      appendFileSync(log, `F ${k}\n`);
    } else {
      const list = drv.listSnapshots();
      if (!list.length) continue;
      appendFileSync(log, `B ${k} X 0 0\n`);
      await drv.deleteSnapshot(list[randInt(rnd, 0, list.length - 1)]!.id);
      appendFileSync(log, `F ${k}\n`);
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
