// Jobs: the submit form, filters, the table (auto-refreshing, paged) and
// cancel buttons.

import { api, ApiError, describeError, isActive } from '../api';
import type { Center, Job, JobSpec } from '../api';
import { ArgvError, splitArgv } from '../argv';
import { h, fill, badge } from '../dom';
import { fmtDuration, fmtRelative, fmtTime, parseDuration } from '../format';
import { Poller, stamp, touch } from '../shell';
import type { Ctx, View } from '../shell';

const REFRESH_MS = 3000;

const STATE_FILTERS: [string, string][] = [
  ['', 'all states'],
  ['pending,running', 'active'],
  ['pending', 'pending'],
  ['running', 'running'],
  ['succeeded', 'succeeded'],
  ['failed', 'failed'],
  ['cancelled', 'cancelled'],
  ['succeeded,failed,cancelled', 'finished'],
];

// Kept while the operator moves between views.
const filters = { state: '', center: '', tenant: '', limit: 50 };
let autoRefresh = true;

export function stateBadge(state: string, testid = 'job-state'): HTMLElement {
  const kind =
    state === 'succeeded' ? 'ok' : state === 'failed' ? 'bad' : state === 'running' ? 'info' : state === 'pending' ? 'warn' : 'neutral';
  return badge(state, kind, testid);
}

// Asks for confirmation, cancels, reports; resolves when done.
export async function cancelJob(ctx: Ctx, job: Job): Promise<void> {
  const label = job.name ? `#${job.id} (${job.name})` : `#${job.id}`;
  if (!window.confirm(`Cancel job ${label}?`)) return;
  try {
    await api.cancel(job.id);
    ctx.report(`Cancel #${job.id}`, null);
  } catch (e) {
    ctx.report(`Cancel #${job.id}`, e);
  }
}

