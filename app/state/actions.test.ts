import { beforeEach, describe, expect, it } from 'vitest';
import type { AnalysisResult, HeaderStagePayload } from '../worker/protocol';
import { applyEvent, markMapShown } from './actions';
import { getClusterArrays } from './registry';
import { pageState } from './selectors';
import { initialState, newFileEntry, useApp } from './store';

// The events stand in for the worker's messages; only the fields the store reads are filled.
const stage = { header: { clusterSize: 65536 } } as unknown as HeaderStagePayload;
const result = { findings: [], structures: {}, check: {} } as unknown as AnalysisResult;

function start(job: number, names: string[]): void {
  useApp.setState({ ...initialState, job, jobStatus: 'running', files: names.map((n, i) => newFileEntry(i, { name: n, size: 1 << 20 })), current: 0 });
}

describe('applyEvent', () => {
  beforeEach(() => start(7, ['overlay.qcow2', 'base.qcow2']));

  it('walks the page state through reading, scanning and done', () => {
    expect(pageState(useApp.getState())).toBe('reading');
    applyEvent({ type: 'plan', job: 7, order: [0, 1], backing: [1, null], missing: [null, null] });
    applyEvent({ type: 'header', job: 7, file: 0, stage });
    expect(pageState(useApp.getState())).toBe('scanning');
    expect(useApp.getState().files[0]!.backing).toBe(1);
    applyEvent({ type: 'progress', job: 7, file: 0, phase: 'l2', done: 1, total: 4 });
    expect(useApp.getState().files[0]!.progress).toEqual({ phase: 'l2', done: 1, total: 4 });
    applyEvent({ type: 'result', job: 7, file: 0, analysis: result, estimate: null, ms: 3 });
    // Not done while the backing file is still being analysed.
    expect(pageState(useApp.getState())).toBe('scanning');
    applyEvent({ type: 'header', job: 7, file: 1, stage });
    applyEvent({ type: 'result', job: 7, file: 1, analysis: result, estimate: null, ms: 2 });
    expect(pageState(useApp.getState())).toBe('scanning');
    applyEvent({ type: 'job-done', job: 7 });
    expect(pageState(useApp.getState())).toBe('done');
  });

  it('is not done before the map has drawn the roles it was sent', () => {
    applyEvent({ type: 'header', job: 7, file: 0, stage });
    applyEvent({ type: 'cluster-array', job: 7, file: 0, name: 'roles', start: 0, total: 2, chunk: new Uint8Array([1, 13]) });
    applyEvent({ type: 'result', job: 7, file: 0, analysis: result, estimate: null, ms: 3 });
    applyEvent({ type: 'failed', job: 7, file: 1, code: 'NOT_QCOW2', message: 'empty file (0 bytes)', notQcow2: true });
    applyEvent({ type: 'job-done', job: 7 });
    expect(pageState(useApp.getState())).toBe('scanning');
    markMapShown(6, 0);
    expect(pageState(useApp.getState())).toBe('scanning');
    markMapShown(7, 0);
    expect(pageState(useApp.getState())).toBe('done');
  });

  it('keeps the convert estimate the worker sent with the result', () => {
    const estimate = { required: 196_608n, lessThanFile: 851_968n };
    applyEvent({ type: 'result', job: 7, file: 1, analysis: result, estimate, ms: 2 });
    expect(useApp.getState().files[1]!.estimate).toEqual(estimate);
    expect(useApp.getState().files[0]!.estimate).toBeNull();
  });

  it('shows the top of the chain first', () => {
    applyEvent({ type: 'plan', job: 7, order: [1, 0], backing: [null, 0], missing: [null, null] });
    expect(useApp.getState().current).toBe(1);
  });

  it('ignores messages of an abandoned job', () => {
    applyEvent({ type: 'header', job: 6, file: 0, stage });
    applyEvent({ type: 'job-done', job: 6 });
    expect(useApp.getState().files[0]!.stage).toBeNull();
    expect(useApp.getState().jobStatus).toBe('running');
  });

  it('assembles per-cluster arrays sent in batches outside the store', () => {
    applyEvent({ type: 'cluster-array', job: 7, file: 0, name: 'roles', start: 0, total: 6, chunk: new Uint8Array([1, 2, 3]) });
    expect(useApp.getState().files[0]!.rolesReady).toBe(false);
    applyEvent({ type: 'cluster-array', job: 7, file: 0, name: 'roles', start: 3, total: 6, chunk: new Uint8Array([4, 5, 6]) });
    expect(useApp.getState().files[0]!.rolesReady).toBe(true);
    expect(useApp.getState().files[0]!.arraysVersion).toBe(2);
    expect([...getClusterArrays(7, 0)!.roles!]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('stores a usage summary outside the file entries: only usageVersion changes', () => {
    const before = useApp.getState();
    const usage = { clusters: 10, perBucket: 3, used: new Uint32Array([1, 0, 3, 1]), inUse: 5 };
    applyEvent({ type: 'usage', job: 7, file: 0, usage });
    const after = useApp.getState();
    // The same files array (no panel that reads it re-renders), the summary in the registry.
    expect(after.files).toBe(before.files);
    expect(after.usageVersion).toBe(before.usageVersion + 1);
    expect(getClusterArrays(7, 0)!.usage).toBe(usage);
  });

  it('keeps the latest owner summary that fits the usage summary, outside the file entries', () => {
    start(9, ['a.qcow2']); // a job of its own: the registry outlives the store's reset
    const usage = { clusters: 10, perBucket: 3, used: new Uint32Array([1, 0, 3, 1]), inUse: 5 };
    const owners = (done: number, n = 4, perBucket = 3) => ({ perBucket, masks: new Uint32Array(n).fill(done + 2), roles: done + 2, after: -1, from: 0, to: n, done, total: 64 });
    // Before its usage summary: nothing to refine, dropped.
    applyEvent({ type: 'owners', job: 9, file: 0, owners: owners(0) });
    expect(getClusterArrays(9, 0)?.owners).toBeUndefined();
    applyEvent({ type: 'usage', job: 9, file: 0, usage });
    const before = useApp.getState();
    const first = owners(0);
    applyEvent({ type: 'owners', job: 9, file: 0, owners: first });
    expect(useApp.getState().files).toBe(before.files);
    expect(useApp.getState().usageVersion).toBe(before.usageVersion + 1);
    expect(getClusterArrays(9, 0)!.owners).toBe(first);
    // Other buckets, or older than the one kept: dropped, no re-render.
    const later = owners(32);
    applyEvent({ type: 'owners', job: 9, file: 0, owners: later });
    for (const bad of [owners(40, 3), owners(40, 4, 4), owners(16)]) applyEvent({ type: 'owners', job: 9, file: 0, owners: bad });
    expect(getClusterArrays(9, 0)!.owners).toBe(later);
    expect(useApp.getState().usageVersion).toBe(before.usageVersion + 2);
  });

  it('reports a file that is not qcow2 as the error state with its message', () => {
    applyEvent({ type: 'failed', job: 7, file: 0, code: 'NOT_QCOW2', message: 'VMDK sparse extent (VMware, version 1)', notQcow2: true });
    expect(pageState(useApp.getState())).toBe('error');
    expect(useApp.getState().files[0]!.failure).toEqual({ code: 'NOT_QCOW2', message: 'VMDK sparse extent (VMware, version 1)', notQcow2: true });
  });

  it('surfaces a dead worker as an error, and a cancel as idle', () => {
    applyEvent({ type: 'cancelled', job: 7 });
    expect(pageState(useApp.getState())).toBe('idle');
    applyEvent({ type: 'worker-error', job: 7, message: 'the analysis worker died: boom (a new one has been started)' });
    expect(pageState(useApp.getState())).toBe('error');
    expect(useApp.getState().error).toContain('boom');
  });
});
