// The hash as history (hash.ts's startHashSync) over a stand-in for the page's history: the
// person's tab, selection and zoom changes are entries; the map fitting again to a resized pane,
// or taking the zoom of an entry Back returned to, only updates the entry on screen, however late
// it comes (CI once saw a late refit become an entry, so a second Back stayed on the same tab).

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FileEntry } from './store';

/** A page's history of hashes with Back, firing hashchange as the browser does. */
class FakeHistory {
  entries = [''];
  index = 0;
  readonly state = null;
  readonly listeners: (() => void)[] = [];
  readonly location = { hash: '', pathname: '/qcowscope.html', search: '' };
  private hashOf(url: string): string {
    return url.startsWith('#') ? url : '';
  }
  pushState(_: unknown, __: string, url: string): void {
    this.entries = [...this.entries.slice(0, this.index + 1), this.hashOf(url)];
    this.index++;
    this.location.hash = this.hashOf(url);
  }
  replaceState(_: unknown, __: string, url: string): void {
    this.entries[this.index] = this.hashOf(url);
    this.location.hash = this.hashOf(url);
  }
  go(step: number): void {
    this.index += step;
    this.location.hash = this.entries[this.index]!;
    for (const l of this.listeners) l();
  }
}

let h: FakeHistory;

beforeEach(() => {
  vi.resetModules();
  vi.useFakeTimers();
  h = new FakeHistory();
  vi.stubGlobal('history', h);
  vi.stubGlobal('location', h.location);
  vi.stubGlobal('window', {
    addEventListener: (type: string, f: () => void) => {
      if (type === 'hashchange') h.listeners.push(f);
    },
    removeEventListener: () => {},
  });
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

/** The app's store and hash module, fresh, with one analysed file of 100 clusters on screen. */
async function start() {
  const { useApp } = await import('./store');
  const hash = await import('./hash');
  const stop = hash.startHashSync();
  const file = { index: 0, name: 'a.qcow2', size: 100 * 65536, result: { check: { clusterSize: 65536 } }, rolesReady: true } as unknown as FileEntry;
  useApp.setState({ job: 1, files: [file], current: 0 });
  const settle = () => vi.advanceTimersByTime(5000);
  return { useApp, noteZoom: hash.noteZoom, stop, settle };
}

describe('the view hash as history entries', () => {
  it("a file's first view replaces the page's entry; the person's tab, selection and zoom push", async () => {
    const { useApp, noteZoom, stop, settle } = await start();
    noteZoom(4);
    settle();
    expect(h.entries).toEqual(['#tab=overview&zoom=4']);
    useApp.setState({ tab: 'header' });
    settle();
    useApp.setState({ selection: 3 });
    settle();
    noteZoom(16, true);
    settle();
    expect(h.entries).toEqual(['#tab=overview&zoom=4', '#tab=header&zoom=4', '#tab=header&cluster=3&zoom=4', '#tab=header&cluster=3&zoom=16']);
    stop();
  });

  it('a late refit of the map (not the person) updates the entry on screen, and Back steps tab by tab', async () => {
    const { useApp, noteZoom, stop, settle } = await start();
    noteZoom(4);
    settle();
    useApp.setState({ tab: 'header' });
    settle();
    // The header panel's layout resized the map after the tab's entry was written: it fits again.
    noteZoom(4.5, false);
    settle();
    expect(h.entries).toEqual(['#tab=overview&zoom=4', '#tab=header&zoom=4.5']);
    useApp.setState({ selection: 3 });
    noteZoom(12);
    settle();
    expect(h.entries).toHaveLength(3);

    h.go(-1);
    expect(useApp.getState().tab).toBe('header');
    expect(useApp.getState().selection).toBeNull();
    expect(useApp.getState().viewRequest).toMatchObject({ zoom: 4.5, cluster: null });
    // The map takes the entry's zoom seconds later (a loaded machine): still no entry of its own.
    settle();
    noteZoom(4.5, false);
    settle();
    expect(h.entries).toHaveLength(3);
    expect(h.index).toBe(1);

    h.go(-1);
    expect(useApp.getState().tab).toBe('overview');
    settle();
    expect(h.index).toBe(0);
    expect(h.entries[0]).toBe('#tab=overview&zoom=4');
    h.go(1);
    expect(useApp.getState().tab).toBe('header');
    stop();
  });

  it('a change the person makes after Back is an entry, and drops the entries ahead', async () => {
    const { useApp, noteZoom, stop, settle } = await start();
    noteZoom(4);
    settle();
    useApp.setState({ tab: 'header' });
    settle();
    useApp.setState({ tab: 'check' });
    settle();
    h.go(-1);
    settle();
    expect(h.entries).toHaveLength(3);
    noteZoom(8, true);
    settle();
    expect(h.entries).toEqual(['#tab=overview&zoom=4', '#tab=header&zoom=4', '#tab=header&zoom=8']);
    expect(h.index).toBe(2);
    stop();
  });
});
