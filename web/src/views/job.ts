// One job: every field, its state with timing, the estimated start while
// pending, and its stdout/stderr logs, refreshed while it is active. A
// service's replica also gets its service: the replicas not ended and a
// control to scale it (docs/services.md).

import { api, ApiError, describeError, isActive } from '../api';
import type { Job, Service } from '../api';
import { joinArgv } from '../argv';
import { h, fill } from '../dom';
import { fmtDuration, fmtRelative, fmtSeconds, fmtSmart, fmtTime } from '../format';
import { Poller, stamp, touch } from '../shell';
import type { Ctx, View } from '../shell';
import { cancelJob, stateBadge } from './jobs';

const ACTIVE_REFRESH_MS = 2000;
const SERVICE_REFRESH_MS = 3000;
const MAX_REPLICAS = 256;
const LOG_CHUNK = 256 * 1024;        // bytes per request
const LOG_KEEP = 2 * 1024 * 1024;    // characters shown at most (the tail)

type Stream = 'stdout' | 'stderr';

class LogBuffer {
  offset = 0;       // bytes read so far
  text = '';
  trimmed = false;
  missing = false;  // no such log (yet)
  private decoder = new TextDecoder('utf-8');

  add(bytes: Uint8Array): void {
    this.offset += bytes.length;
    this.text += this.decoder.decode(bytes, { stream: true });
    if (this.text.length > LOG_KEEP) {
      this.text = this.text.slice(this.text.length - LOG_KEEP);
      this.trimmed = true;
    }
  }
}

