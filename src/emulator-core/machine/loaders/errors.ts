/** A kernel, initrd or firmware that cannot be loaded: the message says which file and why. */
export class LoadError extends Error {
  override readonly name = 'LoadError';
}
