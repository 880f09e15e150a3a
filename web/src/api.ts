// The control plane's HTTP API (docs/api.md): typed records and one fetch
// wrapper that sends the bearer token and turns every failure into an
// ApiError with a readable message.

export type JobState = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const JOB_STATES: JobState[] = ['pending', 'running', 'succeeded', 'failed', 'cancelled'];
export const isActive = (s: string): boolean => s === 'pending' || s === 'running';

export interface Job {
  id: number;
  name: string;
  tenant: string;
  state: JobState;
  command: string[];
  env: Record<string, string>;
  workdir: string;
  gpus: number;
  cpu_milli: number;
  mem_mib: number;
  models: string[];
  stacks: string[];
  class: string;
  time_limit_s: number;
  duration_s: number;
  priority: number;
  center: string;
  model: string;
  node: string;
  devices: number[];
  submit_ms: number;
  start_ms: number;
  end_ms: number;
  est_start_ms: number;
  exit_code: number;
  signal: number;
  reason: string;
  gpu_seconds: number;
  energy_kwh: number;
  cost: number;
  carbon_kg: number;
  [extra: string]: unknown;
}

export interface JobSpec {
  command: string[];
  name?: string;
  gpus?: number;
  models?: string[];
  center?: string;
  time_limit_s?: number;
}

export interface ModelUse {
  model: string;
  total: number;
  busy: number;
}

export interface Center {
  name: string;
  backend: string;
  region: string;
  up: boolean;
  drained: boolean;
  reason: string;
  devices: number;
  busy_devices: number;
  models: ModelUse[];
  pending: number;
  running: number;
  pue: number;
  price_now: number;
  carbon_now: number;
  power_kw: number;
  nodes_down: { node: string; reason: string }[];
}

export interface UsageRow {
  tenant: string;
  center: string;
  model: string;
  jobs: number;
  gpu_seconds: number;
  energy_kwh: number;
  cost: number;
  carbon_kg: number;
}

export interface Tenant {
  name: string;
  admin: boolean;
  max_gpus_per_job: number;
  max_active_jobs: number;
  created_ms: number;
}

export interface WhoAmI {
  tenant: string;
  admin: boolean;
}

export interface Health {
  ok: boolean;
  version: string;
}

// An error from the API (status >= 400, with the JSON error's code, message
// and field) or from the network (status 0).
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  // "gpus: must be an integer 0..4096 (field gpus; invalid_argument, HTTP 400)"
  describe(): string {
    const bits: string[] = [];
    if (this.field) bits.push(`field ${this.field}`);
    if (this.code) bits.push(this.code);
    if (this.status) bits.push(`HTTP ${this.status}`);
    return bits.length ? `${this.message} (${bits.join('; ')})` : this.message;
  }
}

export function describeError(e: unknown): string {
  if (e instanceof ApiError) return e.describe();
  if (e instanceof Error) return e.message;
  return String(e);
}

const TOKEN_KEY = 'suanli.token';

export function storedToken(): string {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

export function storeToken(token: string): void {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: the token lives only for this page.
  }
}

type Query = Record<string, string | number | undefined | null>;

interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Query;
  token?: string; // overrides the stored token (login)
}

let unauthenticatedHandler: ((e: ApiError) => void) | null = null;

// Called when the API answers 401 to a call made with the stored token.
export function onUnauthenticated(handler: (e: ApiError) => void): void {
  unauthenticatedHandler = handler;
}

function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function send(path: string, opts: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = {};
  const token = opts.token ?? storedToken();
  if (token) headers['Authorization'] = `Bearer ${token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(url(path, opts.query), { method: opts.method ?? 'GET', headers, body, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'unreachable', `Cannot reach the server: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!res.ok) {
    const err = await errorOf(res);
    if (err.status === 401 && opts.token === undefined && unauthenticatedHandler) unauthenticatedHandler(err);
    throw err;
  }
  return res;
}

async function errorOf(res: Response): Promise<ApiError> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    // keep the status alone
  }
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string; field?: string } };
    if (parsed && typeof parsed === 'object' && parsed.error && typeof parsed.error.message === 'string') {
      return new ApiError(res.status, parsed.error.code ?? '', parsed.error.message, parsed.error.field || undefined);
    }
  } catch {
    // not JSON: described below
  }
  const snippet = text.trim().slice(0, 200);
  const msg = snippet && !snippet.startsWith('<') ? snippet : res.statusText || 'request failed';
  return new ApiError(res.status, '', `${msg}`);
}

export async function apiJson<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(path, opts);
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'bad_response', `The server's answer to ${path} is not JSON`);
  }
}

export async function apiBytes(path: string, opts: RequestOptions = {}): Promise<Uint8Array> {
  const res = await send(path, opts);
  return new Uint8Array(await res.arrayBuffer());
}

const V1 = '/api/v1';

export const api = {
  health: () => apiJson<Health>(`${V1}/health`),
  whoami: (token?: string) => apiJson<WhoAmI>(`${V1}/whoami`, { token }),
  centers: async () => (await apiJson<{ centers: Center[] }>(`${V1}/centers`)).centers ?? [],
  drain: (name: string) => apiJson<Center>(`${V1}/centers/${encodeURIComponent(name)}/drain`, { method: 'POST' }),
  resume: (name: string) => apiJson<Center>(`${V1}/centers/${encodeURIComponent(name)}/resume`, { method: 'POST' }),
  jobs: async (q: { state?: string; center?: string; tenant?: string; limit?: number; before?: number }) =>
    (await apiJson<{ jobs: Job[] }>(`${V1}/jobs`, { query: q })).jobs ?? [],
  job: (id: number) => apiJson<Job>(`${V1}/jobs/${id}`),
  submit: (spec: JobSpec) => apiJson<Job>(`${V1}/jobs`, { method: 'POST', body: spec }),
  cancel: (id: number) => apiJson<Job>(`${V1}/jobs/${id}/cancel`, { method: 'POST' }),
  logs: (id: number, stream: 'stdout' | 'stderr', offset: number, limit: number) =>
    apiBytes(`${V1}/jobs/${id}/logs`, { query: { stream, offset, limit } }),
  tenants: async () => (await apiJson<{ tenants: Tenant[] }>(`${V1}/tenants`)).tenants ?? [],
  usage: async (from?: number, to?: number) =>
    (await apiJson<{ usage: UsageRow[] }>(`${V1}/usage`, { query: { from, to } })).usage ?? [],
};
