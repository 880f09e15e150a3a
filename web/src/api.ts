// The control plane's HTTP API (docs/api.md): typed records and one fetch
// wrapper that sends the bearer token and turns every failure into an
// ApiError with a readable message.

// The records are the OpenAPI document's (data/api/openapi.json, the one
// the server serves), through the types openapi-typescript generates from it
// into api.gen.ts at each build: the dashboard and the API cannot drift. The
// server always sends every field of a record, hence Required.
import type { components } from './api.gen';

type Schemas = components['schemas'];
type Item<T> = Required<NonNullable<T> extends (infer U)[] ? U : never>;

export type JobState = NonNullable<Schemas['Job']['state']>;
export const JOB_STATES: JobState[] = ['pending', 'running', 'succeeded', 'failed', 'cancelled'];
export const isActive = (s: string): boolean => s === 'pending' || s === 'running';

export type Attempt = Required<Schemas['Attempt']>;
// attempts: only in GET /api/v1/jobs/{id}.
export type Job = Required<Omit<Schemas['Job'], 'attempts'>> & { attempts?: Attempt[] };
export type JobSpec = Schemas['JobSpec'];
export type ModelUse = Item<Schemas['Center']['models']>;
export type Center = Required<Omit<Schemas['Center'], 'models' | 'nodes_down'>> & {
  models: ModelUse[];
  nodes_down: Item<Schemas['Center']['nodes_down']>[];
};
export type UsageRow = Item<Schemas['UsageList']['usage']>;
export type Tenant = Required<Schemas['Tenant']>;
export type WhoAmI = Required<Schemas['WhoAmI']>;
export type Health = Required<Schemas['Health']>;
export type QuotaUse = Required<Schemas['QuotaUse']>;
export type CenterSample = Required<Schemas['CenterSample']>;
export type CenterHistory = { center: string; samples: CenterSample[] };
export type Quotas = { quotas: Schemas['QuotaDocument'] | null; usage: QuotaUse[] };
export type DatasetCopy = Item<Schemas['Dataset']['copies']>;
export type Dataset = Required<Omit<Schemas['Dataset'], 'copies'>> & { copies: DatasetCopy[] };
export type DatasetRequest = Schemas['DatasetRequest'];
// An inference service: its id (its first replica's) and its replicas that
// have not ended, oldest first (GET/PUT /api/v1/services/{id}; all of them:
// GET /api/v1/services).
export type Service = Required<Omit<Schemas['Service'], 'replicas'>> & { replicas: Job[] };

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

  // "gpus: must be 0..4096, got 5000 (field gpus; invalid_argument, HTTP 400)"
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
  history: async () => (await apiJson<{ history: CenterHistory[] }>(`${V1}/centers/history`)).history ?? [],
  resume: (name: string) => apiJson<Center>(`${V1}/centers/${encodeURIComponent(name)}/resume`, { method: 'POST' }),
  jobs: async (q: { state?: string; center?: string; tenant?: string; service?: number; limit?: number; before?: number }) =>
    (await apiJson<{ jobs: Job[] }>(`${V1}/jobs`, { query: q })).jobs ?? [],
  job: (id: number) => apiJson<Job>(`${V1}/jobs/${id}`),
  submit: (spec: JobSpec) => apiJson<Job>(`${V1}/jobs`, { method: 'POST', body: spec }),
  cancel: (id: number) => apiJson<Job>(`${V1}/jobs/${id}/cancel`, { method: 'POST' }),
  getService: async (id: number): Promise<Service> => {
    const s = await apiJson<Service>(`${V1}/services/${id}`);
    return { service: s.service, replicas: s.replicas ?? [] };
  },
  // Every service with replicas not ended (the admin: every tenant's), by id.
  services: async (): Promise<Service[]> =>
    ((await apiJson<{ services: Service[] }>(`${V1}/services`)).services ?? []).map((s) => ({ service: s.service, replicas: s.replicas ?? [] })),
  scaleService: async (id: number, replicas: number): Promise<Service> => {
    const s = await apiJson<Service>(`${V1}/services/${id}`, { method: 'PUT', body: { replicas } });
    return { service: s.service, replicas: s.replicas ?? [] };
  },
  logs: (id: number, stream: 'stdout' | 'stderr', offset: number, limit: number) =>
    apiBytes(`${V1}/jobs/${id}/logs`, { query: { stream, offset, limit } }),
  tenants: async () => (await apiJson<{ tenants: Tenant[] }>(`${V1}/tenants`)).tenants ?? [],
  usage: async (from?: number, to?: number) =>
    (await apiJson<{ usage: UsageRow[] }>(`${V1}/usage`, { query: { from, to } })).usage ?? [],
  quotas: () => apiJson<Quotas>(`${V1}/quotas`),
  datasets: async () => (await apiJson<{ datasets: Dataset[] }>(`${V1}/datasets`)).datasets ?? [],
  registerDataset: (req: DatasetRequest) => apiJson<Dataset>(`${V1}/datasets`, { method: 'POST', body: req }),
  deleteDataset: (name: string) => apiJson<{ deleted: string }>(`${V1}/datasets/${encodeURIComponent(name)}`, { method: 'DELETE' }),
};
