// qemu-img's refusal line, QEMU's text without our note, and further reasons once each with a count.

import { describe, expect, it } from 'vitest';
import type { Finding, FindingCode } from '../format';
import { printRefusal, refusals } from './refusal';

const refusal = (message: string, code: FindingCode = 'QEMU_REFUSES', structure = 'bitmap directory'): Finding =>
  ({ code, severity: 'error', structure, offset: 0, message, checkClass: 'none' });

describe('printRefusal', () => {
  it('prints qemu-img\'s line with QEMU\'s text, then each further reason once with its count', () => {
    let err = '';
    const found = [
      refusal("Bitmap '' doesn't satisfy the constraints — bitmap_table_size is 0"),
      refusal("Bitmap '' doesn't satisfy the constraints — bitmap_table_size is 0"),
      refusal('Less bitmaps found than specified in header extension'),
      refusal("Bitmap 'b' doesn't satisfy the constraints — type 0 is not 1 (dirty tracking)"),
      refusal("Bitmap 'b' doesn't satisfy the constraints — type 0 is not 1 (dirty tracking)"),
      refusal("Bitmap 'b' doesn't satisfy the constraints — type 0 is not 1 (dirty tracking)"),
    ];
    expect(printRefusal('x.qcow2', found, (t) => void (err += t))).toBe(true);
    expect(err.split('\n')).toEqual([
      "qemu-img: Could not open 'x.qcow2': Bitmap '' doesn't satisfy the constraints",
      'qcowscope: QEMU would also refuse it for: Less bitmaps found than specified in header extension',
      "qcowscope: QEMU would also refuse it for: Bitmap 'b' doesn't satisfy the constraints — type 0 is not 1 (dirty tracking) (3 times)",
      "qcowscope: what can still be read of it: qcowscope report 'x.qcow2'",
      '',
    ]);
    expect(printRefusal('x.qcow2', [], () => {})).toBe(false);
  });

  it('check skips the snapshot table\'s refusals (BDRV_O_CHECK); info keeps them and the missing refcount table', () => {
    const list = [refusal('Snapshot table offset invalid', 'QEMU_REFUSES', 'snapshot table'), refusal('Image does not contain a reference count table', 'QEMU_REFUSES_OPEN', 'header')];
    expect(refusals(list, 'info').map((f) => f.message)).toEqual(['Snapshot table offset invalid', 'Image does not contain a reference count table']);
    expect(refusals(list, 'check')).toEqual([]);
  });
});
