// The preload with a recording `electron`: it exposes exactly one object, forwards calls on the
// contract's channel, and routes console bytes by session.
import { describe, expect, it, vi } from 'vitest';
import type { VivariumBridge } from '../shared/api';
import { ipc } from '../shared/ipc';

const exposed: Record<string, unknown> = {};
const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
const sent: unknown[][] = [];
const invoked: unknown[][] = [];
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => (exposed[key] = value) },
  ipcRenderer: {
    invoke: async (...args: unknown[]) => (invoked.push(args), { ok: true, value: 42 }),
    send: (...args: unknown[]) => void sent.push(args),
    on: (ch: string, fn: (...a: unknown[]) => void) => (listeners.get(ch) ?? listeners.set(ch, new Set()).get(ch)!).add(fn),
    off: (ch: string, fn: (...a: unknown[]) => void) => listeners.get(ch)?.delete(fn),
  },
}));
await import('./index');
const emit = (ch: string, ...args: unknown[]) => listeners.get(ch)?.forEach((fn) => fn({}, ...args));

describe('preload', () => {
  it('exposes window.vivarium and nothing else', () => {
    expect(Object.keys(exposed)).toEqual(['vivarium']);
  });

  it('forwards calls and events', async () => {
    const api = exposed.vivarium as VivariumBridge;
    expect(await api.invoke('vms.list', [])).toEqual({ ok: true, value: 42 });
    expect(invoked).toEqual([[ipc.invoke, 'vms.list', []]]);
    const events: unknown[] = [];
    const off = api.onEvent((e) => events.push(e));
    emit(ipc.event, { type: 'vm.removed', id: 'a' });
    off();
    emit(ipc.event, { type: 'vm.removed', id: 'b' });
    expect(events).toEqual([{ type: 'vm.removed', id: 'a' }]);
  });

  it('keeps console sessions apart and closes them', () => {
    const api = exposed.vivarium as VivariumBridge;
    const a: string[] = [];
    const b: string[] = [];
    let closedA = false;
    const sa = api.openConsole('vm-a', (bytes) => a.push(new TextDecoder().decode(bytes)), () => (closedA = true));
    api.openConsole('vm-b', (bytes) => b.push(new TextDecoder().decode(bytes)));
    const [[, sessionA, idA], [, sessionB]] = sent.filter((s) => s[0] === ipc.consoleOpen);
    expect(idA).toBe('vm-a');
    emit(ipc.consoleData, sessionA, new TextEncoder().encode('to a'));
    emit(ipc.consoleData, sessionB, new TextEncoder().encode('to b'));
    sa.write('ls\r');
    emit(ipc.consoleData, sessionA, null);
    expect([a, b, closedA]).toEqual([['to a'], ['to b'], true]);
    expect(sent).toContainEqual([ipc.consoleInput, sessionA, 'ls\r']);
  });

  it('asks for a display port and hands it to the page as a window message', () => {
    const posted: unknown[][] = [];
    (globalThis as { window?: unknown }).window = { postMessage: (...a: unknown[]) => void posted.push(a) };
    const api = exposed.vivarium as VivariumBridge;
    const session = api.openDisplay!('vm-a');
    expect(sent).toContainEqual([ipc.displayOpen, session, 'vm-a']);
    const port = { fake: 'port' };
    listeners.get(ipc.displayPort)?.forEach((fn) => fn({ ports: [port] }, { session }));
    listeners.get(ipc.displayPort)?.forEach((fn) => fn({ ports: [] }, { session: 'bad' }));
    expect(posted).toEqual([[{ [ipc.displayPort]: session }, '*', [port]]]);
    delete (globalThis as { window?: unknown }).window;
  });
});
