// Runs the built `deferbase` command as a child process, the way a user runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'deferbase.js');
export const PTY_DRIVE = path.join(ROOT, 'test', 'cli', 'pty-drive.py');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

function collect(child: ChildProcess, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`command did not finish in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `node bin/deferbase.js ...args`; resolves with its exit code and output. */
export function runCli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, DEBUG: '', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin!.end(opts.input ?? '');
  return collect(child, opts.timeoutMs ?? 20000);
}

/** Plays `steps` with the command under a pseudo-terminal (python3's pty module). */
export function runInPty(args: string[], steps: Array<['expect' | 'send' | 'sleep', string]>, env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const child = spawn('python3', [PTY_DRIVE, JSON.stringify(steps), '--', process.execPath, BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, DEBUG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return collect(child, 30000);
}

export interface Served {
  connstr: string;
  stdout: string;
  child: ChildProcess;
  /** Sends `signal`, waits for the exit; resolves with the exit code and what it printed. */
  stop(signal?: NodeJS.Signals): Promise<RunResult>;
}

/** Starts `deferbase serve --port 0 ...args` (or at the -U address) and waits for the connection string it prints. */
export function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  // -U names the address itself; otherwise OS-picked ports.
  const portArgs = args.includes('-U') || args.includes('--connstr') ? [] : ['--port', '0'];
  const child = spawn(process.execPath, [BIN, 'serve', ...portArgs, ...args], {
    cwd: ROOT,
    env: { ...process.env, DEBUG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<RunResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not come up\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 30000);
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      const m = /^connection string: (\S+)$/m.exec(stdout);
      if (m && /press Ctrl-C to stop/.test(stdout)) {
        clearTimeout(timer);
        resolve({
          connstr: m[1],
          stdout,
          child,
          stop(signal = 'SIGINT') {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
    void exited.then((r) => {
      clearTimeout(timer);
      reject(new Error(`serve exited early (${r.code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`));
    });
  });
}

/** Parses the JSON a command printed (fails the test with the output when it is not JSON). */
export function jsonOf(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON: ${text}`);
  }
}

/** Splits concatenated pretty-printed JSON documents (one per statement) into values. */
export function jsonDocuments(text: string): any[] {
  const docs: any[] = [];
  for (const part of text.split(/^(?=\{$)/m)) {
    const t = part.trim();
    if (t.length > 0) docs.push(jsonOf(t));
  }
  return docs;
}
