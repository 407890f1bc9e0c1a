// `viv serve`: the app in web mode. Starts the services and the web server on 127.0.0.1 and
// prints the URL (with its token) to open in a browser. Ctrl-C stops every running VM and exits.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AppServices } from '../main/services/app-services';
import { ensureDemoVm } from '../main/services/demo-vm';
import { UserError } from '../main/services/errors';
import { NodeForkLauncher } from '../main/services/launcher';
import { dataRoot } from '../main/services/paths';
import { appLocations } from '../main/web/app-paths';
import { startWebServer } from '../main/web/web-server';

const usage = `usage: viv serve [--port N] [--core-host MODULE] [--no-qmp] [--demo]

Serves the Vivarium app on http://127.0.0.1 (loopback only; the URL carries a secret token).
  --port N            listen on port N (default: a free port)
  --core-host MODULE  run VMs with MODULE instead of \`viv run\` (a stand-in for tests)
  --no-qmp            control core hosts with signals instead of QMP
  --demo              add the demo VM (the shared RISC-V guest) to the library if it is absent
The VM library lives in $XDG_DATA_HOME/vivarium (default ~/.local/share/vivarium).`;

export async function serveCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        'core-host': { type: 'string' },
        'no-qmp': { type: 'boolean' },
        demo: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`viv serve: ${(err as Error).message}\n${usage}`);
    return 1;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`viv serve: --port: '${values.port}' is not a port number`);
    return 1;
  }
  const where = appLocations(fileURLToPath(import.meta.url));
  if (!existsSync(where.rendererDir)) {
    console.error('viv serve: the renderer is not built; run `npm run build`');
    return 1;
  }
  const coreHost = values['core-host'];
  let services: AppServices;
  try {
    services = await AppServices.open({
      dataDir: dataRoot(),
      launcher: new NodeForkLauncher(),
      hostEntry: coreHost ?? where.vivEntry,
      hostArgsPrefix: ['run'],
      qmp: !values['no-qmp'],
      guestDir: where.guestDir,
      version: process.env.npm_package_version ?? '0.1.0',
    });
  } catch (err) {
    if (err instanceof UserError) {
      console.error(`viv serve: ${err.message}`);
      return 1;
    }
    throw err;
  }
  if (values.demo) {
    try {
      const demo = await ensureDemoVm(services, where.guestDir);
      if (demo) console.log(`Added the demo VM '${demo.name}' to the library.`);
    } catch (err) {
      console.error(`viv serve: ${(err as Error).message}`);
    }
  }
  const server = await startWebServer({ services, rendererDir: where.rendererDir, port });
  console.log(`Vivarium is running in web mode. Open this URL in a browser:\n\n  ${server.url}\n`);
  console.log(`Library: ${dataRoot()}${coreHost ? `\nCore host: ${coreHost} (stand-in)` : ''}`);
  console.log('Press Ctrl-C to stop (running VMs are powered off).');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      await server.close();
      await services.close();
      resolve(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
