// A QMP server (QEMU Machine Protocol, docs/interop/qmp-spec): greeting, capabilities
// negotiation, commands with argument checking, events. It knows nothing of machines: the host
// registers the commands (see commands.ts) and emits the events. Behaviour and messages follow
// QEMU 7.2 as observed over its socket, so management scripts written for QEMU work unchanged.
import type { Duplex } from 'node:stream';
import { JsonReader, type JsonValue } from './json-reader';
import { checkArguments, type ArgSpec } from './arguments';
import { QmpError, errorMessage, eventMessage, genericError, returnMessage, serialize } from './wire';

export interface QmpCommand {
  /** Argument names and types; anything else is "Parameter 'x' is unexpected". */
  args?: ArgSpec;
  run(args: Record<string, JsonValue>, session: QmpSession): JsonValue | Promise<JsonValue>;
}

export interface QmpVersion {
  major: number;
  minor: number;
  micro: number;
  package: string;
}

/** QEMU 7.2's version: we implement its protocol and claim its command shapes. */
export const QMP_VERSION: QmpVersion = { major: 7, minor: 2, micro: 0, package: 'vivarium' };

export class QmpServer {
  private readonly commands = new Map<string, QmpCommand>();
  private readonly sessions = new Set<QmpSession>();

  constructor(readonly version: QmpVersion = QMP_VERSION) {
    this.register('qmp_capabilities', {
      args: { enable: { type: 'array', of: 'str', optional: true } },
      run: () => {
        // Only reached in command mode (negotiation is handled by the session).
        throw new QmpError('CommandNotFound', 'Capabilities negotiation is already complete, command ignored');
      },
    });
    this.register('query-version', {
      run: () => ({
        qemu: { micro: this.version.micro, minor: this.version.minor, major: this.version.major },
        package: this.version.package,
      }),
    });
    this.register('query-commands', {
      run: () => [...this.commands.keys()].map((name) => ({ name })),
    });
  }

  register(name: string, command: QmpCommand): void {
    if (this.commands.has(name)) throw new Error(`QMP command '${name}' registered twice`);
    this.commands.set(name, command);
  }

  /** Broadcasts an event to every session that finished negotiation. */
  emit(event: string, data?: JsonValue): void {
    const line = eventMessage(event, data);
    for (const s of this.sessions) if (s.negotiated) s.send(line);
  }

  /** Serves one connection (a socket, or any duplex byte stream). */
  attach(stream: Duplex): QmpSession {
    const session = new QmpSession(this, stream);
    this.sessions.add(session);
    stream.on('close', () => this.sessions.delete(session));
    return session;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** @internal */
  async dispatch(session: QmpSession, msg: JsonValue): Promise<string | undefined> {
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return errorMessage(genericError('QMP input must be a JSON object'), undefined);
    }
    const id = msg.id;
    for (const key of Object.keys(msg)) {
      if (key !== 'execute' && key !== 'arguments' && key !== 'id') {
        return errorMessage(genericError(`QMP input member '${key}' is unexpected`), id);
      }
    }
    const name = msg.execute;
    if (name === undefined) return errorMessage(genericError("QMP input lacks member 'execute'"), id);
    if (typeof name !== 'string') {
      return errorMessage(genericError("QMP input member 'execute' must be a string"), id);
    }
    const rawArgs = msg.arguments ?? {};
    if (typeof rawArgs !== 'object' || rawArgs === null || Array.isArray(rawArgs)) {
      return errorMessage(genericError("QMP input member 'arguments' must be an object"), id);
    }
    if (!session.negotiated) {
      if (name !== 'qmp_capabilities') {
        return errorMessage(new QmpError('CommandNotFound', "Expecting capabilities negotiation with 'qmp_capabilities'"), id);
      }
      try {
        checkArguments(rawArgs, this.commands.get(name)!.args);
      } catch (e) {
        if (e instanceof QmpError) return errorMessage(e, id);
        throw e;
      }
      session.negotiated = true;
      return returnMessage({}, id);
    }
    const command = this.commands.get(name);
    if (!command) return errorMessage(new QmpError('CommandNotFound', `The command ${name} has not been found`), id);
    try {
      const args = checkArguments(rawArgs, command.args);
      const result = await command.run(args, session);
      return returnMessage(result ?? {}, id);
    } catch (e) {
      if (e instanceof QmpError) return errorMessage(e, id);
      // A bug in a handler is reported to the client and the connection stays usable.
      return errorMessage(genericError(e instanceof Error ? e.message : String(e)), id);
    }
  }
}

export class QmpSession {
  negotiated = false;
  private readonly reader = new JsonReader();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly server: QmpServer,
    private readonly stream: Duplex,
  ) {
    const v = server.version;
    this.send(
      serialize({
        QMP: { version: { qemu: { micro: v.micro, minor: v.minor, major: v.major }, package: v.package }, capabilities: ['oob'] },
      }),
    );
    stream.setEncoding?.('utf8');
    stream.on('data', (chunk: string | Buffer) => this.onData(typeof chunk === 'string' ? chunk : chunk.toString('utf8')));
    stream.on('error', () => stream.destroy());
  }

  send(line: string): void {
    if (!this.stream.destroyed && this.stream.writable) this.stream.write(line + '\r\n');
  }

  close(): void {
    this.stream.end();
  }

  private onData(text: string): void {
    for (const r of this.reader.push(text)) {
      // Commands run one after another, in order, as QEMU's monitor dispatches them.
      this.queue = this.queue.then(async () => {
        const reply = r.ok ? await this.server.dispatch(this, r.value) : errorMessage(genericError(r.error), undefined);
        if (reply !== undefined) this.send(reply);
      });
    }
  }
}
