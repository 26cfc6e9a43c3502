// The parent's handle on a server under test running in its own process (bench/target.mjs).
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type TargetKind = 'mailpen' | 'sink' | 'maildev';

export interface TargetOptions {
  maxMessages?: number;
  maxBytes?: number;
  maildevDir?: string;
}

export interface TargetReady {
  type: 'ready';
  smtp: number;
  http: number | null;
}

export interface TargetMemory {
  rss: number;
  /** VmHWM: the highest RSS since start or the last reset. */
  peakRss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export type TargetRequest =
  | { id: number; cmd: 'memory'; gc?: boolean }
  | { id: number; cmd: 'reset-peak' }
  | { id: number; cmd: 'cpu' }
  | { id: number; cmd: 'settled' }
  | { id: number; cmd: 'stop' };

/** A request before it is numbered. */
type Unnumbered = TargetRequest extends infer T ? (T extends TargetRequest ? Omit<T, 'id'> : never) : never;

const HERE = dirname(fileURLToPath(import.meta.url));

/** Where MailDev 3 is installed for the benchmark (see the README's Performance section). */
export function maildevDir(): string | null {
  const dir = resolve(process.env.MAILPEN_BENCH_MAILDEV ?? join(HERE, '.baselines'));
  return existsSync(join(dir, 'node_modules/maildev/dist/index.js')) ? dir : null;
}

export interface TargetCpu {
  userSeconds: number;
  systemSeconds: number;
  minorFaults: number;
}

export class Target {
  readonly kind: TargetKind;
  readonly smtp: number;
  readonly http: number | null;
  #child: ChildProcess;
  #nextId = 1;
  #pending = new Map<number, (m: Record<string, unknown>) => void>();

  private constructor(kind: TargetKind, child: ChildProcess, ready: TargetReady) {
    this.kind = kind;
    this.#child = child;
    this.smtp = ready.smtp;
    this.http = ready.http;
    child.on('message', (m: Record<string, unknown>) => {
      const id = m.id as number | undefined;
      if (id === undefined) return;
      this.#pending.get(id)?.(m);
      this.#pending.delete(id);
    });
  }

  static async start(kind: TargetKind, options: TargetOptions = {}, env: Record<string, string> = {}): Promise<Target> {
    const child = fork(join(HERE, 'target.mjs'), [kind, JSON.stringify(options)], {
      // MAILPEN_BENCH_TARGET_ARGS: extra node flags for the server under test, e.g. to profile it
      // (`--cpu-prof --cpu-prof-dir=.tmp/prof`); NODE_OPTIONS refuses --cpu-prof.
      execArgv: ['--expose-gc', ...(process.env.MAILPEN_BENCH_TARGET_ARGS?.split(' ').filter(Boolean) ?? [])],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
    });
    const ready = await new Promise<TargetReady>((resolvePromise, reject) => {
      child.once('message', (m: TargetReady) => resolvePromise(m));
      child.once('exit', (code) => reject(new Error(`${kind} target exited with ${code} before it was ready`)));
    });
    child.removeAllListeners('exit');
    return new Target(kind, child, ready);
  }

  #ask(req: Unnumbered): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolvePromise, reject) => {
      this.#pending.set(id, resolvePromise);
      this.#child.send({ ...req, id }, (err) => err && reject(err));
    });
  }

  async memory(gc = false): Promise<{ memory: TargetMemory; stored: number }> {
    const m = await this.#ask({ cmd: 'memory', gc });
    return { memory: m.memory as TargetMemory, stored: m.stored as number };
  }

  async resetPeak(): Promise<boolean> {
    return (await this.#ask({ cmd: 'reset-peak' })).ok === true;
  }

  /** Milliseconds until the target's background work on stored mail was done. */
  async settled(): Promise<number> {
    return (await this.#ask({ cmd: 'settled' })).ms as number;
  }

  /** CPU time the target has used so far (user, kernel), and its minor page faults. */
  async cpu(): Promise<TargetCpu> {
    return (await this.#ask({ cmd: 'cpu' })).cpu as TargetCpu;
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((r) => this.#child.once('exit', () => r()));
    await Promise.race([this.#ask({ cmd: 'stop' }), exited]);
    await exited;
  }
}
