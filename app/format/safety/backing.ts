// Backing file and external data file names, judged as QEMU would resolve them (block.c:
// path_has_protocol, bdrv_get_full_backing_filename): a `json:` description, a protocol prefix
// ("nbd:", "http:", "file:" — a ':' before any '/'), an absolute path, a relative path that leaves
// the image's folder through "..", or a plain relative path. Any of them makes an image unsafe.

import type { SafetyReason } from './types';

export type BackingKind = 'json' | 'protocol' | 'absolute' | 'escapes' | 'relative';

export interface BackingName {
  readonly kind: BackingKind;
  /** The protocol name for kind 'protocol' (e.g. "nbd"). */
  readonly protocol?: string;
}

/** How QEMU would read a backing file name. */
export function classifyBackingName(name: string): BackingName {
  if (name.startsWith('json:')) return { kind: 'json' };
  const stop = name.search(/[:/]/);
  if (stop > 0 && name[stop] === ':') return { kind: 'protocol', protocol: name.slice(0, stop) };
  if (name.startsWith('/')) return { kind: 'absolute' };
  let depth = 0;
  for (const part of name.split('/')) {
    if (part === '..') depth--;
    else if (part !== '' && part !== '.') depth++;
    if (depth < 0) return { kind: 'escapes' };
  }
  return { kind: 'relative' };
}

const quote = (s: string): string => JSON.stringify(s.length > 200 ? `${s.slice(0, 199)}…` : s);
/** Names are kept whole up to this many characters in a reason's `name`. */
const MAX_NAME = 4096;
const clip = (s: string): string => (s.length > MAX_NAME ? `${s.slice(0, MAX_NAME - 1)}…` : s);

const REBASE = "Check that the guest does not need the backing file's data, then drop the reference without reading it: " +
  "`qemu-img rebase -u -b '' FILE`; if it does need a base you trust, flatten it where that base is the only file it names: " +
  '`qemu-img convert -O qcow2 FILE NEW`.';

const NETWORK_PROTOCOLS = new Set(['nbd', 'nbd+unix', 'nbd+tcp', 'http', 'https', 'ftp', 'ftps', 'ssh', 'iscsi', 'nfs', 'gluster', 'rbd', 'sheepdog', 'vxhs', 'curl']);

/** The unsafe reason a backing file name gives (`offset`: where the name is in the file). */
export function backingReason(name: string, offset: number): SafetyReason {
  const b = classifyBackingName(name);
  const base = { kind: 'unsafe' as const, remedy: REBASE, name: clip(name), offset };
  switch (b.kind) {
    case 'json':
      return { ...base, code: 'backing-json', message: `The backing file is a json: block-device description: ${quote(name)}.`,
        consequence: 'QEMU builds whatever that description names — any driver, host file or network server, with options of its own — and shows it to the guest wherever the image has no data.' };
    case 'protocol': {
      const p = b.protocol ?? '';
      const network = NETWORK_PROTOCOLS.has(p.toLowerCase());
      return { ...base, code: 'backing-protocol', message: `The backing file names the protocol "${p}:": ${quote(name)}.`,
        consequence: network
          ? `QEMU connects to the ${p} server the image names when it opens the image, so a stranger's image makes the host reach out over the network and shows what comes back to the guest.`
          : `QEMU opens it through its "${p}" driver rather than as a plain file next to the image, so the image chooses what the host opens and shows it to the guest.` };
    }
    case 'absolute':
      return { ...base, code: 'backing-absolute', message: `The backing file is an absolute path: ${quote(name)}.`,
        consequence: 'QEMU opens that host file and shows its contents to the guest wherever the image has no data of its own, so the image can read any file the host can.' };
    case 'escapes':
      return { ...base, code: 'backing-escapes', message: `The backing file is a relative path that leaves the image's folder ("..") : ${quote(name)}.`,
        consequence: "QEMU opens a file outside the image's folder and shows it to the guest, so the image reaches files it was never given." };
    case 'relative':
      return { ...base, code: 'backing-relative', message: `The backing file is a relative path: ${quote(name)}.`,
        consequence: "QEMU opens the file of that name in the image's folder and shows it to the guest, so the image reads whatever the host keeps there (another user's image, for example)." };
  }
}

/** The unsafe reason an external data file gives (name null: the bit is set but no name is recorded). */
export function dataFileReason(name: string | null, offset: number): SafetyReason {
  return {
    code: 'data-file', kind: 'unsafe', offset,
    ...(name !== null ? { name: clip(name) } : {}),
    message: name !== null
      ? `The guest data lives in an external data file: ${quote(name)} (CVE-2024-32498).`
      : 'The image has the external data file bit set: its guest data lives in a file named when it is opened (CVE-2024-32498).',
    consequence: 'QEMU reads and writes the guest disk in that host file, so the image can show the guest any file the host can reach, and overwrite it.',
    remedy: 'Do not accept it as a standalone image; if the data file is one you trust, make a self-contained copy next to it: `qemu-img convert -O qcow2 FILE NEW` (check the name first).',
  };
}
