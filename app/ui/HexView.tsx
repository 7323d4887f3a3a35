// A virtualised hex dump of one cluster (up to 2 MiB: 131072 rows): file offset, 16 bytes in hex,
// and their ASCII. Offsets are 0x-prefixed hex like every offset on the page (decimal on hover).
// Only the visible rows are in the DOM.

import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef } from 'react';
import { hexByte } from './format';

const ROW_PX = 18;

function ascii(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
  }
  return s;
}

function hexRow(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += hexByte(bytes[i]!) + (i - start === 7 ? '  ' : ' ');
  return s;
}

export function HexView({ bytes, baseOffset, label }: { bytes: Uint8Array; baseOffset: number; label: string }) {
  const parent = useRef<HTMLDivElement>(null);
  const rows = Math.ceil(bytes.length / 16);
  const v = useVirtualizer({ count: rows, getScrollElement: () => parent.current, estimateSize: () => ROW_PX, overscan: 12 });
  const digits = Math.max(8, (baseOffset + bytes.length).toString(16).length);
  return (
    <div ref={parent} className="hex-view" tabIndex={0} role="region" aria-label={label} data-testid="hex-view">
      <div style={{ height: v.getTotalSize(), position: 'relative' }}>
        {v.getVirtualItems().map((r) => {
          const start = r.index * 16;
          const end = Math.min(bytes.length, start + 16);
          return (
            <div key={r.key} className="hex-row" style={{ position: 'absolute', top: 0, transform: `translateY(${r.start}px)`, height: ROW_PX }}>
              <span className="hex-off" title={`${(baseOffset + start).toLocaleString('en-US')} (decimal)`}>0x{(baseOffset + start).toString(16).padStart(digits, '0')}</span>
              <span className="hex-bytes">{hexRow(bytes, start, end)}</span>
              <span className="hex-ascii">{ascii(bytes, start, end)}</span>
            </div>
          );
        })}
      </div>
    </div>
  );
}
