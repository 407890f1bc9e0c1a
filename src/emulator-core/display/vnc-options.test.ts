import { describe, expect, it } from 'vitest';
import { VncOptionError, parseVncOption } from './vnc-options';

describe('-vnc option', () => {
  it('parses :N as loopback port 5900+N with QEMU defaults', () => {
    expect(parseVncOption(':1')).toEqual({
      listen: { kind: 'tcp', host: '127.0.0.1', port: 5901, display: 1, lastPort: 5901 },
      websocket: null,
      password: false,
      share: 'allow-exclusive',
      connections: 32,
      lossy: false,
      nonAdaptive: false,
      keyDelayMs: 10,
    });
  });

  it('takes a host, an IPv6 address, a unix socket and none', () => {
    expect(parseVncOption('0.0.0.0:2').listen).toMatchObject({ kind: 'tcp', host: '0.0.0.0', port: 5902 });
    expect(parseVncOption('[::1]:0').listen).toMatchObject({ kind: 'tcp', host: '::1', port: 5900 });
    expect(parseVncOption(':3,ipv6').listen).toMatchObject({ host: '::1', port: 5903 });
    expect(parseVncOption('unix:/tmp/v,,x.sock').listen).toEqual({ kind: 'unix', path: '/tmp/v,x.sock' });
    expect(parseVncOption('none').listen).toBeNull();
  });

  it('parses password, share, to, connections and websocket forms', () => {
    const c = parseVncOption(':1,password=on,share=force-shared,to=5,connections=4,lossy,key-delay-ms=0');
    expect(c).toMatchObject({ password: true, share: 'force-shared', connections: 4, lossy: true, keyDelayMs: 0 });
    expect(c.listen).toMatchObject({ port: 5901, lastPort: 5905 });
    expect(parseVncOption(':1,password').password).toBe(true);
    expect(parseVncOption(':1,password=off').password).toBe(false);
    expect(parseVncOption(':1,websocket').websocket).toEqual({ host: '127.0.0.1', port: 5701 });
    expect(parseVncOption(':1,websocket=on').websocket).toEqual({ host: '127.0.0.1', port: 5701 });
    expect(parseVncOption(':1,websocket=6080').websocket).toEqual({ host: '127.0.0.1', port: 6080 });
    expect(parseVncOption('unix:/s,websocket=0.0.0.0:6080').websocket).toEqual({ host: '0.0.0.0', port: 6080 });
    expect(parseVncOption(':1,websocket=off').websocket).toBeNull();
    expect(parseVncOption('unix:/s,websocket=127.0.0.1:0,password=on')).toMatchObject({ websocket: { host: '127.0.0.1', port: 0 }, password: true });
  });

  it('rejects what it cannot honour, saying what', () => {
    const bad: [string, RegExp][] = [
      ['', /expected \[HOST\]:N/],
      ['localhost', /expected/],
      [':x', /not a number/],
      [':70000', /outside/],
      [':1,share=sometimes', /share=/],
      [':1,password=maybe', /on or off/],
      [':1,tls-creds=tls0', /'tls-creds' is not supported/],
      [':1,reverse=on', /'reverse' is not supported/],
      [':1,frobnicate', /unknown option 'frobnicate'/],
      [':5,to=2', /below display/],
      ['unix:/s,websocket', /needs a TCP display/],
      ['unix:', /socket path/],
    ];
    for (const [text] of bad) expect(() => parseVncOption(text), text).toThrow(VncOptionError);
    for (const [text, msg] of bad) expect(() => parseVncOption(text), text).toThrow(msg);
    expect(parseVncOption(':1,reverse=off').listen).not.toBeNull();
  });
});
