// Where a sparse raw file has data, without reading its holes: what qemu-img learns with
// lseek(SEEK_DATA/SEEK_HOLE). Node has no lseek, and a native addon is not an option, so on
// Linux we ask the system's Perl (perl-base is part of every Debian/Ubuntu system), whose
// sysseek passes any `whence` to lseek. Reading a 1 GiB image that is a third holes costs ~60 ms
// of CPU in page-cache copies plus ~15 ms comparing the zeros; the helper costs ~5 ms of CPU
// in the child and ~6 ms here, and runs while the target is being created.
//
// Everything about it is optional: a file with no holes (st_blocks covers st_size) is not
// mapped; no Perl, another OS, an error or an answer that does not parse or is not ordered and
// inside the file means null, and the caller reads the whole file as before.
import { stat } from 'node:fs/promises';
import { resolve as absolutePath } from 'node:path';

/** Linux's lseek whence values (macOS has them the other way round, hence Linux only). */
const SEEK_DATA = 3;
const SEEK_HOLE = 4;
/** errno when SEEK_DATA finds no data after the offset. */
const ENXIO = 6;

// Prints "start end" per data extent; exit 0 only if the whole file was walked.
const SCRIPT = [
  'open(my $f, "<", $ARGV[0]) or exit 1;',
  'my $end = -s $f; my $p = 0;',
  'while ($p < $end) {',
  `  my $d = sysseek($f, $p, ${SEEK_DATA});`,
  `  if (!defined $d) { exit($! == ${ENXIO} ? 0 : 1) }`,
  `  my $h = sysseek($f, $d, ${SEEK_HOLE}); exit 1 unless defined $h;`,
  '  print $d + 0, " ", $h + 0, "\\n"; $p = $h + 0;',
  '}',
].join('\n');

export interface DataExtent {
  offset: number;
  length: number;
}

/**
 * The data extents of the raw file `path` (`size` bytes), in order, or null when unknown (then
 * every byte must be treated as data). Bytes outside the extents read as zeros.
 */
export async function rawDataExtents(path: string, size: number): Promise<DataExtent[] | null> {
  if (process.platform !== 'linux' || size === 0) return null;
  try {
    const st = await stat(path);
    if (!st.isFile() || st.size !== size || st.blocks * 512 >= size) return null;
  } catch {
    return null;
  }
  // Loaded here, not at start-up: child_process pulls in net and streams (~5 ms).
  const { spawn } = await import('node:child_process');
  const text = await new Promise<string | null>((resolve) => {
    // No environment: PERL5OPT, PERL5LIB and the like must not change what runs.
    // An absolute name after `--`: nothing in it can read as a Perl option.
    const child = spawn('perl', ['-e', SCRIPT, '--', absolutePath(path)], { env: {}, stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.on('error', () => resolve(null));
    child.on('close', (code) => resolve(code === 0 ? Buffer.concat(chunks).toString('latin1') : null));
  });
  return text === null ? null : parseExtents(text, size);
}

/** "start end" lines, in order and not overlapping, inside [0, size]; anything else is null. */
export function parseExtents(text: string, size: number): DataExtent[] | null {
  const out: DataExtent[] = [];
  let last = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^(\d+) (\d+)$/.exec(line);
    if (!m) return null;
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), size);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < last || end <= start) return null;
    out.push({ offset: start, length: end - start });
    last = end;
  }
  return out;
}
