// Network at a glance: totals across the network and one card per center.

import { api, describeError } from '../api';
import type { Center, CenterHistory } from '../api';
import { lineChart } from '../chart';
import { h, fill, bar, badge } from '../dom';
import { fmtCount, fmtNum, fmtPct, fmtSmart, fmtTime } from '../format';
import { Poller, stamp, touch } from '../shell';
import type { Ctx, View } from '../shell';

const REFRESH_MS = 3000;

export function networkView(ctx: Ctx): View {
  const updated = stamp();
  const totals = h('section', { class: 'totals', testid: 'network-totals' });
  const grid = h('section', { class: 'cards', testid: 'center-cards' });
  const el = h(
    'div',
    { class: 'view', testid: 'view-network' },
    h('div', { class: 'view-head' }, h('h1', null, 'Network'), updated),
    totals,
    grid,
  );

  let centers: Center[] = [];
  let history = new Map<string, CenterHistory>();
  const poller = new Poller(async () => {
    try {
      const [cs, hist] = await Promise.all([api.centers(), api.history()]);
      centers = cs;
      history = new Map(hist.map((x) => [x.center, x]));
      ctx.report('Centers', null);
      render();
      touch(updated);
    } catch (e) {
      ctx.report('Centers', e);
    }
  }, REFRESH_MS);

  function render(): void {
    fill(totals, totalsOf(centers));
    if (centers.length === 0) {
      fill(grid, h('p', { class: 'empty' }, 'The server runs no centers.'));
      return;
    }
    fill(grid, centers.map((c) => card(c, ctx, poller, history.get(c.name))));
  }

  poller.start();
  return { el, dispose: () => poller.stop() };
}

function stat(label: string, value: string, unit: string, testid: string, sub?: string): HTMLElement {
  return h(
    'div',
    { class: 'stat', testid },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value' }, value, unit ? h('small', null, ` ${unit}`) : null),
    sub ? h('div', { class: 'stat-sub' }, sub) : null,
  );
}

function totalsOf(centers: Center[]): HTMLElement[] {
  let devices = 0;
  let busy = 0;
  let pending = 0;
  let running = 0;
  let power = 0;
  let costPerHour = 0;
  let carbonKgPerHour = 0;
  let up = 0;
  for (const c of centers) {
    devices += c.devices;
    busy += c.busy_devices;
    pending += c.pending;
    running += c.running;
    power += c.power_kw;
    costPerHour += c.power_kw * c.price_now;
    carbonKgPerHour += (c.power_kw * c.carbon_now) / 1000;
    if (c.up && !c.drained) up++;
  }
  const util = devices > 0 ? busy / devices : 0;
  return [
    stat('Centers taking jobs', `${up} / ${centers.length}`, '', 'total-centers', up < centers.length ? `${centers.length - up} down or drained` : 'all up'),
    h(
      'div',
      { class: 'stat stat-wide', testid: 'total-util' },
      h('div', { class: 'stat-label' }, 'Accelerators busy'),
      h('div', { class: 'stat-value' }, `${fmtCount(busy)} / ${fmtNum(devices)}`, h('small', null, ` ${fmtPct(util)}`)),
      bar(util, undefined, 'network utilisation'),
    ),
    stat('Jobs running', fmtNum(running), '', 'total-running', `${fmtNum(pending)} pending`),
    stat('Power', fmtSmart(power, 1), 'kW', 'total-power', 'busy accelerators × PUE'),
    stat('Power cost now', fmtSmart(costPerHour, 2), '/ h', 'total-cost', 'power × price now'),
    stat('Emissions now', fmtSmart(carbonKgPerHour, 2), 'kg CO₂/h', 'total-carbon', 'power × grid carbon now'),
  ];
}

function fact(label: string, value: string, unit: string, testid: string): HTMLElement {
  return h('div', null, h('dt', null, label), h('dd', { testid }, value, unit ? h('small', null, ` ${unit}`) : null));
}

function stateBadge(c: Center): HTMLElement {
  if (!c.up) return badge('down', 'bad', 'center-state');
  if (c.drained) return badge('drained', 'warn', 'center-state');
  return badge('up', 'ok', 'center-state');
}

