// The -o options of `create` (and `convert -O`, `measure`) for raw and qcow2: parsed and checked
// as QEMU's QemuOpts does, and printed in qemu-img's "Formatting ..." order.
import type { Preallocation, Qcow2CreateOptions } from '../../emulator-core/block';
import { CommandError, cvtnum, parseBool, parseOptionList, strtosz } from './common';
import { refuseUnsupported } from './unsupported';

export interface CreateOptionValues {
  /** Raw option strings as given (printed back as given, like QemuOpts). */
  given: Map<string, string>;
}

const QCOW2_OPTIONS = [
  'size', 'compat', 'backing_file', 'backing_fmt', 'cluster_size', 'preallocation', 'lazy_refcounts',
  'refcount_bits', 'compression_type', 'extended_l2', 'encryption', 'encrypt.format', 'encrypt.key-secret',
  'encrypt.cipher-alg', 'encrypt.cipher-mode', 'encrypt.ivgen-alg', 'encrypt.ivgen-hash-alg', 'encrypt.hash-alg',
  'encrypt.iter-time', 'data_file', 'data_file_raw',
];
const RAW_OPTIONS = ['size', 'preallocation'];
const FILE_OPTIONS = ['nocow', 'extent_size_hint'];

export function knownOptions(fmt: string): string[] {
  return fmt === 'qcow2' ? QCOW2_OPTIONS : RAW_OPTIONS;
}

/** Parses accumulated -o text into name -> value, refusing unknown and unsupported options. */
export function parseCreateOptions(fmt: string, text: string | undefined): Map<string, string> {
  const given = new Map<string, string>();
  if (!text) return given;
  const known = knownOptions(fmt);
  for (const [name, value] of parseOptionList(text)) {
    if (FILE_OPTIONS.includes(name)) refuseUnsupported(`Option '${name}'`);
    if (!known.includes(name)) throw new CommandError(`Invalid parameter '${name}'`);
    if (name.startsWith('encrypt') || name === 'data_file' || name === 'data_file_raw') refuseUnsupported(`Option '${name}'`);
    if (value === undefined && !['lazy_refcounts', 'extended_l2'].includes(name)) {
      throw new CommandError(`Parameter '${name}' is missing its value`);
    }
    given.set(name, value ?? 'on');
  }
  return given;
}

function sizeOption(name: string, value: string): number {
  const v = strtosz(value);
  if (v === undefined) throw new CommandError(`Parameter '${name}' expects a non-negative number below 2^64\nOptional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.`);
  return Number(v);
}

/** qcow2 create options from -o values (validated further by createQcow2). */
export function qcow2Options(given: Map<string, string>, size: number): Qcow2CreateOptions {
  const compat = given.get('compat');
  let version: 2 | 3 = 3;
  if (compat !== undefined) {
    if (compat === '0.10' || compat === 'v2') version = 2;
    else if (compat === '1.1' || compat === 'v3') version = 3;
    else throw new CommandError(`Parameter 'version' does not accept value '${compat}'`);
  }
  const ext = given.get('extended_l2');
  if (ext !== undefined && parseBool('extended_l2', ext)) refuseUnsupported('extended_l2=on');
  const ct = given.get('compression_type');
  if (ct !== undefined && ct !== 'zlib') {
    if (ct === 'zstd') refuseUnsupported('compression_type=zstd');
    throw new CommandError(`Parameter 'compression-type' does not accept value '${ct}'`);
  }
  const prealloc = given.get('preallocation');
  if (prealloc !== undefined && !['off', 'metadata', 'falloc', 'full'].includes(prealloc)) {
    throw new CommandError(`Parameter 'preallocation' does not accept value '${prealloc}'`);
  }
  const rb = given.get('refcount_bits');
  return {
    size,
    version,
    clusterSize: given.has('cluster_size') ? sizeOption('cluster_size', given.get('cluster_size')!) : undefined,
    preallocation: prealloc as Preallocation | undefined,
    lazyRefcounts: given.has('lazy_refcounts') ? parseBool('lazy_refcounts', given.get('lazy_refcounts')) : undefined,
    refcountBits: rb !== undefined ? Number(strtosz(rb) ?? NaN) : undefined,
    backingFile: given.get('backing_file'),
    backingFormat: given.get('backing_fmt'),
  };
}

const esc = (s: string) => s.replace(/,/g, ',,');

/** The options part of qemu-img's "Formatting 'f', fmt=qcow2 ..." line. */
export function formatOptionsLine(fmt: string, given: Map<string, string>, size: number): string {
  const parts: string[] = [];
  const str = (name: string) => given.has(name) && parts.push(`${name}=${esc(given.get(name)!)}`);
  const num = (name: string, def?: string) => {
    if (given.has(name)) parts.push(`${name}=${sizeOption(name, given.get(name)!)}`);
    else if (def !== undefined) parts.push(`${name}=${def}`);
  };
  const withDefault = (name: string, def: string) => parts.push(`${name}=${given.has(name) ? esc(given.get(name)!) : def}`);
  if (fmt === 'qcow2') {
    num('cluster_size', '65536');
    withDefault('extended_l2', 'off');
    str('preallocation');
    withDefault('compression_type', 'zlib');
    parts.push(`size=${size}`);
    str('backing_file');
    str('backing_fmt');
    str('compat');
    withDefault('lazy_refcounts', 'off');
    num('refcount_bits', '16');
  } else {
    parts.push(`size=${size}`);
    str('preallocation');
  }
  return parts.join(' ');
}

export { cvtnum };
