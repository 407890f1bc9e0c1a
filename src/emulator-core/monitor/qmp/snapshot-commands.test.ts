// The snapshot jobs' QMP conversation, event by event, as observed on qemu-system-riscv64 7.2's
// socket (a successful save, a failed load, dismiss, unknown and duplicate job ids).
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { HmpBackend } from '../hmp';
import { registerSnapshotCommands, type SnapshotControl } from './snapshot-commands';
import { QmpServer } from './server';

function session(control: SnapshotControl) {
  const qmp = new QmpServer();
  const hmp = { status: () => 'running', snapshots: () => ({ loadable: [], partial: [], anyDrive: false }) } as unknown as HmpBackend;
  registerSnapshotCommands(qmp, control, hmp, () => []);
  const lines: string[] = [];
  let buf = '';
  const duplex = new Duplex({
    read() {},
    write(chunk: Buffer | string, _enc, done) {
      buf += chunk.toString();
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 2);
      }
      done();
    },
  });
  qmp.attach(duplex);
  const send = (o: object) => duplex.push(JSON.stringify(o) + '\n');
  const settle = () => new Promise((r) => setTimeout(r, 30));
  /** Lines without timestamps, for comparison. */
  const take = () => lines.splice(0).map((l) => JSON.parse(l.replace(/"timestamp": \{[^}]*\}, /, '')) as Record<string, unknown>);
  return { send, settle, take };
}

const change = (id: string, status: string) => ({ event: 'JOB_STATUS_CHANGE', data: { status, id } });

describe('QMP snapshot jobs', () => {
  it('runs snapshot-save/-load/-delete as jobs with QEMU 7.2 events, errors and dismissal', async () => {
    const calls: string[] = [];
    const s = session({
      save: async (tag, vmstate, devices) => void calls.push(`save ${tag} ${vmstate} ${devices.join(',')}`),
      load: async (tag) => Promise.reject(new Error(`Snapshot '${tag}' does not exist in one or more devices`)),
      delete: async (tag) => void calls.push(`delete ${tag}`),
    });
    s.send({ execute: 'qmp_capabilities' });
    await s.settle();
    expect(s.take().at(-1)).toEqual({ return: {} });
    s.send({ execute: 'snapshot-save', arguments: { 'job-id': 'j1', tag: 's1', vmstate: 'disk0', devices: ['disk0'] } });
    await s.settle();
    s.send({ execute: 'query-jobs' });
    await s.settle();
    expect(s.take()).toEqual([
      change('j1', 'created'),
      change('j1', 'running'),
      { return: {} },
      change('j1', 'waiting'),
      change('j1', 'pending'),
      change('j1', 'concluded'),
      { return: [{ 'current-progress': 1, status: 'concluded', 'total-progress': 1, type: 'snapshot-save', id: 'j1' }] },
    ]);
    expect(calls).toEqual(['save s1 disk0 disk0']);

    s.send({ execute: 'snapshot-save', arguments: { 'job-id': 'j1', tag: 's2', vmstate: 'disk0', devices: ['disk0'] } });
    s.send({ execute: 'job-dismiss', arguments: { id: 'j1' } });
    s.send({ execute: 'job-dismiss', arguments: { id: 'zz' } });
    s.send({ execute: 'snapshot-load', arguments: { 'job-id': 'j2', tag: 'nope', vmstate: 'disk0', devices: ['disk0'] } });
    await s.settle();
    s.send({ execute: 'query-jobs' });
    s.send({ execute: 'snapshot-delete', arguments: { 'job-id': 'j3', tag: 's1' } });
    await s.settle();
    expect(s.take()).toEqual([
      { error: { class: 'GenericError', desc: "Job ID 'j1' already in use" } },
      change('j1', 'null'),
      { return: {} },
      { error: { class: 'GenericError', desc: 'Job not found' } },
      change('j2', 'created'),
      change('j2', 'running'),
      { return: {} },
      change('j2', 'aborting'),
      change('j2', 'concluded'),
      {
        return: [{ 'current-progress': 1, status: 'concluded', 'total-progress': 1, type: 'snapshot-load', id: 'j2', error: "Snapshot 'nope' does not exist in one or more devices" }],
      },
      { error: { class: 'GenericError', desc: "Parameter 'devices' is missing" } },
    ]);
  });
});
