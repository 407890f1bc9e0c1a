// Errors of the block layer. Every failure a user can cause (a corrupt image, a missing backing
// file, a full disk) is a BlockError with a message in qemu-img's words, so `viv img` prints it as
// qemu-img would and callers (virtio-blk, the image store) can map the code to their own status.

/** errno-style codes, as QEMU's block layer returns them (-EINVAL, -ENOSPC, ...). */
export type BlockErrorCode =
  | 'EINVAL' // bad argument or malformed image metadata
  | 'EIO' // corrupt image detected while doing I/O, or a host read/write failure
  | 'ENOSPC' // the host file system is full
  | 'ENOENT' // a file (image or backing file) does not exist
  | 'EACCES' // permission denied
  | 'EROFS' // write to an image opened read-only
  | 'ENOTSUP' // a feature we do not implement (encryption, external data files, ...)
  | 'EFBIG' // a table or size beyond the format's (or QEMU's) limits
  | 'ELOOP' // a backing chain that loops
  | 'EEXIST'
  | 'EBUSY'
  | 'ERANGE'; // a refcount would overflow its width

export class BlockError extends Error {
  constructor(
    readonly code: BlockErrorCode,
    message: string,
    /** Metadata found inconsistent during I/O (QEMU's qcow2_signal_corruption). */
    readonly corruption = false,
  ) {
    super(message);
    this.name = 'BlockError';
  }
}

/** An inconsistency found while using the image: EIO, and the image gets marked corrupt if writable. */
export function corruptionError(message: string): BlockError {
  return new BlockError('EIO', message, true);
}

/** Turns a host error (Node's fs) into a BlockError that keeps the errno code and strerror-like text. */
export function fromHostError(err: unknown, what?: string): BlockError {
  if (err instanceof BlockError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = (e && typeof e.code === 'string' ? e.code : 'EIO') as BlockErrorCode;
  const text = strerror(code, e?.message);
  return new BlockError(knownCodes.has(code) ? code : 'EIO', what ? `${what}: ${text}` : text);
}

const knownCodes = new Set<string>([
  'EINVAL', 'EIO', 'ENOSPC', 'ENOENT', 'EACCES', 'EROFS', 'ENOTSUP', 'EFBIG', 'ELOOP', 'EEXIST', 'EBUSY', 'ERANGE',
]);

/** glibc's strerror() texts for the codes we surface (qemu-img prints these). */
export function strerror(code: string, fallback?: string): string {
  switch (code) {
    case 'ENOENT': return 'No such file or directory';
    case 'EACCES': return 'Permission denied';
    case 'ENOSPC': return 'No space left on device';
    case 'EIO': return 'Input/output error';
    case 'EINVAL': return 'Invalid argument';
    case 'EROFS': return 'Read-only file system';
    case 'EFBIG': return 'File too large';
    case 'ENOTSUP': return 'Operation not supported';
    case 'EEXIST': return 'File exists';
    case 'EISDIR': return 'Is a directory';
    case 'ENOTDIR': return 'Not a directory';
    case 'ELOOP': return 'Too many levels of symbolic links';
    case 'EBUSY': return 'Device or resource busy';
    case 'EPERM': return 'Operation not permitted';
    case 'EDQUOT': return 'Disk quota exceeded';
    case 'ERANGE': return 'Numerical result out of range';
    default: return fallback ?? code;
  }
}
