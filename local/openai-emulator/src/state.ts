import { randomBytes } from 'node:crypto';

/** What the emulator holds between requests; `reset()` clears all of it. */

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body: unknown;
}

export interface Fault {
  path: string;
  method?: string;
  /** Only requests whose JSON body's `stream` is this (a streamed chat turn, or a summary). */
  stream?: boolean;
  status?: number;
  delay_ms?: number;
  times: number;
}

export type QueuedResponse =
  | { kind: 'output'; output: unknown }
  | { kind: 'refusal'; refusal: string }
  | { kind: 'incomplete'; reason: string }
  | { kind: 'text'; text: string; chunk_delay_ms?: number }
  | { kind: 'function_call'; name: string; arguments: Record<string, unknown> };

export interface Attachment {
  id: string;
  name: string;
  mime_type: string;
  preview_url: string | null;
  type: 'image' | 'file';
}

export type ThreadItem = Record<string, unknown> & { id: string; thread_id: string; created_at: number; type: string };

export interface Thread {
  id: string;
  object: 'chatkit.thread';
  created_at: number;
  title: string | null;
  user: string;
  status: { type: 'active' } | { type: 'locked' | 'closed'; reason: string | null };
  items: ThreadItem[];
}

export interface Session {
  id: string;
  object: 'chatkit.session';
  client_secret: string;
  expires_at: number;
  max_requests_per_1_minute: number;
  rate_limits: { max_requests_per_1_minute: number };
  status: 'active' | 'expired' | 'cancelled';
  user: string;
  workflow: { id: string; version: string | null; state_variables: Record<string, unknown> | null; tracing: { enabled: boolean } };
  chatkit_configuration: Record<string, unknown>;
}

let seq = 0;
/** Ids sort in creation order (a zero-padded counter), with a random tail so they are unique across restarts. */
export function newId(prefix: string): string {
  seq += 1;
  return `${prefix}_${Date.now().toString(36).padStart(9, '0')}${seq.toString(36).padStart(6, '0')}${randomBytes(4).toString('hex')}`;
}

export class EmulatorState {
  threads = new Map<string, Thread>();
  sessions = new Map<string, Session>();
  requests: RecordedRequest[] = [];
  faults: Fault[] = [];
  /** Requests a fault was applied to since the last reset (tests account for every fault they set). */
  faultsServed = 0;
  responses: QueuedResponse[] = [];
  /** Bytes of seeded hosted attachments, served at `<origin>/files/<id>` as the hosted CDN served previews. */
  files = new Map<string, { bytes: Buffer; mimeType: string }>();
  /** The emulator's own origin (the files' URLs). */
  origin = '';

  reset(): void {
    this.files.clear();
    this.threads.clear();
    this.sessions.clear();
    this.requests = [];
    this.faults = [];
    this.faultsServed = 0;
    this.responses = [];
  }

  /** Consumes one use of the first fault matching this request, if any. */
  takeFault(method: string, path: string, body?: unknown): Fault | undefined {
    const streamed = typeof body === 'object' && body !== null && (body as { stream?: unknown }).stream === true;
    const fault = this.faults.find(
      (f) =>
        path.startsWith(f.path) && (!f.method || f.method.toUpperCase() === method) && (f.stream === undefined || f.stream === streamed),
    );
    if (!fault) return undefined;
    fault.times -= 1;
    this.faultsServed += 1;
    if (fault.times <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
    return fault;
  }

  takeResponse(): QueuedResponse | undefined {
    return this.responses.shift();
  }
}
