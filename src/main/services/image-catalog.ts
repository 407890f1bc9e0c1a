// The images the app itself holds: <data>/vivarium/images/, with catalog.json beside them (written
// atomically) naming each image the app imported or created, its format and where it came from.
// The catalog is how an image that vanished outside the app is still shown (as missing); a file
// someone put in the folder by hand is shown too ("found").
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DiskFormat } from '../../shared/vm-config';
import { writeJsonAtomic } from './atomic-file';

export const CatalogEntry = z.object({
  path: z.string(),
  format: DiskFormat,
  origin: z.enum(['imported', 'created']),
  addedAt: z.string(),
  /** An import's source file. */
  source: z.string().optional(),
});
export type CatalogEntry = z.infer<typeof CatalogEntry>;

const CatalogFile = z.object({ version: z.literal(1), images: z.array(CatalogEntry) });

export interface FolderImage {
  path: string;
  format?: DiskFormat;
  origin: 'imported' | 'created' | 'found';
}

const imageSuffix = /\.(qcow2|img|raw)$/i;

export class ImageCatalog {
  private readonly file: string;
  /** Serialises read-modify-write of catalog.json within this process (the library lock covers others). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly folder: string) {
    this.file = path.join(folder, 'catalog.json');
  }

  async entries(): Promise<CatalogEntry[]> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    // A damaged catalog loses only the memory of vanished files: the folder scan still finds the rest.
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return [];
    }
    const parsed = CatalogFile.safeParse(json);
    return parsed.success ? parsed.data.images : [];
  }

  /** Catalogued images, then files in the folder the catalog does not name. */
  async list(): Promise<FolderImage[]> {
    await fs.mkdir(this.folder, { recursive: true });
    const known = await this.entries();
    const names = new Set(known.map((e) => e.path));
    const found: FolderImage[] = [];
    for (const d of await fs.readdir(this.folder, { withFileTypes: true })) {
      if (!d.isFile() || d.name.startsWith('.') || !imageSuffix.test(d.name)) continue;
      const file = path.join(this.folder, d.name);
      if (!names.has(file)) found.push({ path: file, origin: 'found' });
    }
    return [...known.map((e) => ({ path: e.path, format: e.format, origin: e.origin })), ...found];
  }

  private update(change: (images: CatalogEntry[]) => CatalogEntry[]): Promise<void> {
    const run = this.queue.then(async () => {
      await fs.mkdir(this.folder, { recursive: true });
      const next = change(await this.entries());
      await writeJsonAtomic(this.file, { version: 1, images: next });
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  add(entry: CatalogEntry): Promise<void> {
    return this.update((images) => [...images.filter((e) => e.path !== entry.path), entry]);
  }

  remove(file: string): Promise<void> {
    return this.update((images) => images.filter((e) => e.path !== file));
  }

  /** Where an image named `name` goes. */
  pathFor(name: string): string {
    return path.join(this.folder, `${name}.qcow2`);
  }

  contains(file: string): boolean {
    return path.dirname(file) === this.folder;
  }
}
