// -qmp on viv run's command line: the socket forms the app and QMP clients use, and clear refusals.
import { describe, expect, it } from 'vitest';
import { OptionError, parseRunArgs } from './options';

const parse = (line: string) => parseRunArgs(line.split(' '));

describe('-qmp', () => {
  it('takes unix and tcp server sockets that do not wait', () => {
    expect(parse('-qmp unix:/tmp/q.sock,server=on,wait=off').qmp).toEqual({ kind: 'unix', path: '/tmp/q.sock' });
    expect(parse('-qmp tcp:127.0.0.1:4444,server,nowait').qmp).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 4444 });
    expect(parse('-m 64M').qmp).toBeUndefined();
  });

  it('refuses what it does not implement, naming -qmp', () => {
    const cases: [string, RegExp][] = [
      ['-qmp stdio', /^-qmp: 'stdio' is not supported/],
      ['-qmp unix:/tmp/q.sock', /^-qmp: only server=on/],
      ['-qmp unix:/tmp/q.sock,server=on', /^-qmp: wait=on is not implemented/],
      ['-qmp unix:/tmp/q.sock,server=on,wait=off,bogus=1', /^-qmp: Invalid parameter 'bogus'/],
      ['-qmp unix:/a,server=on,wait=off -qmp unix:/b,server=on,wait=off', /^-qmp: only one QMP monitor/],
    ];
    for (const [line, message] of cases) {
      expect(() => parse(line), line).toThrow(OptionError);
      expect(() => parse(line), line).toThrow(message);
    }
  });
});
