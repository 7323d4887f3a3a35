// qemu-img info's snapshot table (block/qapi.c bdrv_snapshot_dump). 7.2 prints
// "%-10s%-17s%8s%20s%13s%11s" headed "VM SIZE … VM CLOCK" with hours as %02d and an empty ICOUNT
// when there is none; 10.0 prints "%-7s %-16s %8s %19s %15s %10s" headed "VM_SIZE … VM_CLOCK",
// hours as %04d and "--" for no icount. printf pads by bytes, not characters. Dates are local time.

import type { QemuSnapshotInfo } from './info';
import { sizeToStr } from './size-to-str';
import type { QemuVersion } from './version';

const utf8Len = (s: string) => new TextEncoder().encode(s).length;
const padEnd = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - utf8Len(s)));
const padStart = (s: string, n: number) => ' '.repeat(Math.max(0, n - utf8Len(s))) + s;
const two = (n: number) => String(n).padStart(2, '0');

function columns(sn: QemuSnapshotInfo, hourDigits: number) {
  const d = new Date(Number(sn['date-sec']) * 1000);
  const date = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  const secs = Number(sn['vm-clock-sec']);
  const hours = String(Math.trunc(secs / 3600)).padStart(hourDigits, '0');
  const clock = `${hours}:${two(Math.trunc(secs / 60) % 60)}:${two(secs % 60)}.${String(Math.trunc(sn['vm-clock-nsec'] / 1e6) % 1000).padStart(3, '0')}`;
  return { date, clock, size: sizeToStr(sn['vm-state-size']) };
}

function row72(sn: QemuSnapshotInfo): string {
  const c = columns(sn, 2);
  const icount = sn.icount === undefined ? '' : String(sn.icount);
  return `${padEnd(sn.id, 9)} ${padEnd(sn.name, 16)} ${padStart(c.size, 8)}${padStart(c.date, 20)}${padStart(c.clock, 13)}${padStart(icount, 11)}\n`;
}

function row10(sn: QemuSnapshotInfo): string {
  const c = columns(sn, 4);
  const icount = sn.icount === undefined ? '--' : String(sn.icount);
  return `${padEnd(sn.id, 7)} ${padEnd(sn.name, 16)} ${padStart(c.size, 8)} ${padStart(c.date, 19)} ${padStart(c.clock, 15)} ${padStart(icount, 10)}\n`;
}

/** The header line and one line per snapshot, as `version` prints them. */
export function snapshotTable(list: readonly QemuSnapshotInfo[], version: QemuVersion): string {
  if (version === '10.0') {
    return `${padEnd('ID', 7)} ${padEnd('TAG', 16)} ${padStart('VM_SIZE', 8)} ${padStart('DATE', 19)} ${padStart('VM_CLOCK', 15)} ${padStart('ICOUNT', 10)}\n`
      + list.map(row10).join('');
  }
  return `${padEnd('ID', 10)}${padEnd('TAG', 17)}${padStart('VM SIZE', 8)}${padStart('DATE', 20)}${padStart('VM CLOCK', 13)}${padStart('ICOUNT', 11)}\n`
    + list.map(row72).join('');
}
