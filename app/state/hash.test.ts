// The URL hash holds only three checked values: a known tab, a cluster index and a zoom. Anything
// else in it — unknown tabs, negative or huge numbers, URLs, script — is dropped, never followed.

import { describe, expect, it } from 'vitest';
import { formatHash, parseHash } from './hash';

describe('the view in the URL hash', () => {
  it('reads what it writes', () => {
    const v = { tab: 'check', cluster: 123, zoom: 8 } as const;
    expect(formatHash(v)).toBe('tab=check&cluster=123&zoom=8');
    expect(parseHash(`#${formatHash(v)}`)).toEqual(v);
    expect(parseHash('#tab=bitmaps')).toEqual({ tab: 'bitmaps' });
    expect(formatHash({ tab: 'space', zoom: 0.0123456 })).toBe('tab=space&zoom=0.0123');
    expect(parseHash('#tab=space&zoom=0.0123')).toEqual({ tab: 'space', zoom: 0.0123 });
  });

  it('drops unknown tabs and out-of-range or non-decimal numbers', () => {
    expect(parseHash('#tab=evil&cluster=-1&zoom=0')).toEqual({});
    expect(parseHash('#tab=__proto__&cluster=1e5&zoom=Infinity')).toEqual({});
    expect(parseHash('#cluster=4294967296&zoom=2000')).toEqual({});
    expect(parseHash('#cluster=0x10&zoom=-3')).toEqual({});
  });

  it('is never a place to go: URLs and markup are ignored', () => {
    expect(parseHash('#https://example.com/x')).toEqual({});
    expect(parseHash('#tab=javascript:alert(1)&cluster=<img src=x>')).toEqual({});
    expect(parseHash('#' + 'tab=check&'.repeat(200) + 'cluster=5')).toEqual({ tab: 'check' });
  });
});
