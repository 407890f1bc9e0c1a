// `viv img --help` and `-o help`: what we support, in qemu-img's layout.
import { out } from './common';

const commands = [
  'check [-q] [-f fmt] [--output=ofmt] [-r [leaks | all]] [-T src_cache] [-U] filename',
  'commit [-q] [-f fmt] [-t cache] [-b base] [-d] [-p] filename',
  'compare [-f fmt] [-F fmt] [-T src_cache] [-p] [-q] [-s] [-U] filename1 filename2',
  'convert [-U] [-c] [-p] [-q] [-n] [-f fmt] [-t cache] [-T src_cache] [-O output_fmt] [-B backing_file [-F backing_fmt]] [-o options] [-S sparse_size] [-m num_coroutines] [-W] filename [filename2 [...]] output_filename',
  'create [-q] [-f fmt] [-b backing_file [-F backing_fmt]] [-u] [-o options] filename [size]',
  'info [-f fmt] [--output=ofmt] [--backing-chain] [-U] filename',
  'map [-f fmt] [--start-offset=offset] [--max-length=len] [--output=ofmt] [-U] filename',
  'measure [--output=ofmt] [-O output_fmt] [-o options] [--size N | [-f fmt] filename]',
  'snapshot [-U] [-q] [-l | -a snapshot | -c snapshot | -d snapshot] filename',
  'rebase [-U] [-q] [-f fmt] [-t cache] [-T src_cache] [-p] [-u] -b backing_file [-F backing_fmt] filename',
  'resize [-f fmt] [--preallocation=prealloc] [-q] [--shrink] filename [+ | -]size',
];

export function printHelp(): number {
  out(`usage: viv img [standard options] command [command options]
Disk image utility (qemu-img's subcommands, options and output)

    '-h', '--help'       display this help and exit
    '-V', '--version'    output version information and exit

Command syntax:
${commands.map((c) => `  ${c}`).join('\n')}

Not supported: amend, bench, bitmap, dd; --object, --image-opts; formats other than raw and qcow2.

Command parameters:
  'filename' is a disk image filename
  'fmt' is the disk image format (raw or qcow2). It is guessed automatically in most cases
  'size' is the disk image size in bytes. Optional suffixes
    'k' or 'K' (kilobyte, 1024), 'M' (megabyte, 1024k), 'G' (gigabyte, 1024M),
    'T' (terabyte, 1024G), 'P' (petabyte, 1024T) and 'E' (exabyte, 1024P)  are
    supported. 'b' is ignored.
  'options' is a comma separated list of format specific options in a
    name=value format. Use -o help for an overview of the options supported by
    the used format
  '-c' indicates that target image must be compressed (qcow format only)
  '-u' allows unsafe backing chains (see qemu-img(1))
  '-p' show progress of command (only certain commands)
  '-q' use Quiet mode - do not print any output (except errors)

Parameters to check subcommand:
  '-r' tries to repair any inconsistencies that are found during the check.
       '-r leaks' repairs only cluster leaks, whereas '-r all' fixes all
       kinds of errors.

Parameters to snapshot subcommand:
  'snapshot' is the name of the snapshot to create, apply or delete
  '-a' applies a snapshot (revert disk to saved state)
  '-c' creates a snapshot
  '-d' deletes a snapshot
  '-l' lists all snapshots in the given image

Parameters to compare subcommand:
  '-f' first image format
  '-F' second image format
  '-s' run in Strict mode - fail on different image size or sector allocation

Supported formats: qcow2 raw
`);
  return 0;
}

const qcow2Help = `Supported qcow2 options:
  backing_file=<str>     - File name of a base image
  backing_fmt=<str>      - Image format of the base image
  cluster_size=<size>    - qcow2 cluster size
  compat=<str>           - Compatibility level (v2 [0.10] or v3 [1.1])
  compression_type=<str> - Compression method used for image cluster compression
  extended_l2=<bool (on/off)> - Extended L2 tables
  lazy_refcounts=<bool (on/off)> - Postpone refcount updates
  preallocation=<str>    - Preallocation mode (allowed values: off, metadata, falloc, full)
  refcount_bits=<num>    - Width of a reference count entry in bits
  size=<size>            - Virtual disk size
`;

const rawHelp = `Supported raw options:
  size=<size>            - Virtual disk size
`;

export function printCreateOptionsHelp(fmt: string): number {
  if (fmt !== 'qcow2' && fmt !== 'raw') {
    process.stderr.write(`viv img: Unknown file format '${fmt}'\n`);
    return 1;
  }
  out(`${fmt === 'qcow2' ? qcow2Help : rawHelp}\nThe protocol level may support further options.\nSpecify the target filename to include those options.\n`);
  return 0;
}
