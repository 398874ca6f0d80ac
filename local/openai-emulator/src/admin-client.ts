import type { RecordedRequest } from './state';

export interface SeedItem {
  role?: 'user' | 'assistant';
  text?: string;
  quoted_text?: string;
  /** `content_base64`: the emulator serves these bytes at the attachment's preview_url (as the hosted CDN did). */
  attachments?: Array<{ name: string; mime_type: string; preview_url?: string; content_base64?: string }>;
  /** Any other ChatKit item type, stored as given (`{type: 'chatkit.widget', widget: '...'}`). */
  type?: string;
  [extra: string]: unknown;
}

export interface SeedThread {
  /** A fixed id (e.g. for sample events); a fresh cthr_ id by default. */
  id?: string;
  user: string;
  title?: string;
  items: SeedItem[];
}

/** A typed client for the emulator's admin API, for tests and scripts. */
export class EmulatorAdmin {
  /** @param origin the emulator's origin, e.g. `http://127.0.0.1:3110` (no `/v1`). */
  constructor(readonly origin: string) {}

  static fromBaseURL(baseURL: string): EmulatorAdmin {
    return new EmulatorAdmin(baseURL.replace(/\/v1\/?$/, ''));
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.origin}/__emulator/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`emulator admin ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  reset(): Promise<unknown> {
    return this.call('POST', 'reset', {});
  }

  async seedThread(thread: SeedThread): Promise<string> {
    return (await this.call<{ id: string }>('POST', 'threads', thread)).id;
  }

  /** Appends items to a stored thread, as a conversation that goes on. */
  async appendItems(threadId: string, items: SeedItem[]): Promise<void> {
    await this.call('POST', `threads/${encodeURIComponent(threadId)}/items`, { items });
  }

  requests(): Promise<RecordedRequest[]> {
    return this.call('GET', 'requests');
  }

  queueOutput(output: unknown, times = 1): Promise<unknown> {
    return this.call('POST', 'responses', { output, times });
  }

  queue(
    entry: { refusal: string } | { status: 'incomplete'; reason?: string } | { text: string; chunk_delay_ms?: number },
    times = 1,
  ): Promise<unknown> {
    return this.call('POST', 'responses', { ...entry, times });
  }

  /** The next Responses call(s) answer a call of this function (one of the request's tools), with a fresh `call_id`. */
  queueFunctionCall(name: string, args: Record<string, unknown> = {}, times = 1): Promise<unknown> {
    return this.call('POST', 'responses', { function_call: { name, arguments: args }, times });
  }

  /** Fault uses not yet consumed, and requests a fault was applied to since the last reset. */
  faults(): Promise<{ pending: number; served: number }> {
    return this.call('GET', 'faults');
  }

  fault(fault: { path: string; method?: string; stream?: boolean; status?: number; delay_ms?: number; times: number }): Promise<unknown> {
    return this.call('POST', 'faults', fault);
  }
}
