// `viv img info [-f fmt] [--output=human|json] [--backing-chain] [-U] filename` (qemu-img info).
import { promises as fs } from 'node:fs';
import { resolveBackingPath, type BlockDriver, type ImageInfo } from '../../emulator-core/block';
import { CommandError, openForCli, out, parseOutputFormat, runCommand, UsageError } from './common';
import { getopt } from './getopt';
import { imageInfoHuman, imageInfoJson } from './image-info';
import { toQemuJson } from './qjson';
import { refuseUnsupported } from './unsupported';

export function infoCommand(argv: string[]): Promise<number> {
  return runCommand(async () => {
    const { options, operands } = getopt(argv, ':f:hU', [
      { name: 'help', hasArg: false, key: 'h' },
      { name: 'format', hasArg: true, key: 'f' },
      { name: 'output', hasArg: true, key: 'output' },
      { name: 'backing-chain', hasArg: false, key: 'backing-chain' },
      { name: 'force-share', hasArg: false, key: 'U' },
      { name: 'object', hasArg: true, key: 'object' },
      { name: 'image-opts', hasArg: false, key: 'image-opts' },
    ]);
    let fmt: string | undefined;
    let output: 'human' | 'json' = 'human';
    let chain = false;
    for (const o of options) {
      if (o.key === 'h') return (await import('./help')).printHelp();
      if (o.key === 'f') fmt = o.value;
      else if (o.key === 'output') output = parseOutputFormat(o.value!);
      else if (o.key === 'backing-chain') chain = true;
      else if (o.key === 'object' || o.key === 'image-opts') refuseUnsupported(`--${o.key}`);
    }
    if (operands.length !== 1) throw new UsageError('Expecting one image file name');
    const infos = await collectInfo(operands[0]!, fmt, chain);
    if (output === 'json') out(toQemuJson(chain ? infos.map(imageInfoJson) : imageInfoJson(infos[0]!)) + '\n');
    else out(infos.map(imageInfoHuman).join('\n'));
    return 0;
  });
}

/** Each image of the chain opened alone (qemu-img opens with BDRV_O_NO_BACKING), top first. */
async function collectInfo(filename: string, fmt: string | undefined, chain: boolean): Promise<ImageInfo[]> {
  const infos: ImageInfo[] = [];
  const seen = new Set<string>();
  let name: string | undefined = filename;
  let format = fmt;
  while (name !== undefined) {
    const key = await fs.stat(name).then((s) => `${s.dev}:${s.ino}`, () => name!);
    if (seen.has(name) || seen.has(key)) throw new CommandError(`Backing file '${name}' creates an infinite loop.`);
    seen.add(name);
    seen.add(key);
    const drv: BlockDriver = infos.length === 0
      ? await openForCli(name, { format, readOnly: true, noBacking: true })
      : await openForCli(name, { format, readOnly: true, noBacking: true });
    try {
      const info: ImageInfo = await drv.getInfo();
      infos.push(info);
      if (!chain || info.backingFilename === undefined) break;
      name = info.fullBackingFilename ?? resolveBackingPath(name, info.backingFilename);
      format = info.backingFilenameFormat;
    } finally {
      await drv.close();
    }
  }
  return infos;
}