export function jobsView(ctx: Ctx, query: URLSearchParams): View {
  for (const key of ['state', 'center', 'tenant'] as const) {
    const v = query.get(key);
    if (v !== null) filters[key] = v;
  }

  let before: number | undefined;
  const pageStack: (number | undefined)[] = [];
  let centers: Center[] = [];

  // --- submit form -------------------------------------------------------
  const cmd = h('input', {
    id: 'f-command',
    name: 'command',
    type: 'text',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: `python train.py --epochs 3   or   sh -c 'echo hello'`,
    testid: 'submit-command',
  });
  const name = h('input', { id: 'f-name', name: 'name', type: 'text', autocomplete: 'off', placeholder: 'optional', testid: 'submit-name' });
  // Whole accelerators, or a share of one below 1 (0.25).
  const gpus = h('input', { id: 'f-gpus', name: 'gpus', type: 'number', min: 0, step: 'any', value: '0', testid: 'submit-gpus' });
  const nodes = h('input', { id: 'f-nodes', name: 'nodes', type: 'number', min: 1, step: 1, value: '1', testid: 'submit-nodes' });
  const model = h('select', { id: 'f-model', name: 'model', testid: 'submit-model' }, h('option', { value: '' }, 'any'));
  const center = h('select', { id: 'f-center', name: 'center', testid: 'submit-center' }, h('option', { value: '' }, 'any'));
  const limit = h('input', { id: 'f-limit', name: 'time_limit', type: 'text', value: '1h', autocomplete: 'off', placeholder: '1h, 30m, 3600', testid: 'submit-time-limit' });
  const ckpt = h('input', { id: 'f-checkpoint', name: 'checkpoint', type: 'text', value: '', autocomplete: 'off', placeholder: 'none, or 10m, 1h', testid: 'submit-checkpoint' });
  const deadline = h('input', { id: 'f-deadline', name: 'deadline', type: 'text', value: '', autocomplete: 'off', placeholder: 'none, or 12h, or 2026-12-05T06:00:00+08:00', testid: 'submit-deadline' });
  // The caller's own datasets (a spec names one of its tenant's).
  const dataset = h('select', { id: 'f-dataset', name: 'dataset', testid: 'submit-dataset' }, h('option', { value: '' }, 'none'));
  // An inference service: that many replicas, kept running (docs/services.md).
  const replicas = h('input', { id: 'f-replicas', name: 'replicas', type: 'number', min: 0, max: 256, step: 1, value: '', placeholder: 'none: a batch job', testid: 'submit-replicas' });
  const region = h('input', { id: 'f-region', name: 'region', type: 'text', value: '', autocomplete: 'off', placeholder: 'none', testid: 'submit-region' });
  const latency = h('input', { id: 'f-latency', name: 'latency_ms', type: 'number', min: 0, max: 60000, step: 1, value: '', placeholder: 'no bound', testid: 'submit-latency' });
  const submitBtn = h('button', { class: 'btn btn-primary', type: 'submit', testid: 'submit-button' }, 'Submit job');
  const formMsg = h('div', { class: 'form-msg', 'aria-live': 'polite' });
  const fieldEls: Record<string, HTMLElement> = {
    command: cmd, name, gpus, nodes, models: model, model, center, time_limit_s: limit, checkpoint_s: ckpt, deadline, dataset,
    replicas, region, latency_ms: latency,
  };

  const field = (label: string, input: HTMLElement, hint?: string, wide = false) =>
    h('label', { class: `field${wide ? ' field-wide' : ''}`, for: input.id }, h('span', { class: 'field-label' }, label), input, hint ? h('span', { class: 'hint' }, hint) : null);

  const form = h(
    'form',
    { class: 'card submit-form', testid: 'submit-form', novalidate: true, onsubmit: (ev: Event) => { ev.preventDefault(); void submit(); } },
    h('h2', null, 'Submit a job'),
    h(
      'div',
      { class: 'form-grid' },
      field('Command', cmd, 'split into arguments like a shell: quotes group words, no variables or pipes (use sh -c \'…\')', true),
      field('Name', name),
      field('Accelerators', gpus),
      field('Nodes', nodes, 'spreads the accelerators evenly; each task gets RANK, WORLD_SIZE, MASTER_ADDR…'),
      field('Model', model),
      field('Center', center),
      field('Time limit', limit, 'e.g. 90s, 30m, 2h'),
      field('Checkpoints every', ckpt, 'told by SIGUSR1 60 s before a preemption; saves in $SUANLI_CHECKPOINT_DIR'),
      field('Deadline', deadline, 'must end by then; cost- and carbon-aware dispatch may hold it for cheaper or cleaner hours'),
      field('Dataset', dataset, 'read at $SUANLI_DATASET_DIR; copied first to a center other than its own (Datasets)'),
      field('Replicas', replicas, 'an inference service of this many replicas, kept running with no time limit and restarted when one ends'),
      field('Region', region, "a service: a user region of the server's network"),
      field('Latency bound (ms)', latency, "a service: the most round-trip ms from its region to a replica's center"),
    ),
    h('div', { class: 'form-actions' }, submitBtn, formMsg),
  );

  function showFormError(message: string, fieldName?: string): void {
    for (const el of Object.values(fieldEls)) el.classList.remove('invalid');
    if (fieldName && fieldEls[fieldName]) {
      fieldEls[fieldName].classList.add('invalid');
      fieldEls[fieldName].focus();
    }
    fill(formMsg, h('span', { class: 'msg-error', role: 'alert', testid: 'submit-error' }, message));
  }

  async function submit(): Promise<void> {
    for (const el of Object.values(fieldEls)) el.classList.remove('invalid');
    let argv: string[];
    try {
      argv = splitArgv(cmd.value);
    } catch (e) {
      showFormError(`command: ${e instanceof ArgvError ? e.message : describeError(e)}`, 'command');
      return;
    }
    if (argv.length === 0) {
      showFormError('command: enter the command to run', 'command');
      return;
    }
    const spec: JobSpec = { command: argv };
    if (name.value.trim()) spec.name = name.value.trim();
    const g = gpus.value.trim();
    if (g !== '') {
      if (!/^(\d+|\d*\.\d{1,3})$/.test(g)) {
        showFormError('gpus: a number of accelerators (0 for a CPU-only job, 0.25 for a quarter of one)', 'gpus');
        return;
      }
      spec.gpus = Number(g);
    }
    const n = nodes.value.trim();
    if (n !== '' && n !== '1') {
      if (!/^\d+$/.test(n) || Number(n) < 1) {
        showFormError('nodes: a whole number of nodes, 1 or more', 'nodes');
        return;
      }
      spec.nodes = Number(n);
    }
    if (model.value) spec.models = [model.value];
    if (center.value) spec.center = center.value;
    if (limit.value.trim()) {
      const s = parseDuration(limit.value);
      if (s === null) {
        showFormError('time limit: a duration such as 90s, 30m, 2h or a number of seconds', 'time_limit_s');
        return;
      }
      spec.time_limit_s = s;
    }
    if (ckpt.value.trim()) {
      const s = parseDuration(ckpt.value);
      if (s === null) {
        showFormError('checkpoints: a duration such as 10m or 1h, or empty for none', 'checkpoint_s');
        return;
      }
      spec.checkpoint_s = s;
    }
    const dl = deadline.value.trim();
    if (dl) {
      // A duration from now, or a time as it is (the server checks RFC 3339).
      const s = parseDuration(dl);
      spec.deadline = s === null ? dl : new Date(Date.now() + s * 1000).toISOString();
    }
    if (dataset.value) spec.dataset = dataset.value;
    const r = replicas.value.trim();
    if (r !== '' && r !== '0') {
      if (!/^\d+$/.test(r)) {
        showFormError('replicas: a whole number of replicas (empty or 0 for a batch job)', 'replicas');
        return;
      }
      spec.replicas = Number(r);
    }
    if (region.value.trim()) spec.region = region.value.trim();
    const lat = latency.value.trim();
    if (lat !== '' && lat !== '0') {
      if (!/^\d+$/.test(lat)) {
        showFormError('latency bound: a whole number of milliseconds (empty for no bound)', 'latency_ms');
        return;
      }
      spec.latency_ms = Number(lat);
    }
    submitBtn.disabled = true;
    fill(formMsg, h('span', { class: 'muted' }, 'Submitting…'));
    try {
      const job = await api.submit(spec);
      fill(
        formMsg,
        h(
          'span',
          { class: 'msg-ok', testid: 'submit-result', 'data-job-id': job.id },
          'Submitted ',
          h('a', { href: `#/jobs/${job.id}`, testid: 'submit-result-link' }, job.service > 0 ? `service #${job.service}` : `job #${job.id}`),
          job.service > 0 ? ` (${spec.replicas} replicas; the first, job #${job.id}, ${job.state})` : ` (${job.state})`,
        ),
      );
      before = undefined;
      pageStack.length = 0;
      poller.now();
    } catch (e) {
      showFormError(describeError(e), e instanceof ApiError ? e.field : undefined);
    } finally {
      submitBtn.disabled = false;
    }
  }

  // --- filters -----------------------------------------------------------
  const stateSel = h('select', { testid: 'filter-state', 'aria-label': 'state' }, STATE_FILTERS.map(([v, l]) => h('option', { value: v, selected: v === filters.state }, l)));
  const centerSel = h('select', { testid: 'filter-center', 'aria-label': 'center' }, h('option', { value: '' }, 'all centers'));
  const tenantSel = h('select', { testid: 'filter-tenant', 'aria-label': 'tenant' }, h('option', { value: '' }, 'all tenants'));
  const limitSel = h('select', { testid: 'filter-limit', 'aria-label': 'rows per page' }, [25, 50, 100, 200].map((n) => h('option', { value: String(n), selected: n === filters.limit }, `${n} per page`)));
  const autoBox = h('input', { type: 'checkbox', checked: autoRefresh, testid: 'auto-refresh' });
  if (!STATE_FILTERS.some(([v]) => v === filters.state)) stateSel.append(h('option', { value: filters.state, selected: true }, filters.state));
  ensureOption(centerSel, filters.center);
  ensureOption(tenantSel, filters.tenant);

  const onFilter = () => {
    filters.state = stateSel.value;
    filters.center = centerSel.value;
    filters.tenant = tenantSel.value;
    filters.limit = Number(limitSel.value) || 50;
    before = undefined;
    pageStack.length = 0;
    syncUrl();
    poller.now();
  };
  for (const s of [stateSel, centerSel, tenantSel, limitSel]) s.addEventListener('change', onFilter);
  autoBox.addEventListener('change', () => {
    autoRefresh = autoBox.checked;
    poller.setInterval(autoRefresh ? REFRESH_MS : 0);
    if (autoRefresh) poller.now();
  });

  const newerBtn = h('button', { class: 'btn btn-small', testid: 'page-newer', onclick: () => { before = pageStack.pop(); poller.now(); } }, '← Newer');
  const olderBtn = h('button', { class: 'btn btn-small', testid: 'page-older', onclick: () => { if (lastId) { pageStack.push(before); before = lastId; poller.now(); } } }, 'Older →');
  const pageInfo = h('span', { class: 'muted', testid: 'page-info' });
  const updated = stamp();

  const tbody = h('tbody', { testid: 'jobs-tbody' });
  const table = h(
    'table',
    { class: 'table jobs', testid: 'jobs-table' },
    h('thead', null, h('tr', null, ['ID', 'Name', 'Tenant', 'State', 'Where', 'Acc.', 'Submitted', 'Waited / ran', ''].map((t) => h('th', { class: t === 'Acc.' ? 'num' : undefined }, t)))),
    tbody,
  );

  const el = h(
    'div',
    { class: 'view', testid: 'view-jobs' },
    h('div', { class: 'view-head' }, h('h1', null, 'Jobs'), updated),
    form,
    h(
      'section',
      { class: 'card' },
      h(
        'div',
        { class: 'toolbar', testid: 'jobs-filters' },
        stateSel,
        centerSel,
        ctx.who.admin ? tenantSel : null,
        limitSel,
        h('label', { class: 'check' }, autoBox, ' auto-refresh'),
        h('button', { class: 'btn btn-small', testid: 'jobs-refresh', onclick: () => poller.now() }, 'Refresh'),
      ),
      h('div', { class: 'table-wrap' }, table),
      h('div', { class: 'pager' }, newerBtn, pageInfo, olderBtn),
    ),
  );

  let lastId = 0;

  function syncUrl(): void {
    const q = new URLSearchParams();
    if (filters.state) q.set('state', filters.state);
    if (filters.center) q.set('center', filters.center);
    if (filters.tenant) q.set('tenant', filters.tenant);
    const hash = q.toString() ? `#/jobs?${q}` : '#/jobs';
    history.replaceState(null, '', hash);
  }

  function render(jobs: Job[]): void {
    lastId = jobs.length ? jobs[jobs.length - 1].id : 0;
    newerBtn.disabled = before === undefined;
    olderBtn.disabled = jobs.length < filters.limit;
    const page = pageStack.length + 1;
    pageInfo.textContent = jobs.length ? `page ${page} · jobs #${jobs[0].id}–#${lastId}` : `page ${page}`;
    if (jobs.length === 0) {
      fill(tbody, h('tr', null, h('td', { colspan: 9, class: 'empty', testid: 'jobs-empty' }, 'No jobs match.')));
      return;
    }
    const now = Date.now();
    fill(tbody, jobs.map((j) => row(j, now)));
  }

  function row(j: Job, now: number): HTMLElement {
    const where = [j.center, j.model, j.node].filter(Boolean).join(' · ') || (j.state === 'pending' ? 'not placed' : '–');
    let times: string;
    if (j.state === 'pending') times = `waiting ${fmtDuration(now - j.submit_ms)}`;
    else if (j.state === 'running') times = `${fmtDuration(j.start_ms - j.submit_ms)} / ${fmtDuration(now - j.start_ms)}`;
    else if (j.start_ms) times = `${fmtDuration(j.start_ms - j.submit_ms)} / ${fmtDuration(j.end_ms - j.start_ms)}`;
    else times = '–';
    const cancel = isActive(j.state)
      ? h('button', {
          class: 'btn btn-small btn-danger',
          testid: 'job-cancel',
          onclick: async (ev: Event) => {
            (ev.currentTarget as HTMLButtonElement).disabled = true;
            await cancelJob(ctx, j);
            poller.now();
          },
        }, 'Cancel')
      : null;
    return h(
      'tr',
      { testid: 'job-row', 'data-job-id': j.id, 'data-state': j.state },
      h('td', null, h('a', { href: `#/jobs/${j.id}`, testid: 'job-link' }, `#${j.id}`)),
      h(
        'td',
        { class: 'ellipsis', title: j.command.join(' ') },
        j.name || h('span', { class: 'muted' }, j.command[0] ?? ''),
        j.service > 0 ? [' ', badge(`service #${j.service}`, 'neutral', 'job-service')] : null,
      ),
      h('td', null, j.tenant),
      h('td', null, stateBadge(j.state)),
      h('td', { class: 'ellipsis' }, where),
      h('td', { class: 'num' }, String(j.gpus)),
      h('td', { title: fmtTime(j.submit_ms) }, fmtRelative(j.submit_ms, now)),
      h('td', null, times),
      h('td', { class: 'actions' }, cancel),
    );
  }

  const poller = new Poller(async () => {
    try {
      const jobs = await api.jobs({
        state: filters.state || undefined,
        center: filters.center || undefined,
        tenant: ctx.who.admin ? filters.tenant || undefined : undefined,
        limit: filters.limit,
        before,
      });
      ctx.report('Jobs', null);
      render(jobs);
      touch(updated);
    } catch (e) {
      ctx.report('Jobs', e);
    }
  }, autoRefresh ? REFRESH_MS : 0);

  // Choices for the form and the filters (once per visit).
  async function loadChoices(): Promise<void> {
    try {
      centers = await api.centers();
      const models = [...new Set(centers.flatMap((c) => c.models.map((m) => m.model)))].sort();
      setOptions(model, models, 'any');
      setOptions(center, centers.map((c) => c.name), 'any');
      setOptions(centerSel, centers.map((c) => c.name), 'all centers', filters.center);
      ctx.report('Centers', null);
    } catch (e) {
      ctx.report('Centers', e);
    }
    try {
      const own = (await api.datasets()).filter((d) => d.tenant === ctx.who.tenant);
      setOptions(dataset, own.map((d) => d.name).sort(), 'none');
      ctx.report('Datasets', null);
    } catch (e) {
      ctx.report('Datasets', e);
    }
    if (ctx.who.admin) {
      try {
        const tenants = await api.tenants();
        setOptions(tenantSel, tenants.map((t) => t.name), 'all tenants', filters.tenant);
        ctx.report('Tenants', null);
      } catch (e) {
        ctx.report('Tenants', e);
      }
    }
  }

  poller.start();
  void loadChoices();
  return { el, dispose: () => poller.stop() };
}

function ensureOption(sel: HTMLSelectElement, value: string): void {
  if (!value) return;
  if (![...sel.options].some((o) => o.value === value)) sel.append(h('option', { value }, value));
  sel.value = value;
}

function setOptions(sel: HTMLSelectElement, values: string[], anyLabel: string, selected = sel.value): void {
  const all = [...values];
  if (selected && !all.includes(selected)) all.push(selected);
  fill(sel, h('option', { value: '' }, anyLabel), all.map((v) => h('option', { value: v }, v)));
  sel.value = selected;
}
