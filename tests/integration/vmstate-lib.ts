// Shared by the vmstate-*.test.ts files: `viv run` as a child with its console captured, a QMP
// client over the unix socket (JSON lines, as management scripts speak it), and the shared
// guest's counting workload.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { repo } from './boot-guest';

const viv = path.join(repo, 'bin/viv.mjs');

export const hasQemuImg = spawnSync('qemu-img', ['--version']).status === 0;
export const hasSocat = spawnSync('socat', ['-V']).status === 0;

export interface VivChild {
  child: ChildProcess;
  output(): string;
  errors(): string;
  /** Resolves with the match once the console output matches `re` (from `from` on). */
  waitFor(re: RegExp, timeoutMs: number, from?: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

export function startViv(args: string[]): VivChild {
  const child = spawn(process.execPath, [viv, 'run', ...args], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString('utf8');
    for (const w of [...waiters]) w();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    errors: () => err,
    exited,
    waitFor(re, timeoutMs, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = new RegExp(re.source, re.flags.replace('g', '')).exec(out.slice(from));
          if (m) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${re}; last output: ${out.slice(-400)}\nstderr: ${err.slice(-400)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

export interface QmpMessage {
  return?: unknown;
  error?: { class: string; desc: string };
  event?: string;
  data?: Record<string, unknown>;
  QMP?: unknown;
  id?: unknown;
}

export interface QmpClient {
  exec(command: string, args?: Record<string, unknown>): Promise<QmpMessage>;
  /** Every event received so far. */
  events: QmpMessage[];
  /** Resolves when an event matching `pred` has arrived (or already had). */
  waitEvent(pred: (e: QmpMessage) => boolean, timeoutMs: number): Promise<QmpMessage>;
  close(): void;
}

/** Connects (retrying until the socket exists) and negotiates capabilities. */
export async function qmpConnect(sock: string, timeoutMs = 60_000): Promise<QmpClient> {
  const t0 = Date.now();
  let socket: Socket | undefined;
  while (!socket) {
    socket = await new Promise<Socket | undefined>((resolve) => {
      const s = connect(sock);
      s.once('connect', () => resolve(s));
      s.once('error', () => resolve(undefined));
    });
    if (!socket) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`QMP socket ${sock} did not open`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const s = socket;
  let buf = '';
  const replies: Array<(m: QmpMessage) => void> = [];
  const events: QmpMessage[] = [];
  const eventWaiters = new Set<() => void>();
  let greeting!: (m: QmpMessage) => void;
  const greeted = new Promise<QmpMessage>((r) => (greeting = r));
  s.setEncoding('utf8');
  s.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line) as QmpMessage;
      if (msg.QMP) greeting(msg);
      else if (msg.event) {
        events.push(msg);
        for (const w of [...eventWaiters]) w();
      } else replies.shift()?.(msg);
    }
  });
  await greeted;
  const client: QmpClient = {
    events,
    exec(command, args) {
      return new Promise((resolve) => {
        replies.push(resolve);
        s.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
      });
    },
    waitEvent(pred, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const e = events.find(pred);
          if (e) {
            eventWaiters.delete(check);
            clearTimeout(timer);
            resolve(e);
          }
        };
        const timer = setTimeout(() => {
          eventWaiters.delete(check);
          reject(new Error('timed out waiting for a QMP event'));
        }, timeoutMs);
        eventWaiters.add(check);
        check();
      });
    },
    close: () => s.destroy(),
  };
  await client.exec('qmp_capabilities');
  return client;
}

/**
 * The guest workload: counts forever; each count is written to the first disk's sector 0
 * (fsync'd) and then printed. With `sleepSec` it sleeps between counts (a guest that spends its
 * time in timers and WFI).
 */
export function counterScript(sleepSec?: number): string {
  return `#!/bin/sh
i=0
while true; do
  i=$((i+1))
  echo "DISK $i" | dd of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null
  echo "COUNT $i"
  ${sleepSec ? `sleep ${sleepSec}` : ':'}
done
`;
}

/** Every COUNT n printed from `from` on. */
export function counts(text: string): number[] {
  return [...text.matchAll(/^COUNT (\d+)\r?$/gm)].map((m) => Number(m[1]));
}
