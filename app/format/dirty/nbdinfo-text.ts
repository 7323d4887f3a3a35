// Extents printed exactly as `nbdinfo --map=CONTEXT [--json]` (libnbd info/map.c, print_extents
// and print_one_extent) prints them: JSON `[`, one `{ "offset": …, "length": …, "type": …,
// "description": "…"}` per extent joined by ",\n", `]`; text `%10u  %10u  %3u  description`.
// The text comes out in chunks of about 64 KiB, so that millions of extents stream out without
// one giant string.

import type { Extents } from './extents';

const CHUNK_CHARS = 64 * 1024;

const pad = (s: string, w: number) => (s.length >= w ? s : ' '.repeat(w - s.length) + s);

/** nbdinfo's print_json_string for the descriptions we use (plain ASCII words). */
const jsonString = (s: string) => JSON.stringify(s);

/** The chunks of nbdinfo's output for `e`; `descriptions[type]` names each type. */
export function* nbdinfoChunks(e: Extents, descriptions: readonly string[], json: boolean): Generator<string> {
  const quoted = descriptions.map(jsonString);
  let buf = json ? '[\n' : '';
  for (let i = 0; i < e.count; i++) {
    const start = e.start(i);
    const t = e.type(i);
    const len = e.end(i) - start;
    if (json) {
      const d = quoted[t];
      buf += `${i > 0 ? ',\n' : ''}{ "offset": ${start}, "length": ${len}, "type": ${t}${d === undefined ? '' : `, "description": ${d}`}}`;
    } else {
      const d = descriptions[t];
      buf += `${pad(String(start), 10)}  ${pad(String(len), 10)}  ${pad(String(t), 3)}${d === undefined ? '' : `  ${d}`}\n`;
    }
    if (buf.length >= CHUNK_CHARS) {
      yield buf;
      buf = '';
    }
  }
  if (json) buf += '\n]\n';
  if (buf) yield buf;
}

/** The whole text at once (for small maps and tests). */
export function nbdinfoText(e: Extents, descriptions: readonly string[], json: boolean): string {
  let s = '';
  for (const c of nbdinfoChunks(e, descriptions, json)) s += c;
  return s;
}
