/** The backend under test in its own process (cli/bench-server.ts), driven over IPC. */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { BenchReply, BenchRequest, ServerStats } from '../cli/bench-server';

export class ServerProcess {
  private waiting: Array<{ type: string; resolve: (m: BenchReply) => void }> = [];
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly ready: Extract<BenchReply, { type: 'ready' }>
  ) {
    child.on('message', (m: BenchReply) => {
      const i = this.waiting.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiting.splice(i, 1)[0].resolve(m);
    });
    child.on('exit', () => (this.exited = true));
  }

  static async start(env: Record<string, string>): Promise<ServerProcess> {
    // cli/bench-server.ts under tsx, cli/bench-server.js in the compiled build.
    const server = path.join(__dirname, '..', 'cli', `bench-server${path.extname(__filename)}`);
    const child = spawn(
      process.execPath,
      ['--expose-gc', ...(server.endsWith('.ts') ? ['--import', 'tsx'] : []), server],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, ...env },
      }
    );
    const first = await new Promise<BenchReply>((resolve, reject) => {
      child.once('message', (m: BenchReply) => resolve(m));
      child.once('exit', (code) =>
        reject(new Error(`the bench server exited (code ${code}) before it was ready`))
      );
    });
    if (first.type !== 'ready') {
      child.kill();
      throw new Error(first.type === 'failed' ? first.message : `unexpected first message ${first.type}`);
    }
    return new ServerProcess(child, first);
  }

  get url(): string {
    return this.ready.url;
  }

  ask<T extends BenchReply['type']>(req: BenchRequest, reply: T): Promise<Extract<BenchReply, { type: T }>> {
    if (this.exited) return Promise.reject(new Error('the bench server has exited'));
    return new Promise((resolve) => {
      this.waiting.push({ type: reply, resolve: resolve as (m: BenchReply) => void });
      this.child.send(req);
    });
  }

  tell(req: BenchRequest): void {
    if (!this.exited) this.child.send(req);
  }

  stats(gc = true): Promise<ServerStats> {
    return this.ask({ type: 'stats', gc }, 'stats');
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}
