import { describe, expect, it } from 'vitest';
import { isFromWorker, isToWorker } from './protocol';
import { packGuestMap } from './result-wire';

describe('isFromWorker', () => {
  it('accepts well-formed messages of every kind', () => {
    const good: unknown[] = [
      { type: 'plan', job: 1, order: [1, 0], backing: [1, null], missing: [null, null] },
      { type: 'header', job: 1, file: 0, stage: { header: {} } },
      { type: 'structures', job: 1, file: 0, structures: { header: {} } },
      { type: 'progress', job: 1, file: 0, phase: 'l2', done: 3, total: 10 },
      { type: 'findings', job: 1, file: 0, findings: [{ code: 'LEAK', message: 'Leaked cluster 13 refcount=1 reference=0' }] },
      { type: 'usage', job: 1, file: 0, usage: { clusters: 10, perBucket: 3, used: new Uint32Array(4), inUse: 0 } },
      { type: 'owners', job: 1, file: 0, owners: { perBucket: 3, masks: new Uint32Array(4), roles: 0, after: -1, from: 0, to: 4, done: 0, total: 64 } },
      { type: 'cluster-array', job: 1, file: 0, name: 'roles', start: 0, total: 4, chunk: new Uint8Array(4) },
      { type: 'cluster-array', job: 1, file: 0, name: 'roles', start: 0, total: 4, chunk: new Uint8Array(4), roleCounts: new Uint32Array(256) },
      { type: 'cluster-array', job: 1, file: 0, name: 'storedRefcounts', start: 2, total: 4, chunk: new Uint32Array(2) },
      { type: 'result', job: 1, file: 0, analysis: { structures: {}, check: {} }, guestMap: packGuestMap([]), estimate: null, ms: 12.5 },
      { type: 'result', job: 1, file: 0, analysis: { structures: {}, check: {} }, guestMap: packGuestMap([]), estimate: { required: 1n, lessThanFile: -1n }, ms: 1 },
      { type: 'failed', job: 1, file: 0, code: 'NOT_QCOW2', message: 'empty file (0 bytes)', notQcow2: true },
      { type: 'job-done', job: 1 },
      { type: 'cancelled', job: 1 },
      { type: 'cluster-bytes', request: 3, offset: 65536, bytes: new Uint8Array(8) },
      { type: 'cluster-error', request: 3, message: 'gone' },
      { type: 'internal-error', message: 'bug' },
    ];
    for (const m of good) expect(isFromWorker(m), JSON.stringify(m, (_k, v: unknown) => (ArrayBuffer.isView(v) ? 'typed' : typeof v === 'bigint' ? `${v}n` : v))).toBe(true);
  });

  it('rejects unknown types, missing fields and wrong field types', () => {
    const bad: unknown[] = [
      null, 42, 'header', {}, { type: 'nope', job: 1 },
      { type: 'header', job: 1, stage: { header: {} } },
      { type: 'progress', job: 1, file: 0, phase: 'teleport', done: 1, total: 2 },
      { type: 'progress', job: 1, file: 0, phase: 'l2', done: '1', total: 2 },
      { type: 'findings', job: 1, file: 0, findings: [{ code: 7 }] },
      { type: 'cluster-array', job: 1, file: 0, name: 'roles', start: 0, total: 4, chunk: [0, 0, 0, 0] },
      { type: 'cluster-array', job: 1, file: 0, name: 'roles', start: 2, total: 4, chunk: new Uint8Array(4) },
      { type: 'cluster-array', job: 1, file: 0, name: 'roles', start: 0, total: 4, chunk: new Uint8Array(4), roleCounts: new Uint32Array(255) },
      { type: 'cluster-array', job: 1, file: 0, name: 'roles', start: 0, total: 8, chunk: new Uint8Array(4), roleCounts: new Uint32Array(256) },
      { type: 'cluster-array', job: 1, file: 0, name: 'storedRefcounts', start: 0, total: 4, chunk: new Uint16Array(4), roleCounts: new Uint32Array(256) },
      { type: 'cluster-array', job: 1, file: 0, name: 'owners', start: 0, total: 4, chunk: new Uint8Array(4) },
      { type: 'failed', job: 1, file: 0, code: 'X', message: 'm' },
      { type: 'usage', job: 1, file: 0, usage: { clusters: 10, perBucket: 3, used: new Uint32Array(3), inUse: 0 } },
      { type: 'usage', job: 1, file: 0, usage: { clusters: 10, perBucket: 3, used: new Uint32Array(4) } },
      { type: 'usage', job: 1, file: 0, usage: { clusters: 10, perBucket: 3, used: new Uint32Array(4), inUse: 11 } },
      { type: 'usage', job: 1, file: 0, usage: { clusters: 10, perBucket: 0, used: new Uint32Array(0) } },
      { type: 'usage', job: 1, file: 0, usage: { clusters: 4, perBucket: 1, used: [0, 1, 1, 0] } },
      { type: 'owners', job: 1, file: 0, owners: { perBucket: 3, masks: [0, 2], roles: 2, after: -1, from: 0, to: 2, done: 0, total: 64 } },
      { type: 'owners', job: 1, file: 0, owners: { perBucket: 0, masks: new Uint32Array(4), roles: 0, after: -1, from: 0, to: 4, done: 0, total: 64 } },
      { type: 'owners', job: 1, file: 0, owners: { perBucket: 3, masks: new Uint32Array(4), roles: 0, after: -1, from: 0, to: 4, done: 65, total: 64 } },
      { type: 'owners', job: 1, owners: { perBucket: 3, masks: new Uint32Array(4), roles: 0, after: -1, from: 0, to: 4, done: 0, total: 64 } },
      { type: 'owners', job: 1, file: 0, owners: { perBucket: 3, masks: new Uint32Array(4), roles: 0, after: -1, from: 2, to: 5, done: 0, total: 64 } },
      { type: 'owners', job: 1, file: 0, owners: { perBucket: 3, masks: new Uint32Array(4), done: 0, total: 64 } },
      { type: 'cluster-bytes', request: 1, offset: 0, bytes: 'AAAA' },
      { type: 'job-done', job: Number.NaN },
      { type: 'result', job: 1, file: 0, analysis: { structures: {}, check: {} }, ms: 12.5 },
      { type: 'result', job: 1, file: 0, analysis: { structures: {}, check: {} }, guestMap: [], estimate: null, ms: 12.5 },
      { type: 'result', job: 1, file: 0, analysis: { structures: {}, check: {} }, guestMap: packGuestMap([]), estimate: { required: 1, lessThanFile: 0 }, ms: 1 },
      { type: 'result', job: 1, file: 0, analysis: { structures: {}, check: {} }, guestMap: packGuestMap([]), ms: 1 },
    ];
    for (const m of bad) expect(isFromWorker(m)).toBe(false);
  });
});

describe('isToWorker', () => {
  it('accepts analyze with Files, cancel and read-cluster', () => {
    expect(isToWorker({ type: 'analyze', job: 1, files: [new File([new Uint8Array(4)], 'a.qcow2')] })).toBe(true);
    expect(isToWorker({ type: 'cancel', job: 1 })).toBe(true);
    expect(isToWorker({ type: 'read-cluster', request: 1, job: 1, file: 0, index: 5 })).toBe(true);
  });

  it('rejects analyze without files or with non-Files, and negative clusters', () => {
    expect(isToWorker({ type: 'analyze', job: 1, files: [] })).toBe(false);
    expect(isToWorker({ type: 'analyze', job: 1, files: ['a.qcow2'] })).toBe(false);
    expect(isToWorker({ type: 'read-cluster', request: 1, job: 1, file: 0, index: -1 })).toBe(false);
    expect(isToWorker({ type: 'analyze' })).toBe(false);
  });
});
