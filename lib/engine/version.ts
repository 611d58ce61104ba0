// Python's couchbase.lcb_version(): (version string, version number) of the libcouchbase the
// client runs on. deferbase has no libcouchbase; it reports the libcouchbase 2.x release whose
// behaviour it follows (2.10.0, number 0x020a00, so feature checks such as
// `lcb_version()[1] >= 0x020800` in ported code hold) with its own version in the string.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The libcouchbase 2.x release deferbase's behaviour follows. */
export const LCB_COMPAT_VERSION = '2.10.0';
export const LCB_COMPAT_VERSION_NUMBER = 0x020a00;

function ownVersion(): string {
  // dist/lib/engine/version.js -> the package's package.json
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, rel), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'deferbase' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}

/** deferbase's own version (package.json). */
export const DEFERBASE_VERSION = ownVersion();

/** Python's lcb_version(): `['2.10.0 (deferbase <version>)', 0x020a00]`. */
export function lcbVersion(): [string, number] {
  return [`${LCB_COMPAT_VERSION} (deferbase ${DEFERBASE_VERSION})`, LCB_COMPAT_VERSION_NUMBER];
}
