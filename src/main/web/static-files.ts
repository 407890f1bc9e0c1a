// Serves the built renderer (out/renderer). Paths are resolved inside the folder and anything
// that escapes it is refused; index.html for the root.
import { promises as fs } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

export async function serveStatic(root: string, rest: string, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  let rel: string;
  try {
    rel = decodeURIComponent(rest);
  } catch {
    rel = '\0';
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  const file = path.resolve(root, '.' + rel);
  if (rel.includes('\0') || !file.startsWith(path.resolve(root) + path.sep)) {
    res.writeHead(404, headers).end('not found');
    return;
  }
  try {
    const body = await fs.readFile(file);
    res.writeHead(200, { ...headers, 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404, headers).end('not found');
  }
}
