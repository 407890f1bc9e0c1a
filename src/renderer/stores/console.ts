// Console connections, one per VM: main replays the serial scrollback on connect, then streams.
// The terminal (a component) registers as the sink; the store owns the connection, so the
// terminal widget never talks to the API.
import { defineStore } from 'pinia';
import { markRaw } from 'vue';
import type { ConsoleSession } from '../../shared/api';
import { useApi } from '../api';

export interface ConsoleSink {
  write(bytes: Uint8Array): void;
  clear(): void;
}

interface Connection {
  session: ConsoleSession;
  sink: ConsoleSink;
}

export const useConsoleStore = defineStore('console', {
  state: () => ({
    /** Per VM: whether the serial stream is live (false after the VM stopped). */
    live: {} as Record<string, boolean>,
    connections: markRaw({}) as Record<string, Connection>,
  }),
  actions: {
    attach(id: string, sink: ConsoleSink) {
      this.detach(id);
      sink.clear();
      this.live[id] = true;
      const session = useApi().openConsole(
        id,
        (bytes) => sink.write(bytes),
        () => {
          if (this.connections[id]?.sink === sink) this.live[id] = false;
        },
      );
      this.connections[id] = { session, sink };
    },
    send(id: string, data: string) {
      this.connections[id]?.session.write(data);
    },
    detach(id: string) {
      this.connections[id]?.session.close();
      delete this.connections[id];
      this.live[id] = false;
    },
  },
});
