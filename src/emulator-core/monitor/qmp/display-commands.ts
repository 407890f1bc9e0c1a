// The display commands of QMP, as QEMU 7.2 takes them (qapi/ui.json): `screendump` (filename,
// optional format png|ppm, default ppm) and `set_password` for VNC (what `-vnc ...,password=on`
// waits for), and `query-vnc-servers` (where each listener is, and which one is the WebSocket: a
// client of QEMU learns a `websocket=HOST:0` port from it, as the app does). The host binds them
// to its display through `DisplayControl`.
import type { QmpServer } from './server';
import { genericError } from './wire';

export interface DisplayControl {
  /** Writes the current screen to `filename`; rejects with the file error. */
  screendump(filename: string, format: 'png' | 'ppm'): Promise<void>;
  /** Whether a VNC server runs, and whether it asks for a password (`password=on`). */
  vnc(): { enabled: boolean; passwordAuth: boolean };
  /** The listeners and the connected clients, as QEMU's VncServerInfo2 / VncClientInfo name them. */
  vncSockets?(): { servers: VncSocketInfo[]; clients: VncSocketInfo[] };
  setVncPassword(password: string): void;
}

/** QEMU's VncBasicInfo (qapi/ui.json): host, service (port or path), family, websocket. */
// (A type, not an interface: it must fit QMP's JsonValue, which needs an implicit index signature.)
export type VncSocketInfo = {
  host: string;
  service: string;
  family: 'ipv4' | 'ipv6' | 'unix';
  websocket: boolean;
};

export function registerDisplayCommands(qmp: QmpServer, display: DisplayControl): void {
  qmp.register('screendump', {
    args: {
      filename: { type: 'str' },
      device: { type: 'str', optional: true },
      head: { type: 'int', optional: true },
      format: { type: 'str', optional: true, values: ['ppm', 'png'] },
    },
    run: async (args) => {
      if (args.device !== undefined || args.head !== undefined) throw genericError('There is one display: device and head are not supported');
      const format = (args.format ?? 'ppm') as 'png' | 'ppm';
      try {
        await display.screendump(args.filename as string, format);
      } catch (e) {
        throw genericError(`Could not open '${args.filename as string}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`);
      }
      return {};
    },
  });
  qmp.register('set_password', {
    args: {
      protocol: { type: 'str', values: ['vnc', 'spice'] },
      password: { type: 'str' },
      connected: { type: 'str', optional: true, values: ['keep', 'disconnect', 'fail'] },
      display: { type: 'str', optional: true },
    },
    run: (args) => {
      if (args.protocol !== 'vnc') throw genericError('SPICE is not available');
      // QEMU: VNC only supports connected=keep.
      if (args.connected !== undefined && args.connected !== 'keep') throw genericError("VNC supports only 'connected=keep'");
      const vnc = display.vnc();
      if (!vnc.enabled) throw genericError('Could not set password: VNC is not enabled (-vnc)');
      if (!vnc.passwordAuth) throw genericError('Could not set password: VNC authentication is off (use -vnc ...,password=on)');
      display.setVncPassword(args.password as string);
      return {};
    },
  });
  qmp.register('query-vnc-servers', {
    args: {},
    run: () => {
      const vnc = display.vnc();
      if (!vnc.enabled) return [];
      // One display ("default"), as QEMU 7.2 lists it: auth on the display and on each listener.
      const auth = vnc.passwordAuth ? 'vnc' : 'none';
      const { servers, clients } = display.vncSockets?.() ?? { servers: [], clients: [] };
      return [{ id: 'default', auth, clients, server: servers.map((s) => ({ ...s, auth })) }];
    },
  });
}
