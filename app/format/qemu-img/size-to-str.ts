// QEMU's size_to_str (util/cutils.c), which qemu-img's human output uses for every size.

/** "0 B", "512 KiB", "1.32 MiB": three significant digits (printf %0.3g), binary prefixes. */
export function sizeToStr(size: number | bigint): string {
  const val = Number(size);
  const x = val / (1000 / 1024);
  const exp = x === 0 ? 0 : Math.floor(Math.log2(x)) + 1;
  const i = Math.max(0, Math.trunc((exp - 1) / 10));
  const suffix = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'][i] ?? '';
  const v = val / 2 ** (i * 10);
  let n = v.toPrecision(3);
  // printf's %.3g rounds an exact tie to even (192.5 KiB → "192"); toPrecision rounds it up.
  if (v > 0) {
    const scale = 10 ** (2 - Math.floor(Math.log10(v)));
    const x = v * scale;
    if (x - Math.floor(x) === 0.5 && Math.floor(x) % 2 === 0) n = (Math.floor(x) / scale).toPrecision(3);
  }
  if (n.includes('.') && !n.includes('e')) n = n.replace(/0+$/, '').replace(/\.$/, '');
  return `${n} ${suffix}B`;
}
