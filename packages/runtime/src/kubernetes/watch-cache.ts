// A list-then-watch cache of one resource (the informer pattern of client-go): it lists once,
// then watches from the list's resourceVersion; a dropped connection resumes from the last
// resourceVersion it saw (no relist, nothing missed, nothing twice); a 410 Gone (history
// compacted) lists again. Every read of the driver goes to this cache, never to a fresh list.
import { EventEmitter } from 'node:events';
import { type KubeConfig, Watch } from '@kubernetes/client-node';

export interface KubeObject {
  metadata?: { name?: string; resourceVersion?: string };
}

export class WatchCache<T extends KubeObject> extends EventEmitter {
  readonly items = new Map<string, T>();
  /** How many times it listed, and watched (tests check a blip resumes instead of relisting). */
  readonly stats = { lists: 0, watches: 0, gone: 0 };
  private lastRv = '';
  private stopped = false;
  private synced: Promise<void> | null = null;
  private abort: AbortController | null = null;
  private retryMs = 50;

  constructor(
    private readonly kc: KubeConfig,
    private readonly path: string,
    private readonly labelSelector: string,
    private readonly list: () => Promise<{ metadata?: { resourceVersion?: string }; items: T[] }>,
  ) {
    super();
    this.setMaxListeners(0);
  }

  /** Resolves once the first list is in; starts the watch. */
  start(): Promise<void> {
    this.synced ??= this.relist().then(() => this.watch());
    return this.synced;
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  get resourceVersion(): string {
    return this.lastRv;
  }

  private async relist(): Promise<void> {
    const list = await this.list();
    this.stats.lists++;
    this.items.clear();
    for (const o of list.items) this.items.set(o.metadata?.name ?? '', o);
    this.lastRv = list.metadata?.resourceVersion ?? '';
    this.emit('change');
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    this.stats.watches++;
    let gone = false;
    const w = new Watch(this.kc);
    this.abort = await w.watch(
      this.path,
      { labelSelector: this.labelSelector, resourceVersion: this.lastRv, allowWatchBookmarks: true },
      (type: string, obj: T & { code?: number }) => {
        if (type === 'ERROR') {
          if (obj.code === 410) gone = true;
          return;
        }
        const name = obj.metadata?.name ?? '';
        if (type === 'DELETED') this.items.delete(name);
        else if (type !== 'BOOKMARK') this.items.set(name, obj);
        if (obj.metadata?.resourceVersion) this.lastRv = obj.metadata.resourceVersion;
        this.retryMs = 50;
        this.emit('change');
      },
      (err: unknown) => {
        if (this.stopped) return;
        const again = async () => {
          try {
            if (gone) {
              this.stats.gone++;
              await this.relist();
            }
            await this.watch();
          } catch (e) {
            this.emit('error-soft', e);
            this.retryMs = Math.min(this.retryMs * 2, 5_000);
            setTimeout(() => void again(), this.retryMs);
          }
        };
        setTimeout(() => void again(), err ? this.retryMs : 0);
      },
    );
  }

  /** Resolves with `pick`'s first non-null answer over the cache, re-asked on every change. */
  waitFor<R>(
    pick: (items: T[]) => R | null,
    timeoutMs: number,
    what: string,
    signal?: AbortSignal,
  ): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const check = () => {
        let r: R | null;
        try {
          r = pick([...this.items.values()]);
        } catch (err) {
          done();
          reject(err);
          return;
        }
        if (r !== null) {
          done();
          resolve(r);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${what}: not within ${Math.round(timeoutMs / 1000)}s`));
      }, timeoutMs);
      const onAbort = () => {
        done();
        reject(signal?.reason ?? new Error('aborted'));
      };
      const done = () => {
        clearTimeout(timer);
        this.off('change', check);
        signal?.removeEventListener('abort', onAbort);
      };
      this.on('change', check);
      signal?.addEventListener('abort', onAbort);
      check();
    });
  }
}