// Utilisation and queue over the server's history of the center (sampled
// every minute, the last 24 hours).
function historyOf(c: Center, hist?: CenterHistory): HTMLElement | null {
  const samples = hist?.samples ?? [];
  if (samples.length === 0) return null;
  const times = samples.map((s) => s.time_ms);
  const util = samples.map((s) => (s.devices > 0 ? s.busy_devices / s.devices : 0));
  const queue = samples.map((s) => s.pending);
  return h(
    'figure',
    { class: 'history', testid: 'center-history' },
    lineChart(
      times,
      [
        { name: 'utilisation', cls: 'line-util', values: util, max: 1, fmt: fmtPct },
        { name: 'pending', cls: 'line-queue', values: queue, max: Math.max(1, ...queue), fmt: (v) => fmtNum(v) },
      ],
      'center-history-chart',
      `${c.name}: utilisation and pending jobs since ${fmtTime(times[0])}`,
    ),
    h(
      'figcaption',
      { class: 'muted' },
      h('span', { class: 'key key-util' }, 'utilisation'),
      ' and ',
      h('span', { class: 'key key-queue' }, 'pending jobs'),
      `, sampled every minute since ${fmtTime(times[0])}`,
    ),
  );
}

function card(c: Center, ctx: Ctx, poller: Poller, hist?: CenterHistory): HTMLElement {
  const util = c.devices > 0 ? c.busy_devices / c.devices : 0;
  const jobsLink = (state: string, n: number, label: string, testid: string) =>
    h(
      'a',
      { href: `#/jobs?center=${encodeURIComponent(c.name)}&state=${state}`, class: 'count', testid },
      h('span', { class: 'count-n' }, fmtNum(n)),
      h('span', { class: 'count-label' }, label),
    );

  const actions: HTMLElement[] = [];
  if (ctx.who.admin) {
    const drain = !c.drained;
    const btn = h(
      'button',
      {
        class: 'btn btn-small',
        testid: drain ? 'center-drain' : 'center-resume',
        title: drain ? 'Take no new jobs here' : 'Take new jobs again',
        onclick: async () => {
          btn.disabled = true;
          try {
            if (drain) await api.drain(c.name);
            else await api.resume(c.name);
            ctx.report(`Center ${c.name}`, null);
          } catch (e) {
            ctx.report(`Center ${c.name}`, describeError(e));
          }
          poller.now();
        },
      },
      drain ? 'Drain' : 'Resume',
    );
    actions.push(btn);
  }

  return h(
    'article',
    { class: `card center ${c.up ? (c.drained ? 'is-drained' : '') : 'is-down'}`, testid: 'center-card', 'data-center': c.name },
    h(
      'header',
      { class: 'card-head' },
      h('div', null, h('h2', { testid: 'center-name' }, c.name), c.region ? h('div', { class: 'muted' }, c.region) : null),
      h('div', { class: 'card-badges' }, badge(c.backend, 'neutral', 'center-backend'), stateBadge(c)),
    ),
    c.reason ? h('div', { class: 'reason', testid: 'center-reason' }, c.reason) : null,
    h(
      'div',
      { class: 'util', testid: 'center-util' },
      h(
        'div',
        { class: 'util-line' },
        h('span', null, 'Accelerators'),
        h('span', { class: 'util-n' }, c.devices > 0 ? `${fmtCount(c.busy_devices)} / ${fmtNum(c.devices)} busy · ${fmtPct(util)}` : 'none'),
      ),
      bar(util, 'center-util-bar', `${c.name} utilisation`),
    ),
    c.models.length
      ? h(
          'table',
          { class: 'models', testid: 'center-models' },
          h('tbody', null, c.models.map((m) => {
            const f = m.total > 0 ? m.busy / m.total : 0;
            return h(
              'tr',
              { 'data-model': m.model },
              h('th', null, m.model),
              h('td', { class: 'num' }, `${fmtCount(m.busy)} / ${fmtNum(m.total)}`),
              h('td', { class: 'model-bar' }, bar(f, undefined, `${m.model} utilisation`)),
            );
          })),
        )
      : null,
    historyOf(c, hist),
    h(
      'div',
      { class: 'counts' },
      jobsLink('running', c.running, 'running', 'center-running'),
      jobsLink('pending', c.pending, 'pending', 'center-pending'),
    ),
    h(
      'dl',
      { class: 'facts' },
      fact('Power', fmtSmart(c.power_kw, 1), 'kW', 'center-power'),
      fact('PUE', fmtNum(c.pue, 2), '', 'center-pue'),
      fact('Price now', fmtNum(c.price_now, 3), '/kWh', 'center-price'),
      fact('Carbon now', fmtNum(c.carbon_now, 0), 'g/kWh', 'center-carbon'),
    ),
    actions.length ? h('footer', { class: 'card-actions' }, actions) : null,
  );
}
