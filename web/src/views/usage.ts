// Usage: finished jobs' accelerator-hours, energy, cost and carbon, summed
// per tenant, per center and per model over a chosen window; and, with
// tenant quotas, each tenant's guaranteed, used and borrowed accelerators
// per center now.

import { api } from '../api';
import type { Quotas, UsageRow } from '../api';
import { h, fill, bar } from '../dom';
import { fmtNum, fmtPct, fmtSmart } from '../format';
import { Poller, stamp, touch } from '../shell';
import type { Ctx, View } from '../shell';

const REFRESH_MS = 10000;

const WINDOWS: [string, number][] = [
  ['last hour', 3600e3],
  ['last 24 hours', 86400e3],
  ['last 7 days', 7 * 86400e3],
  ['last 30 days', 30 * 86400e3],
  ['all time', 0],
];
let windowMs = 0;

interface Sum {
  key: string;
  jobs: number;
  gpu_seconds: number;
  energy_kwh: number;
  cost: number;
  carbon_kg: number;
}

function sumBy(rows: UsageRow[], key: (r: UsageRow) => string): Sum[] {
  const m = new Map<string, Sum>();
  for (const r of rows) {
    const k = key(r) || '–';
    let s = m.get(k);
    if (!s) {
      s = { key: k, jobs: 0, gpu_seconds: 0, energy_kwh: 0, cost: 0, carbon_kg: 0 };
      m.set(k, s);
    }
    s.jobs += r.jobs;
    s.gpu_seconds += r.gpu_seconds;
    s.energy_kwh += r.energy_kwh;
    s.cost += r.cost;
    s.carbon_kg += r.carbon_kg;
  }
  return [...m.values()].sort((a, b) => b.gpu_seconds - a.gpu_seconds || b.jobs - a.jobs || a.key.localeCompare(b.key));
}

export function usageView(ctx: Ctx): View {
  const updated = stamp();
  const winSel = h(
    'select',
    { testid: 'usage-window', 'aria-label': 'window' },
    WINDOWS.map(([label, ms]) => h('option', { value: String(ms), selected: ms === windowMs }, label)),
  );
  winSel.addEventListener('change', () => {
    windowMs = Number(winSel.value);
    poller.now();
  });
  const totals = h('section', { class: 'totals', testid: 'usage-totals' });
  const byTenant = h('section', { class: 'card', testid: 'usage-by-tenant' });
  const byCenter = h('section', { class: 'card', testid: 'usage-by-center' });
  const byModel = h('section', { class: 'card', testid: 'usage-by-model' });
  const quotas = h('section', { class: 'card', testid: 'usage-quotas', hidden: true });
  const el = h(
    'div',
    { class: 'view', testid: 'view-usage' },
    h('div', { class: 'view-head' }, h('h1', null, 'Usage'), h('div', { class: 'toolbar' }, winSel, updated)),
    h('p', { class: 'muted' }, 'Finished jobs, by the time they ended. Accelerator-hours count accelerators × run time; energy includes each center\'s PUE.'),
    totals,
    quotas,
    byTenant,
    byCenter,
    byModel,
  );

  const poller = new Poller(async () => {
    try {
      const to = Date.now();
      const [rows, q] = await Promise.all([
        api.usage(windowMs ? to - windowMs : undefined, windowMs ? to : undefined),
        api.quotas(),
      ]);
      ctx.report('Usage', null);
      render(rows);
      renderQuotas(quotas, q);
      touch(updated);
    } catch (e) {
      ctx.report('Usage', e);
    }
  }, REFRESH_MS);

  function render(rows: UsageRow[]): void {
    const [all] = sumBy(rows, () => 'all');
    const t = all ?? { key: 'all', jobs: 0, gpu_seconds: 0, energy_kwh: 0, cost: 0, carbon_kg: 0 };
    const stat = (label: string, value: string, testid: string) =>
      h('div', { class: 'stat', testid }, h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value' }, value));
    fill(
      totals,
      stat('Jobs', fmtNum(t.jobs), 'usage-total-jobs'),
      stat('Accelerator-hours', fmtSmart(t.gpu_seconds / 3600, 2), 'usage-total-gpuh'),
      stat('Energy', `${fmtSmart(t.energy_kwh, 2)} kWh`, 'usage-total-energy'),
      stat('Cost', fmtSmart(t.cost, 2), 'usage-total-cost'),
      stat('Carbon', `${fmtSmart(t.carbon_kg, 2)} kg CO₂`, 'usage-total-carbon'),
    );
    fill(byTenant, h('h2', null, 'Per tenant'), table('Tenant', 'tenant', sumBy(rows, (r) => r.tenant), t));
    fill(byCenter, h('h2', null, 'Per center'), table('Center', 'center', sumBy(rows, (r) => r.center), t));
    fill(byModel, h('h2', null, 'Per accelerator model'), table('Model', 'model', sumBy(rows, (r) => r.model || 'CPU only'), t));
  }

  poller.start();
  return { el, dispose: () => poller.stop() };
}

function table(label: string, kind: string, sums: Sum[], total: Sum): HTMLElement {
  if (sums.length === 0) return h('p', { class: 'empty', testid: `usage-${kind}-empty` }, 'No finished jobs in this window.');
  const share = (s: Sum) => (total.gpu_seconds > 0 ? s.gpu_seconds / total.gpu_seconds : total.jobs > 0 ? s.jobs / total.jobs : 0);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table usage', testid: `usage-${kind}-table` },
      h('thead', null, h('tr', null, h('th', null, label), ['Jobs', 'Acc.-hours'].map((x) => h('th', { class: 'num' }, x)), h('th', null, 'Share'), ['Energy (kWh)', 'Cost', 'Carbon (kg)'].map((x) => h('th', { class: 'num' }, x)))),
      h(
        'tbody',
        null,
        sums.map((s) =>
          h(
            'tr',
            { testid: `usage-${kind}-row`, [`data-${kind}`]: s.key },
            h('th', null, s.key),
            h('td', { class: 'num', testid: 'usage-jobs' }, fmtNum(s.jobs)),
            h('td', { class: 'num', testid: 'usage-gpuh' }, fmtSmart(s.gpu_seconds / 3600, 2)),
            h('td', { class: 'share' }, h('span', { class: 'share-n' }, fmtPct(share(s))), bar(share(s))),
            h('td', { class: 'num' }, fmtSmart(s.energy_kwh, 2)),
            h('td', { class: 'num' }, fmtSmart(s.cost, 2)),
            h('td', { class: 'num' }, fmtSmart(s.carbon_kg, 2)),
          ),
        ),
      ),
      h(
        'tfoot',
        null,
        h(
          'tr',
          null,
          h('th', null, 'Total'),
          h('td', { class: 'num' }, fmtNum(total.jobs)),
          h('td', { class: 'num' }, fmtSmart(total.gpu_seconds / 3600, 2)),
          h('td', null),
          h('td', { class: 'num' }, fmtSmart(total.energy_kwh, 2)),
          h('td', { class: 'num' }, fmtSmart(total.cost, 2)),
          h('td', { class: 'num' }, fmtSmart(total.carbon_kg, 2)),
        ),
      ),
    ),
  );
}

