// Test helper: OpenStack's image format inspector (nova/image/format_inspector.py, as Debian ships
// it in python3-nova), run standalone. The module needs only oslo_log (a logger) and oslo_utils
// (`units.Ki`); a copy is made with those two imports replaced by stdlib shims, and a small driver
// prints, per file, what nova's upload gate would decide: the detected format (or "Multiple
// formats detected"), the safety check, and for qcow2 its three tests (backing file, data file,
// unknown features). Found in $NOVA_INSPECTOR_DIR or /opt/nova-inspector (an extracted package,
// .ci/run makes it), else that one file is unpacked from /tmp/dl/python3-nova_*.deb.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MODULE = 'usr/lib/python3/dist-packages/nova/image/format_inspector.py';
const DEB_DIR = '/tmp/dl';

export interface NovaVerdict {
  readonly path: string;
  /** nova's name of the format it detected ('raw' when none), or null when it raised. */
  readonly format: string | null;
  /** The error detect_file_format or safety_check raised (e.g. "Multiple formats detected: qcow2, iso"). */
  readonly error: string | null;
  /** safety_check(): false when nova rejects the file. */
  readonly safe: boolean;
  readonly backingFile: boolean | null;
  readonly dataFile: boolean | null;
  readonly unknownFeatures: boolean | null;
}

function installedModule(): string | null {
  for (const dir of [process.env.NOVA_INSPECTOR_DIR, '/opt/nova-inspector']) {
    if (dir && existsSync(join(dir, MODULE))) return join(dir, MODULE);
  }
  return null;
}

function debPath(): string | null {
  if (!existsSync(DEB_DIR)) return null;
  const deb = readdirSync(DEB_DIR).find((f) => /^python3-nova_.*\.deb$/.test(f));
  return deb ? join(DEB_DIR, deb) : null;
}

const has = (cmd: string, args: string[]): boolean => spawnSync(cmd, args).status === 0;

/** Whether the inspector can run here: python3, and the module installed or its .deb with dpkg. */
export const novaInspectorAvailable: boolean = has('python3', ['--version']) &&
  (installedModule() !== null || (debPath() !== null && has('dpkg-deb', ['--version'])));

const DRIVER = `
import json, sys
import format_inspector as fi
for path in sys.argv[1:]:
    out = {"path": path, "format": None, "error": None, "safe": False, "backingFile": None, "dataFile": None, "unknownFeatures": None}
    try:
        insp = fi.detect_file_format(path)
        out["format"] = str(insp)
        out["safe"] = bool(insp.safety_check())
        if isinstance(insp, fi.QcowInspector):
            out["backingFile"] = insp.has_backing_file
            out["dataFile"] = insp.has_data_file
            out["unknownFeatures"] = insp.has_unknown_features
    except Exception as e:
        out["error"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(out))
`;

/** Makes the standalone copy in a new temporary folder; returns that folder. */
export function standaloneInspector(): string {
  let module = installedModule();
  const dir = mkdtempSync(join(tmpdir(), 'nova-inspector-'));
  if (!module) {
    const deb = debPath();
    if (!deb) throw new Error('python3-nova is not available');
    // Only the one module, not the whole package (dpkg -x would unpack thousands of files).
    const r = spawnSync('sh', ['-c', 'mkdir -p "$2" && dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" "./$3"', 'sh', deb, join(dir, 'pkg'), MODULE], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`unpacking ${MODULE} from ${deb} failed: ${r.stderr}`);
    module = join(dir, 'pkg', MODULE);
  }
  const source = readFileSync(module, 'utf8');
  const shimmed = source
    .replace('from oslo_log import log as logging', 'import logging')
    .replace('from oslo_utils import units', 'class units:\n    Ki = 1024\n    Mi = 1024 ** 2\n    Gi = 1024 ** 3');
  if (shimmed.includes('oslo_')) throw new Error('format_inspector.py imports more of oslo than the shims replace');
  writeFileSync(join(dir, 'format_inspector.py'), shimmed);
  writeFileSync(join(dir, 'driver.py'), DRIVER);
  return dir;
}

/** nova's verdict on each path (one python3 process for all of them). */
export function novaVerdicts(inspectorDir: string, paths: readonly string[]): NovaVerdict[] {
  const r = spawnSync('python3', [join(inspectorDir, 'driver.py'), ...paths], { cwd: inspectorDir, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`the nova inspector failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as NovaVerdict);
}

/** Whether nova rejects the file for one of the reasons our verdict must share. */
export function novaRejectsForSharedReason(v: NovaVerdict): 'backing file' | 'data file' | 'several formats' | null {
  if (v.error?.includes('Multiple formats detected')) return 'several formats';
  if (v.backingFile) return 'backing file';
  if (v.dataFile) return 'data file';
  return null;
}
