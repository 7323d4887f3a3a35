// The legend's bytes per role: whole clusters, except the file's last cluster when the file ends inside it.
import { describe, expect, it } from 'vitest';
import { roleBytes, shortLastCluster } from './Legend';

describe('legend bytes', () => {
  const roles = Uint8Array.from([1, 13, 13, 0]);
  it('a file ending inside its last cluster counts only the bytes it has for that role', () => {
    const short = shortLastCluster(roles, 65536, 3 * 65536 + 64);
    expect(short).toEqual({ role: 0, missing: 65536 - 64 });
    expect(roleBytes(0, 1, 65536, short)).toBe(64);
    expect(roleBytes(13, 2, 65536, short)).toBe(2 * 65536);
  });
  it('a file of whole clusters, or one whose last cluster is not in the roles, changes nothing', () => {
    expect(shortLastCluster(roles, 65536, 4 * 65536)).toBeNull();
    expect(shortLastCluster(roles, 65536, 4 * 65536 + 1)).toBeNull();
    expect(roleBytes(0, 1, 65536, null)).toBe(65536);
  });
});
