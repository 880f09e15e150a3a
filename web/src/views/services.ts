// Services: every inference service with replicas not ended (the admin sees
// every tenant's, a tenant its own), one row each. A service's page is its
// first replica's job page, whose Service card lists the replicas and scales
// them (docs/services.md); services are submitted with the jobs view's form.

import { api } from '../api';
import type { Service } from '../api';
import { h, fill } from '../dom';
import { Poller, stamp, touch } from '../shell';
import type { Ctx, View } from '../shell';

const REFRESH_MS = 3000;
const COLUMNS = ['Service', 'Tenant', 'Name', 'Replicas', 'Running', 'Centers'];
const NUMERIC = new Set(['Replicas', 'Running']);

export function servicesView(ctx: Ctx): View {
  const updated = stamp();
  const tbody = h('tbody', { testid: 'services-tbody' });
  const table = h(
    'table',
    { class: 'table services', testid: 'services-table' },
    h('thead', null, h('tr', null, COLUMNS.map((t) => h('th', { class: NUMERIC.has(t) ? 'num' : undefined }, t)))),
    tbody,
  );

  const el = h(
    'div',
    { class: 'view', testid: 'view-services' },
    h('div', { class: 'view-head' }, h('h1', null, 'Services'), updated),
    h(
      'p',
      { class: 'muted' },
      'Inference services with replicas that have not ended. A service is submitted with the ',
      h('a', { href: '#/jobs' }, 'jobs'),
      ' form (Replicas); its page, its first replica’s, lists the replicas and scales them.',
    ),
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'toolbar' }, h('button', { class: 'btn btn-small', testid: 'services-refresh', onclick: () => poller.now() }, 'Refresh')),
      h('div', { class: 'table-wrap' }, table),
    ),
  );

  function render(list: Service[]): void {
    if (list.length === 0) {
      fill(tbody, h('tr', null, h('td', { colspan: COLUMNS.length, class: 'empty', testid: 'services-empty' }, 'No services with replicas running or pending.')));
      return;
    }
    fill(tbody, list.map(row));
  }

  function row(s: Service): HTMLElement {
    const first = s.replicas[0];
    const running = s.replicas.filter((r) => r.state === 'running').length;
    const centers = [...new Set(s.replicas.map((r) => r.center).filter(Boolean))];
    const ids = s.replicas.map((r) => `#${r.id} ${r.state}`).join(', ');
    const dash = () => h('span', { class: 'muted' }, '–');
    return h(
      'tr',
      { testid: 'service-row', 'data-service': s.service, 'data-tenant': first?.tenant ?? '', 'data-replicas': s.replicas.length, 'data-running': running },
      // The service's id is its first replica's: that job's page has the Service card.
      h('td', null, h('a', { href: `#/jobs/${s.service}`, testid: 'service-row-link' }, `#${s.service}`)),
      h('td', { testid: 'service-tenant' }, first ? first.tenant : dash()),
      h(
        'td',
        { class: 'ellipsis', testid: 'service-name', title: first ? first.command.join(' ') : undefined },
        first ? first.name || h('span', { class: 'muted' }, first.command[0] ?? '') : dash(),
      ),
      h('td', { class: 'num', testid: 'service-replicas', title: ids }, String(s.replicas.length)),
      h('td', { class: 'num', testid: 'service-running' }, String(running)),
      h('td', { class: 'ellipsis', testid: 'service-centers' }, centers.length ? centers.join(', ') : h('span', { class: 'muted' }, 'not placed')),
    );
  }

  const poller = new Poller(async () => {
    try {
      const list = await api.services();
      ctx.report('Services', null);
      render(list);
      touch(updated);
    } catch (e) {
      ctx.report('Services', e);
    }
  }, REFRESH_MS);

  poller.start();
  return { el, dispose: () => poller.stop() };
}
