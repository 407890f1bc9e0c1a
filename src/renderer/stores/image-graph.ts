// The Images view's data: the graph of every image the library knows, the selected image, and
// the background jobs (import, overlay, commit, ...) with their progress, kept current from
// main's `images.changed` and `job` events. Every operation is one call that answers with the
// job it started; a refusal (with its reason) lands in `error` for the view to show.
import { defineStore } from 'pinia';
import type { AppEvent } from '../../shared/api';
import type { ImageGraph, ImageJob, ImageNode } from '../../shared/images';
import { messageOf } from '../api/api-error';
import { useApi } from '../api';

/** Finished jobs kept on screen (their notes and reports), newest first. */
const keptFinished = 6;

export const useImageGraphStore = defineStore('imageGraph', {
  state: () => ({
    folder: '',
    images: [] as ImageNode[],
    jobs: [] as ImageJob[],
    loaded: false,
    error: '',
    selected: undefined as string | undefined,
    unsubscribe: undefined as (() => void) | undefined,
    reloading: undefined as Promise<void> | undefined,
    reloadAgain: false,
    /** Jobs closed or pushed out: the graph's job list (on every reload) does not bring them back. */
    dismissed: [] as string[],
  }),
  getters: {
    byPath: (state) => (path: string) => state.images.find((n) => n.path === path),
    selectedNode(): ImageNode | undefined {
      return this.selected ? this.byPath(this.selected) : undefined;
    },
    running: (state) => state.jobs.filter((j) => j.state === 'running'),
    /** The latest job on an image (a check's report, a failure), for its detail panel. */
    lastJobOn: (state) => (path: string) => state.jobs.find((j) => j.image === path),
  },
  actions: {
    async load() {
      this.subscribe();
      try {
        this.setGraph(await useApi().invoke('images.list'));
        this.error = '';
      } catch (err) {
        this.error = `Could not read the images: ${messageOf(err)}`;
      } finally {
        this.loaded = true;
      }
    },
    setGraph(graph: ImageGraph) {
      this.folder = graph.folder;
      this.images = graph.images;
      for (const job of graph.jobs) this.noteJob(job);
    },
    /** One reload at a time; events that arrive meanwhile cause one more, not one each. */
    async reload() {
      if (this.reloading) {
        this.reloadAgain = true;
        return this.reloading;
      }
      this.reloading = (async () => {
        do {
          this.reloadAgain = false;
          await this.load();
        } while (this.reloadAgain);
      })();
      try {
        await this.reloading;
      } finally {
        this.reloading = undefined;
      }
    },
    subscribe() {
      this.unsubscribe ??= useApi().onEvent((e) => this.apply(e));
    },
    apply(event: AppEvent) {
      if (event.type === 'images.changed') void this.reload();
      else if (event.type === 'job') this.noteJob(event.job);
    },
    noteJob(job: ImageJob) {
      const i = this.jobs.findIndex((j) => j.id === job.id);
      // A call's answer (the job as it started) can arrive after the events of its end: an
      // ended job never goes back to running.
      if (i >= 0 && this.jobs[i]!.state !== 'running' && job.state === 'running') return;
      if (i >= 0) this.jobs[i] = job;
      else if (!this.dismissed.includes(job.id)) {
        // Newest first, by start: the graph's own job list (every reload) brings old ones back.
        this.jobs.push(job);
        this.jobs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
      }
      const finished = this.jobs.filter((j) => j.state !== 'running');
      if (finished.length > keptFinished) {
        const drop = new Set(finished.slice(keptFinished).map((j) => j.id));
        this.jobs = this.jobs.filter((j) => !drop.has(j.id));
        this.forget([...drop]);
      }
    },
    dismiss(id: string) {
      if (this.jobs.some((j) => j.id === id && j.state === 'running')) return;
      this.jobs = this.jobs.filter((j) => j.id !== id);
      this.forget([id]);
    },
    /** Jobs not to show again (closed, or pushed out by newer ones); the last few hundred. */
    forget(ids: string[]) {
      this.dismissed = [...this.dismissed, ...ids].slice(-500);
    },
    select(path: string | undefined) {
      this.selected = path;
      this.error = '';
    },
    /** Runs an operation; answers its job, or undefined with the refusal in `error`. */
    async run<T>(call: () => Promise<ImageJob>, then?: (job: ImageJob) => T): Promise<ImageJob | undefined> {
      this.error = '';
      try {
        const job = await call();
        this.noteJob(job);
        then?.(job);
        return job;
      } catch (err) {
        this.error = messageOf(err);
        return undefined;
      }
    },
    importImage(source: string, name: string) {
      return this.run(() => useApi().invoke('images.import', { source, name }));
    },
    createOverlay(base: string, name: string) {
      return this.run(() => useApi().invoke('images.createOverlay', { base, name }));
    },
    commit(path: string, acceptInvalidated: string[]) {
      return this.run(() => useApi().invoke('images.commit', { path, acceptInvalidated }));
    },
    rebase(path: string, newBase: string) {
      return this.run(() => useApi().invoke('images.rebase', { path, newBase }));
    },
    flatten(path: string) {
      return this.run(() => useApi().invoke('images.flatten', { path }));
    },
    resize(path: string, size: number) {
      return this.run(() => useApi().invoke('images.resize', { path, size }));
    },
    check(path: string) {
      return this.run(() => useApi().invoke('images.check', { path }));
    },
    remove(path: string) {
      return this.run(() => useApi().invoke('images.delete', { path }), () => {
        if (this.selected === path) this.selected = undefined;
      });
    },
    async cancel(id: string) {
      try {
        await useApi().invoke('jobs.cancel', id);
      } catch (err) {
        this.error = messageOf(err);
      }
    },
  },
});
