// A cache of metadata clusters (L2 tables, refcount blocks) keyed by their offset in the image
// file, least recently used first out (QEMU's qcow2-cache.c). It never writes by itself: a dirty
// table stays until its owner writes it in the order the crash-safety rules require, so when every
// table over the capacity is dirty the cache grows past it and reports `overCapacity` instead.
import type { HostFile } from '../host-file';

interface Entry {
  buf: Uint8Array;
  dirty: boolean;
}

export class TableCache {
  private readonly entries = new Map<number, Entry>();

  constructor(
    private readonly file: HostFile,
    readonly tableSize: number,
    private capacity: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get overCapacity(): boolean {
    return this.entries.size > this.capacity;
  }

  setCapacity(n: number): void {
    this.capacity = Math.max(2, n);
  }

  /** The table at `offset`, read from the file when not cached. */
  async get(offset: number): Promise<Uint8Array> {
    const hit = this.entries.get(offset);
    if (hit) {
      this.entries.delete(offset);
      this.entries.set(offset, hit);
      return hit.buf;
    }
    const buf = new Uint8Array(this.tableSize);
    await this.file.read(buf, offset);
    // Another request may have loaded it while we waited (callers hold the image lock, but be safe).
    const raced = this.entries.get(offset);
    if (raced) return raced.buf;
    this.entries.set(offset, { buf, dirty: false });
    this.evictClean();
    return buf;
  }

  /** Peeks without loading: the cached table or undefined. */
  peek(offset: number): Uint8Array | undefined {
    return this.entries.get(offset)?.buf;
  }

  /** Installs a table that was just created in memory (new L2 table, new refcount block). */
  put(offset: number, buf: Uint8Array, dirty: boolean): void {
    this.entries.delete(offset);
    this.entries.set(offset, { buf, dirty });
    this.evictClean();
  }

  markDirty(offset: number): void {
    const e = this.entries.get(offset);
    if (!e) throw new Error(`table cache: ${offset} not cached`);
    e.dirty = true;
  }

  isDirty(offset: number): boolean {
    return this.entries.get(offset)?.dirty ?? false;
  }

  hasDirty(): boolean {
    for (const e of this.entries.values()) if (e.dirty) return true;
    return false;
  }

  /** Writes every dirty table (in offset order, which keeps the writes sequential) and marks it clean. */
  async writeDirty(): Promise<number> {
    const dirty = [...this.entries.entries()].filter(([, e]) => e.dirty).sort((a, b) => a[0] - b[0]);
    for (const [offset, e] of dirty) {
      await this.file.write(e.buf, offset);
      e.dirty = false;
    }
    this.evictClean();
    return dirty.length;
  }

  /** Drops a table (freed cluster): its content must not be written back. */
  forget(offset: number): void {
    this.entries.delete(offset);
  }

  clear(): void {
    this.entries.clear();
  }

  private evictClean(): void {
    if (this.entries.size <= this.capacity) return;
    // Oldest first; never the newest entry, which the caller is about to use.
    let left = this.entries.size - 1;
    for (const [offset, e] of this.entries) {
      if (this.entries.size <= this.capacity || left-- === 0) break;
      if (!e.dirty) this.entries.delete(offset);
    }
  }
}
