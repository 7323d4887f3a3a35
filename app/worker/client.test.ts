import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeWorker } from './fake-worker';
import type { ClientEvent } from './client';
import { packGuestMap } from './result-wire';


vi.mock('./analysis.worker?worker&inline', async () => ({ default: (await import('./fake-worker')).FakeWorker }));

const { AnalysisClient } = await import('./client');
const file = () => new File([new Uint8Array(8)], 'a.qcow2');

describe('AnalysisClient', () => {
  let events: ClientEvent[];
  let client: InstanceType<typeof AnalysisClient>;
  beforeEach(() => {
    FakeWorker.all = [];
    events = [];
    client = new AnalysisClient();
    client.subscribe((e) => events.push(e));
  });
  afterEach(() => vi.useRealTimers());

  it('passes on guarded messages and reports malformed ones', () => {
    const job = client.analyze([file()]);
    const w = FakeWorker.all[0]!;
    expect(w.sent).toEqual([{ type: 'analyze', job, files: [expect.any(File)] }]);
    w.reply({ type: 'progress', job, file: 0, phase: 'l2', done: 1, total: 2 });
    w.reply({ type: 'progress', job, file: 0, phase: 'l2', done: 'one', total: 2 });
    expect(events[0]).toEqual({ type: 'progress', job, file: 0, phase: 'l2', done: 1, total: 2 });
    expect(events[1]).toEqual({ type: 'worker-error', job, message: 'malformed message from the analysis worker (type progress)' });
  });

  it('passes on a result with its guest map rebuilt, one array for the analysis and its check', () => {
    const job = client.analyze([file()]);
    const ranges = [
      { start: 0, length: 65536, depth: 0, present: true, zero: false, data: true, offset: 196608 },
      { start: 65536, length: 1 << 20, depth: 0, present: false, zero: false, data: false },
    ];
    const estimate = { required: 327680n, lessThanFile: 65536n };
    FakeWorker.all[0]!.reply({ type: 'result', job, file: 0, analysis: { fileSize: 393216, structures: {}, check: { exitCode: 0 } }, guestMap: packGuestMap(ranges), estimate, ms: 4 });
    expect(events).toHaveLength(1);
    const e = events[0]!;
    if (e.type !== 'result') throw new Error(`expected a result, got ${e.type}`);
    expect(e).toStrictEqual({ type: 'result', job, file: 0, analysis: { fileSize: 393216, structures: {}, check: { exitCode: 0, guestMap: ranges }, guestMap: ranges }, estimate, ms: 4 });
    expect(e.analysis.check.guestMap).toBe(e.analysis.guestMap);
  });

  it('reports a worker that dies and starts a new one for the next job', () => {
    const job = client.analyze([file()]);
    FakeWorker.all[0]!.crash('out of memory');
    expect(events).toEqual([{ type: 'worker-error', job, message: 'the analysis worker died: out of memory (a new one has been started)' }]);
    expect(FakeWorker.all[0]!.terminated).toBe(true);
    client.analyze([file()]);
    expect(FakeWorker.all).toHaveLength(2);
  });

  it('replaces a busy worker when a new drop comes, so the old job stops at once', () => {
    client.analyze([file()]);
    const second = client.analyze([file()]);
    expect(FakeWorker.all[0]!.terminated).toBe(true);
    expect(FakeWorker.all[1]!.sent).toEqual([{ type: 'analyze', job: second, files: [expect.any(File)] }]);
  });

  it('keeps the worker when the previous job has finished', () => {
    const job = client.analyze([file()]);
    FakeWorker.all[0]!.reply({ type: 'job-done', job });
    client.analyze([file()]);
    expect(FakeWorker.all).toHaveLength(1);
  });

  it('cancels cooperatively, and terminates a worker that does not answer in time', () => {
    vi.useFakeTimers();
    const job = client.analyze([file()]);
    client.cancel();
    expect(FakeWorker.all[0]!.sent[1]).toEqual({ type: 'cancel', job });
    vi.advanceTimersByTime(2000);
    expect(FakeWorker.all[0]!.terminated).toBe(true);
    expect(events).toEqual([{ type: 'cancelled', job }]);
  });

  it('answers read-cluster requests by id, and fails them when the worker is replaced', async () => {
    const job = client.analyze([file()]);
    const w = FakeWorker.all[0]!;
    w.reply({ type: 'job-done', job });
    const a = client.readCluster(job, 0, 3);
    const b = client.readCluster(job, 0, 4);
    const reqA = w.sent[1] as { request: number };
    const reqB = w.sent[2] as { request: number };
    w.reply({ type: 'cluster-bytes', request: reqB.request, offset: 4 * 65536, bytes: new Uint8Array([4]) });
    w.reply({ type: 'cluster-bytes', request: reqA.request, offset: 3 * 65536, bytes: new Uint8Array([3]) });
    await expect(a).resolves.toEqual({ offset: 196608, bytes: new Uint8Array([3]) });
    await expect(b).resolves.toEqual({ offset: 262144, bytes: new Uint8Array([4]) });
    const c = client.readCluster(job, 0, 5);
    w.crash('gone');
    await expect(c).rejects.toThrow('the analysis worker was restarted');
  });
});

describe('AnalysisClient watchdog', () => {
  afterEach(() => vi.useRealTimers());

  it('ends a worker that stays silent while it analyses, and says so', () => {
    vi.useFakeTimers();
    FakeWorker.all = [];
    const events: ClientEvent[] = [];
    const client = new AnalysisClient({ watchdogMs: 5000 });
    client.subscribe((e) => events.push(e));
    const job = client.analyze([file()]);
    const w = FakeWorker.all[0]!;
    vi.advanceTimersByTime(4000);
    w.reply({ type: 'progress', job, file: 0, phase: 'l2', done: 1, total: 2 });
    vi.advanceTimersByTime(4000);
    expect(w.terminated).toBe(false);
    vi.advanceTimersByTime(1001);
    expect(w.terminated).toBe(true);
    expect(events.at(-1)).toEqual({ type: 'worker-error', job, message: expect.stringMatching(/^analysis stopped: the worker did not answer for 5 s /) });
    client.analyze([file()]);
    expect(FakeWorker.all).toHaveLength(2);
  });

  it('sleeps once the job is done', () => {
    vi.useFakeTimers();
    FakeWorker.all = [];
    const client = new AnalysisClient({ watchdogMs: 1000 });
    const job = client.analyze([file()]);
    FakeWorker.all[0]!.reply({ type: 'job-done', job });
    vi.advanceTimersByTime(10_000);
    expect(FakeWorker.all[0]!.terminated).toBe(false);
  });

  it('takes its period from ?watchdog=SECONDS', async () => {
    const { watchdogFromUrl, DEFAULT_WATCHDOG_MS } = await import('./client');
    expect(watchdogFromUrl('?watchdog=1.5')).toBe(1500);
    expect(watchdogFromUrl('?watchdog=nope')).toBe(DEFAULT_WATCHDOG_MS);
    expect(watchdogFromUrl('')).toBe(DEFAULT_WATCHDOG_MS);
  });
});