export function jobView(ctx: Ctx, id: number): View {
  const updated = stamp();
  const title = h('h1', { testid: 'job-title' }, `Job #${id}`);
  const headBadges = h('div', { class: 'head-badges' });
  const actions = h('div', { class: 'head-actions' });
  const timing = h('div', { class: 'timing', testid: 'job-timing' });
  const fields = h('dl', { class: 'fields', testid: 'job-fields' });
  const logOut = h('pre', { class: 'log', testid: 'log-output', tabindex: 0 });
  const logNote = h('div', { class: 'muted log-note', testid: 'log-note' });
  const logs: Record<Stream, LogBuffer> = { stdout: new LogBuffer(), stderr: new LogBuffer() };
  let stream: Stream = 'stdout';
  let job: Job | null = null;
  let finalLogRead = false;

  // --- its service (a replica's) -------------------------------------------
  let serviceId = 0;
  const serviceTitle = h('h2', { testid: 'service-title' }, 'Service');
  const serviceNote = h('div', { class: 'muted', testid: 'service-count' });
  const replicaBody = h('tbody', { testid: 'service-replicas-tbody' });
  const scaleInput = h('input', { type: 'number', min: 0, max: MAX_REPLICAS, step: 1, value: '', 'aria-label': 'replicas', testid: 'scale-replicas', style: { width: '7em' } });
  const scaleBtn = h('button', { class: 'btn btn-small', type: 'submit', testid: 'scale-button' }, 'Scale');
  const scaleMsg = h('span', { class: 'form-msg', 'aria-live': 'polite' });
  let scaleEdited = false; // the operator is typing a count: not overwritten
  scaleInput.addEventListener('input', () => {
    scaleEdited = true;
    scaleInput.classList.remove('invalid');
  });
  const serviceCard = h(
    'section',
    { class: 'card', testid: 'job-service', hidden: true },
    h('div', { class: 'log-head' }, serviceTitle, serviceNote),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'table', testid: 'service-replicas' },
        h('thead', null, h('tr', null, ['Replica', 'State', 'Center', 'Node', 'Reason'].map((t) => h('th', null, t)))),
        replicaBody,
      ),
    ),
    h(
      'form',
      { class: 'form-actions', testid: 'scale-form', novalidate: true, onsubmit: (ev: Event) => { ev.preventDefault(); void scale(); } },
      h('label', { class: 'check' }, 'Replicas ', scaleInput),
      scaleBtn,
      scaleMsg,
    ),
  );

  const tabs = (['stdout', 'stderr'] as Stream[]).map((s) =>
    h('button', {
      class: 'tab',
      role: 'tab',
      testid: `log-tab-${s}`,
      'aria-selected': String(s === stream),
      onclick: () => {
        stream = s;
        for (const t of tabs) t.setAttribute('aria-selected', String(t.dataset.stream === s));
        renderLog(true);
        poller.now();
      },
      'data-stream': s,
    }, s),
  );

  const el = h(
    'div',
    { class: 'view', testid: 'view-job', 'data-job-id': id },
    h('div', { class: 'view-head' }, h('a', { href: '#/jobs', class: 'back', testid: 'back-to-jobs' }, '← Jobs'), updated),
    h('div', { class: 'job-head' }, h('div', { class: 'job-title' }, title, headBadges), actions),
    timing,
    serviceCard,
    h('section', { class: 'card' }, h('h2', null, 'Details'), fields),
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'log-head' }, h('h2', null, 'Log'), h('div', { class: 'tabs', role: 'tablist', testid: 'log-tabs' }, tabs)),
      logNote,
      logOut,
    ),
  );

  function renderLog(toBottom: boolean): void {
    const buf = logs[stream];
    const atBottom = logOut.scrollTop + logOut.clientHeight >= logOut.scrollHeight - 4;
    logOut.textContent = buf.text;
    logOut.dataset.stream = stream;
    const notes: string[] = [];
    if (buf.trimmed) notes.push(`showing the last ${fmtSmart(LOG_KEEP / 1024 / 1024, 0)} MiB`);
    if (!buf.text) notes.push(buf.missing ? `no ${stream} yet` : `${stream} is empty`);
    if (job && isActive(job.state)) notes.push('following');
    logNote.textContent = notes.join(' · ');
    if (toBottom || atBottom) logOut.scrollTop = logOut.scrollHeight;
  }

  async function readLog(s: Stream): Promise<void> {
    const buf = logs[s];
    // Read whole chunks until a short one (the end of what is written).
    for (let i = 0; i < 64; i++) {
      let bytes: Uint8Array;
      try {
        bytes = await api.logs(id, s, buf.offset, LOG_CHUNK);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404 && job !== null) {
          buf.missing = true;
          return;
        }
        throw e;
      }
      buf.missing = false;
      buf.add(bytes);
      if (bytes.length < LOG_CHUNK) return;
    }
  }

  function renderJob(j: Job): void {
    title.textContent = j.name ? `Job #${j.id} · ${j.name}` : `Job #${j.id}`;
    fill(
      headBadges,
      stateBadge(j.state),
      h('span', { class: 'muted' }, j.tenant),
      j.service > 0
        ? h(
            'span',
            { class: 'muted', testid: 'job-service-of' },
            'replica of ',
            j.service === j.id ? `service #${j.service}` : h('a', { href: `#/jobs/${j.service}`, testid: 'service-link' }, `service #${j.service}`),
          )
        : null,
    );
    fill(
      actions,
      isActive(j.state)
        ? h('button', {
            class: 'btn btn-danger',
            testid: 'job-cancel',
            onclick: async () => {
              await cancelJob(ctx, j);
              poller.now();
            },
          }, 'Cancel job')
        : null,
    );
    fill(timing, timingOf(j));
    fill(fields, fieldsOf(j));
  }

  const poller = new Poller(async () => {
    try {
      const j = await api.job(id);
      job = j;
      ctx.report(`Job #${id}`, null);
      renderJob(j);
      if (j.service > 0 && serviceId === 0) {
        serviceId = j.service;
        serviceTitle.textContent = `Service #${serviceId}`;
        serviceCard.hidden = false;
        servicePoller.start();
      }
      const active = isActive(j.state);
      if (active || !finalLogRead) {
        // After the job ends, one last read of both streams picks up the rest.
        await readLog(stream);
        if (!active) {
          await readLog(stream === 'stdout' ? 'stderr' : 'stdout');
          finalLogRead = true;
        }
      }
      ctx.report(`Log of #${id}`, null);
      renderLog(false);
      touch(updated);
      poller.setInterval(active ? ACTIVE_REFRESH_MS : 0);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && job === null) {
        fill(timing, h('div', { class: 'msg-error', testid: 'job-not-found' }, `No job #${id}: ${e.message}`));
        ctx.report(`Job #${id}`, null);
        poller.setInterval(0);
        return;
      }
      ctx.report(job ? `Log of #${id}` : `Job #${id}`, e);
    }
  }, ACTIVE_REFRESH_MS);

  function renderService(s: Service): void {
    const n = s.replicas.length;
    serviceNote.textContent = `${n} replica${n === 1 ? '' : 's'} not ended`;
    serviceCard.dataset.replicas = String(n);
    if (!scaleEdited && document.activeElement !== scaleInput) scaleInput.value = String(n);
    if (n === 0) {
      fill(replicaBody, h('tr', null, h('td', { colspan: 5, class: 'empty', testid: 'service-empty' }, 'No replicas: scaled to none, or all ended.')));
      return;
    }
    fill(
      replicaBody,
      s.replicas.map((r) =>
        h(
          'tr',
          { testid: 'replica-row', 'data-job-id': r.id, 'data-state': r.state },
          h('td', null, h('a', { href: `#/jobs/${r.id}`, testid: 'replica-link' }, `#${r.id}`), r.id === id ? h('span', { class: 'muted' }, ' (this job)') : null),
          h('td', null, stateBadge(r.state, 'replica-state')),
          h('td', null, or(r.center)),
          h('td', null, or(r.node)),
          h('td', { class: 'ellipsis', title: r.reason }, or(r.reason)),
        ),
      ),
    );
  }

  const servicePoller = new Poller(async () => {
    if (serviceId === 0) return;
    try {
      const s = await api.getService(serviceId);
      ctx.report(`Service #${serviceId}`, null);
      renderService(s);
    } catch (e) {
      ctx.report(`Service #${serviceId}`, e);
    }
  }, SERVICE_REFRESH_MS);

  async function scale(): Promise<void> {
    const text = scaleInput.value.trim();
    if (!/^\d+$/.test(text) || Number(text) > MAX_REPLICAS) {
      scaleInput.classList.add('invalid');
      fill(scaleMsg, h('span', { class: 'msg-error', role: 'alert', testid: 'scale-error' }, `replicas: a whole number, 0..${MAX_REPLICAS}`));
      return;
    }
    const n = Number(text);
    const now = Number(serviceCard.dataset.replicas ?? '0');
    if (n < now && !window.confirm(`Scale service #${serviceId} from ${now} to ${n} replicas? The newest ${now - n} will be cancelled.`)) return;
    scaleBtn.disabled = true;
    fill(scaleMsg, h('span', { class: 'muted' }, 'Scaling…'));
    try {
      const s = await api.scaleService(serviceId, n);
      scaleEdited = false;
      scaleInput.classList.remove('invalid');
      renderService(s);
      fill(scaleMsg, h('span', { class: 'msg-ok', testid: 'scale-result', 'data-replicas': s.replicas.length }, `Scaled to ${n} replica${n === 1 ? '' : 's'}`));
      poller.now();
    } catch (e) {
      if (e instanceof ApiError && e.field === 'replicas') scaleInput.classList.add('invalid');
      fill(scaleMsg, h('span', { class: 'msg-error', role: 'alert', testid: 'scale-error' }, describeError(e)));
    } finally {
      scaleBtn.disabled = false;
    }
  }

  poller.start();
  return {
    el,
    dispose: () => {
      poller.stop();
      servicePoller.stop();
    },
  };
}

