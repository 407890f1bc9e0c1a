// The VM library: one folder per VM under <data>/vivarium/vms/<id>/, its config.json written
// atomically. Loading never fails as a whole: a folder whose config is unreadable or invalid
// becomes a "broken" entry with the reason, and the rest load.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { VmConfig, type VmConfigPatch, VmId } from '../../shared/vm-config';
import { writeJsonAtomic } from './atomic-file';
import { UserError } from './errors';

export type LibraryItem = { id: string; dir: string } & ({ config: VmConfig } | { broken: string });

export const configFileName = 'config.json';

function describeZodError(err: { issues: { path: PropertyKey[]; message: string }[] }): string {
  const first = err.issues[0];
  if (!first) return 'invalid config';
  const where = first.path.length ? first.path.map(String).join('.') + ': ' : '';
  return `invalid config (${where}${first.message})`;
}

export class VmLibrary {
  constructor(readonly vmsDir: string) {}

  dirOf(id: string): string {
    if (!VmId.safeParse(id).success) throw new UserError(`No VM with the id '${id}'`, 'not-found');
    return path.join(this.vmsDir, id);
  }

  async list(): Promise<LibraryItem[]> {
    await fs.mkdir(this.vmsDir, { recursive: true });
    const names = (await fs.readdir(this.vmsDir, { withFileTypes: true }))
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort();
    return Promise.all(names.map((id) => this.load(id)));
  }

  async load(id: string): Promise<LibraryItem> {
    const dir = path.join(this.vmsDir, id);
    let text: string;
    try {
      text = await fs.readFile(path.join(dir, configFileName), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { id, dir, broken: code === 'ENOENT' ? 'config.json is missing' : `config.json cannot be read (${code})` };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      return { id, dir, broken: `config.json is not valid JSON (${(err as Error).message})` };
    }
    const parsed = VmConfig.safeParse(json);
    if (!parsed.success) return { id, dir, broken: describeZodError(parsed.error) };
    if (parsed.data.id !== id) return { id, dir, broken: `config.json names another VM ('${parsed.data.id}')` };
    return { id, dir, config: parsed.data };
  }

  async get(id: string): Promise<VmConfig> {
    const item = await this.load(path.basename(this.dirOf(id)));
    if ('broken' in item) {
      const exists = await fs.stat(item.dir).then(() => true, () => false);
      if (!exists) throw new UserError(`No VM with the id '${id}'`, 'not-found');
      throw new UserError(`The VM '${id}' is broken: ${item.broken}`, 'broken');
    }
    return item.config;
  }

  async assertNameFree(name: string, exceptId?: string): Promise<void> {
    const wanted = name.trim().toLocaleLowerCase();
    for (const item of await this.list()) {
      if ('config' in item && item.id !== exceptId && item.config.name.toLocaleLowerCase() === wanted) {
        throw new UserError(`A VM named '${item.config.name}' already exists`, 'name-taken', 'name');
      }
    }
  }

  /** A new folder with an id derived from the name; the caller writes its config with `save`. */
  async allocate(name: string): Promise<{ id: string; dir: string }> {
    await fs.mkdir(this.vmsDir, { recursive: true });
    const slug =
      name
        .toLowerCase()
        .normalize('NFKD')
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '')
        .slice(0, 40) || 'vm';
    for (let n = 0; n < 100; n++) {
      const id = n === 0 ? slug : `${slug}-${n === 99 ? randomBytes(4).toString('hex') : n + 1}`;
      const dir = path.join(this.vmsDir, id);
      try {
        await fs.mkdir(dir); // fails if taken: the folder is the reservation
        return { id, dir };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    throw new UserError('Could not find a free folder for the VM', 'internal');
  }

  async save(config: VmConfig): Promise<void> {
    const valid = VmConfig.parse(config);
    await writeJsonAtomic(path.join(this.dirOf(valid.id), configFileName), valid);
  }

  async update(id: string, patch: VmConfigPatch): Promise<VmConfig> {
    const current = await this.get(id);
    if (patch.name !== undefined) await this.assertNameFree(patch.name, id);
    const next = VmConfig.parse({ ...current, ...patch });
    await this.save(next);
    return next;
  }

  /** Removes the VM's folder. Images outside it are never touched here. */
  async remove(id: string): Promise<void> {
    await fs.rm(this.dirOf(id), { recursive: true, force: true });
  }
}
