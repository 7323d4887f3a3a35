// A stand-in for an inlined worker in unit tests (vi.mock of '…?worker&inline'): records what it
// is sent; the test plays its replies and crashes.

export class FakeWorker {
  static all: FakeWorker[] = [];
  sent: unknown[] = [];
  terminated = false;
  onmessage: ((ev: MessageEvent<unknown>) => void) | null = null;
  onmessageerror: (() => void) | null = null;
  onerror: ((ev: ErrorEvent) => void) | null = null;
  constructor() {
    FakeWorker.all.push(this);
  }
  postMessage(m: unknown): void {
    this.sent.push(m);
  }
  terminate(): void {
    this.terminated = true;
  }
  reply(data: unknown): void {
    this.onmessage?.({ data } as MessageEvent<unknown>);
  }
  crash(message: string): void {
    this.onerror?.({ message, preventDefault: () => {} } as ErrorEvent);
  }
}