// Tenant quotas now: per center and tenant, what it is guaranteed, may
// borrow, holds and borrows (docs/api.md, "Quotas"); hidden without quotas.
function renderQuotas(card: HTMLElement, q: Quotas): void {
  card.hidden = q.quotas === null;
  if (q.quotas === null) return;
  // Accelerators: whole ones as integers, shares with two decimals.
  const acc = (x: number) => (Number.isInteger(x) ? fmtNum(x) : fmtSmart(x, 2));
  const limit = (u: Quotas['usage'][number]) => (!u.limited ? '–' : u.borrowing_limit === null ? 'unlimited' : acc(u.borrowing_limit));
  fill(
    card,
    h('h2', null, 'Quotas'),
    h('p', { class: 'muted' }, `Cohort ${q.quotas.cohort || '–'}; reclaim ${q.quotas.reclaim === false ? 'off' : 'on'}. Accelerators at each center, now: guaranteed, held by running jobs, and borrowed beyond the guarantee.`),
    q.usage.length === 0
      ? h('p', { class: 'empty', testid: 'usage-quotas-empty' }, 'No tenant holds a quota here yet.')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'table usage', testid: 'usage-quotas-table' },
            h('thead', null, h('tr', null, h('th', null, 'Center'), h('th', null, 'Tenant'), ['Guaranteed', 'Used', 'Borrowed', 'May borrow'].map((x) => h('th', { class: 'num' }, x)), h('th', null, 'Of guarantee'))),
            h(
              'tbody',
              null,
              q.usage.map((u) =>
                h(
                  'tr',
                  { testid: 'usage-quota-row', 'data-center': u.center, 'data-tenant': u.tenant },
                  h('td', null, u.center),
                  h('th', null, u.tenant),
                  h('td', { class: 'num', testid: 'quota-nominal' }, u.limited ? acc(u.nominal) : '–'),
                  h('td', { class: 'num', testid: 'quota-used' }, acc(u.used)),
                  h('td', { class: 'num', testid: 'quota-borrowed' }, acc(u.borrowed)),
                  h('td', { class: 'num', testid: 'quota-limit' }, limit(u)),
                  h('td', { class: 'share' }, u.limited && u.nominal > 0 ? [h('span', { class: 'share-n' }, fmtPct(u.used / u.nominal)), bar(u.used / u.nominal)] : '–'),
                ),
              ),
            ),
          ),
        ),
  );
}

