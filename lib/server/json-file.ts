// Small JSON files the cluster keeps in its `dataDir` (buckets created at run time, users and
// groups): written atomically (temp file, fdatasync, rename), read back with a clear error when
// one is damaged.
import fs from 'node:fs';

/** Writes `value` as JSON to `file` so that a crash leaves either the old or the new content. */
export function writeJsonAtomically(file: string, value: unknown): void {
  const tmp = file + '.tmp';
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(value, null, 1) + '\n');
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** The parsed content of `file`, or undefined when it does not exist. */
export function readJsonFile(file: string): unknown {
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); fix or remove it`);
  }
}