function timingOf(j: Job): HTMLElement[] {
  const now = Date.now();
  const out: HTMLElement[] = [];
  const line = (testid: string, ...parts: (string | HTMLElement)[]) => out.push(h('div', { class: 'timing-line', testid }, parts));
  if (j.state === 'pending') {
    line('timing-wait', `Waiting for ${fmtDuration(now - j.submit_ms)} (submitted ${fmtTime(j.submit_ms)})`);
    if (j.est_start_ms > 0) {
      line('est-start', `Estimated start: ${fmtTime(j.est_start_ms)} (${fmtRelative(j.est_start_ms, now)})`);
    } else {
      line('est-start', 'Estimated start: not known yet');
    }
    if (j.reason) line('timing-reason', `Why it waits: ${j.reason}`);
  } else if (j.state === 'running') {
    line('timing-run', `Running for ${fmtDuration(now - j.start_ms)} since ${fmtTime(j.start_ms)}, after waiting ${fmtDuration(j.start_ms - j.submit_ms)}`);
    if (j.service > 0) {
      line('timing-limit', "A service's replica: no time limit; started again after a backoff if it ends");
    } else if (j.time_limit_s > 0) {
      const deadline = j.start_ms + j.time_limit_s * 1000;
      line('timing-limit', `Time limit ${fmtSeconds(j.time_limit_s)}: stopped at ${fmtTime(deadline)} (${fmtRelative(deadline, now)}) if still running`);
    }
  } else {
    if (j.start_ms) {
      line('timing-done', `${capital(j.state)} at ${fmtTime(j.end_ms)} after running ${fmtDuration(j.end_ms - j.start_ms)}; it waited ${fmtDuration(j.start_ms - j.submit_ms)}`);
    } else {
      line('timing-done', `${capital(j.state)} at ${fmtTime(j.end_ms)} without starting, ${fmtDuration(j.end_ms - j.submit_ms)} after submission`);
    }
    const exit: string[] = [];
    if (j.exit_code >= 0) exit.push(`exit code ${j.exit_code}`);
    if (j.signal) exit.push(`signal ${j.signal}`);
    if (j.reason && j.reason !== `exit ${j.exit_code}`) exit.push(j.reason);
    if (exit.length) line('timing-exit', exit.join(' · '));
  }
  return out;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const or = (s: string, dflt = '–') => (s ? s : dflt);

// Its history, one line each: when, what, in words.
function eventsOf(j: Job): string | HTMLElement {
  const evs = j.events ?? [];
  if (!evs.length) return 'none';
  return h(
    'ol',
    { class: 'events', testid: 'job-events' },
    evs.map((e) => h('li', { testid: 'job-event', 'data-kind': e.kind }, `${fmtTime(e.time_ms ?? 0)} ${e.kind}: ${e.message}`)),
  );
}

// Its runs that ended, one line each: how, where, when, its last checkpoint.
function attemptsOf(j: Job): string | HTMLElement {
  const runs = j.attempts ?? [];
  if (!runs.length) return 'none';
  return h(
    'ol',
    { class: 'attempts', testid: 'job-attempts' },
    runs.map((a) =>
      h(
        'li',
        { testid: 'job-attempt', 'data-outcome': a.outcome },
        `${a.outcome} on ${a.center}${a.node ? ' ' + a.node : ''}, ${fmtTime(a.start_ms)} to ${fmtTime(a.end_ms)}`,
        a.checkpoint_ms ? `, last checkpoint ${fmtTime(a.checkpoint_ms)}` : '',
        a.reason ? ` (${a.reason})` : '',
      ),
    ),
  );
}
const list = (xs: unknown[] | undefined, dflt = 'any') => (xs && xs.length ? xs.join(', ') : dflt);

// Every field of the record, formatted; fields this page does not know are
// shown as JSON at the end.
function fieldsOf(j: Job): HTMLElement[] {
  const known: [string, string, string | HTMLElement][] = [
    ['id', 'ID', String(j.id)],
    ['name', 'Name', or(j.name)],
    ['tenant', 'Tenant', j.tenant],
    ['state', 'State', j.state],
    ['command', 'Command', h('code', { testid: 'field-command-line' }, joinArgv(j.command ?? []))],
    ['env', 'Environment', Object.keys(j.env ?? {}).length ? h('code', null, Object.entries(j.env).map(([k, v]) => `${k}=${v}`).join('\n')) : '–'],
    ['workdir', 'Working directory', or(j.workdir, 'its own directory')],
    ['gpus', 'Accelerators', String(j.gpus)],
    ['cpu_milli', 'CPU', `${fmtSmart(j.cpu_milli / 1000, 2)} cores`],
    ['mem_mib', 'Memory', `${fmtSmart(j.mem_mib, 0)} MiB`],
    ['models', 'Accepted models', list(j.models)],
    ['stacks', 'Accepted stacks', list(j.stacks)],
    ['class', 'Class', or(j.class)],
    ['time_limit_s', 'Time limit', j.service > 0 ? "none (a service's replica)" : j.time_limit_s ? `${fmtSeconds(j.time_limit_s)} (${j.time_limit_s} s)` : 'none'],
    ['duration_s', 'Simulated duration', j.duration_s ? `${fmtSeconds(j.duration_s)} (${j.duration_s} s)` : 'the time limit'],
    ['priority', 'Priority', String(j.priority)],
    ['center', 'Center', or(j.center, 'not decided')],
    ['requested_center', 'Requested center', or(String(j.requested_center ?? ''), 'any')],
    ['model', 'Model', or(j.model)],
    ['node', 'Node', or(j.node)],
    ['devices', 'Devices', list(j.devices, '–')],
    ['backend_id', 'Backend id', or(String(j.backend_id ?? ''))],
    ['submit_ms', 'Submitted', fmtTime(j.submit_ms)],
    ['start_ms', 'Started', fmtTime(j.start_ms)],
    ['end_ms', 'Ended', fmtTime(j.end_ms)],
    ['est_start_ms', 'Estimated start', fmtTime(j.est_start_ms)],
    ['exit_code', 'Exit code', j.exit_code >= 0 ? String(j.exit_code) : '–'],
    ['signal', 'Signal', j.signal ? String(j.signal) : '–'],
    ['reason', 'Reason', or(j.reason)],
    ['gpu_seconds', 'Accelerator-hours', fmtSmart(j.gpu_seconds / 3600, 3)],
    ['energy_kwh', 'Energy', `${fmtSmart(j.energy_kwh, 3)} kWh`],
    ['cost', 'Cost', fmtSmart(j.cost, 3)],
    ['carbon_kg', 'Carbon', `${fmtSmart(j.carbon_kg, 3)} kg CO₂`],
    ['checkpoint_s', 'Checkpoints', j.checkpoint_s ? `every ${fmtSeconds(j.checkpoint_s)}` : 'none declared'],
    ['grace_s', 'Notice', j.checkpoint_s ? `SIG${j.stop_signal}, then ${fmtSeconds(j.grace_s)} before a preemption` : 'none (stopped at once)'],
    ['stop_signal', 'Stop signal', `SIG${j.stop_signal}`],
    ['nodes', 'Nodes', (j.nodes ?? 1) > 1 ? `${j.nodes}, ${j.gpus / (j.nodes ?? 1)} accelerators on each` : '1'],
    ['deadline', 'Deadline', or(String(j.deadline ?? ''), 'none (not deferrable)')],
    ['dataset', 'Dataset', j.dataset ? h('a', { href: '#/datasets' }, j.dataset) : 'none'],
    ['service', 'Service', j.service > 0 ? h('a', { href: `#/jobs/${j.service}` }, `#${j.service}`) : 'none (a batch job)'],
    ['replicas', 'Replicas asked', j.replicas > 0 ? String(j.replicas) : '–'],
    ['region', 'Region', or(j.region, 'none')],
    ['latency_ms', 'Latency bound', j.latency_ms > 0 ? `${j.latency_ms} ms from ${j.region}` : 'none'],
    ['checkpoint_ms', 'Last checkpoint', j.checkpoint_ms ? fmtTime(j.checkpoint_ms) : '–'],
    ['attempts', 'Earlier runs', attemptsOf(j)],
    ['events', 'History', eventsOf(j)],
  ];
  const seen = new Set<string>(known.map(([k]) => k));
  const rows = known.map(([key, label, value]) =>
    h('div', { class: 'field-row', 'data-field': key }, h('dt', { title: key }, label), h('dd', { testid: `field-${key}` }, value)),
  );
  for (const [key, value] of Object.entries(j)) {
    if (seen.has(key)) continue;
    rows.push(h('div', { class: 'field-row', 'data-field': key }, h('dt', null, key), h('dd', { testid: `field-${key}` }, typeof value === 'string' ? value : JSON.stringify(value))));
  }
  return rows;
}
