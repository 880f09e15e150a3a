// Datasets: the registered datasets (the admin sees every tenant's, a tenant
// its own), a form to register one at a center, and a delete button for the
// caller's own. Jobs name a dataset in their spec (the jobs view's form).

import { api, ApiError, describeError } from '../api';
import type { Dataset, DatasetRequest } from '../api';
import { h, fill } from '../dom';
import { fmtNum, fmtRelative, fmtTime } from '../format';
import { Poller, stamp, touch } from '../shell';
import type { Ctx, View } from '../shell';

const REFRESH_MS = 5000;
const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

// Decimal units, as the API's size_gb: 2000000000 -> "2 GB", 1234567 -> "1.23 MB".
export function fmtBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  const units: [number, string][] = [[1e15, 'PB'], [1e12, 'TB'], [1e9, 'GB'], [1e6, 'MB'], [1e3, 'kB']];
  const n = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: x >= 100 ? 0 : 2 });
  for (const [size, unit] of units) if (bytes >= size) return `${n(bytes / size)} ${unit}`;
  return `${fmtNum(bytes)} B`;
}

export function datasetsView(ctx: Ctx): View {
  const updated = stamp();

  // --- register form -----------------------------------------------------
  const name = h('input', {
    id: 'd-name',
    name: 'name',
    type: 'text',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'imagenet-1k',
    testid: 'register-name',
  });
  const center = h('select', { id: 'd-center', name: 'center', required: true, testid: 'register-center' });
  const size = h('input', { id: 'd-size', name: 'size_gb', type: 'number', min: 0, step: 'any', placeholder: 'measured', testid: 'register-size' });
  const registerBtn = h('button', { class: 'btn btn-primary', type: 'submit', testid: 'register-button' }, 'Register dataset');
  const formMsg = h('div', { class: 'form-msg', 'aria-live': 'polite' });
  const fieldEls: Record<string, HTMLElement> = { name, center, size_gb: size };

  const field = (label: string, input: HTMLElement, hint?: string) =>
    h('label', { class: 'field', for: input.id }, h('span', { class: 'field-label' }, label), input, hint ? h('span', { class: 'hint' }, hint) : null);

  const form = h(
    'form',
    { class: 'card register-form', testid: 'register-form', novalidate: true, onsubmit: (ev: Event) => { ev.preventDefault(); void register(); } },
    h('h2', null, 'Register a dataset'),
    h(
      'div',
      { class: 'form-grid' },
      field('Name', name, 'lower case letters, digits, . _ -'),
      field('Center', center, 'the center that holds it'),
      field('Size (GB)', size, 'needed at a center without a data root (measured otherwise)'),
    ),
    h('div', { class: 'form-actions' }, registerBtn, formMsg),
  );

  function showFormError(message: string, fieldName?: string): void {
    for (const el of Object.values(fieldEls)) el.classList.remove('invalid');
    if (fieldName && fieldEls[fieldName]) {
      fieldEls[fieldName].classList.add('invalid');
      fieldEls[fieldName].focus();
    }
    fill(formMsg, h('span', { class: 'msg-error', role: 'alert', testid: 'register-error' }, message));
  }

  async function register(): Promise<void> {
    for (const el of Object.values(fieldEls)) el.classList.remove('invalid');
    const n = name.value.trim();
    if (!NAME_RE.test(n)) {
      showFormError('name: 1 to 64 of a-z, 0-9, . _ - (starting with a letter or digit)', 'name');
      return;
    }
    if (!center.value) {
      showFormError('center: choose the center that holds the dataset', 'center');
      return;
    }
    const req: DatasetRequest = { name: n, center: center.value };
    const s = size.value.trim();
    if (s !== '') {
      const gb = Number(s);
      if (!Number.isFinite(gb) || gb < 0) {
        showFormError('size: a number of gigabytes (10^9 bytes), or empty to measure it', 'size_gb');
        return;
      }
      req.size_gb = gb;
    }
    registerBtn.disabled = true;
    fill(formMsg, h('span', { class: 'muted' }, 'Registering…'));
    try {
      const d = await api.registerDataset(req);
      fill(formMsg, h('span', { class: 'msg-ok', testid: 'register-result', 'data-name': d.name }, `Registered ${d.name} at ${d.center} (${fmtBytes(d.size_bytes)})`));
      poller.now();
    } catch (e) {
      showFormError(describeError(e), e instanceof ApiError ? e.field : undefined);
    } finally {
      registerBtn.disabled = false;
    }
  }

  // --- table -------------------------------------------------------------
  const tbody = h('tbody', { testid: 'datasets-tbody' });
  const table = h(
    'table',
    { class: 'table datasets', testid: 'datasets-table' },
    h('thead', null, h('tr', null, ['Tenant', 'Name', 'Center', 'Size', 'Copies', 'Registered', ''].map((t) => h('th', { class: t === 'Size' ? 'num' : undefined }, t)))),
    tbody,
  );

  const el = h(
    'div',
    { class: 'view', testid: 'view-datasets' },
    h('div', { class: 'view-head' }, h('h1', null, 'Datasets'), updated),
    h('p', { class: 'muted' }, 'A job that names a dataset reads it at $SUANLI_DATASET_DIR; at a center other than the one holding it, the dataset is copied there first (its "staged" event).'),
    form,
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'toolbar' }, h('button', { class: 'btn btn-small', testid: 'datasets-refresh', onclick: () => poller.now() }, 'Refresh')),
      h('div', { class: 'table-wrap' }, table),
    ),
  );

  async function remove(d: Dataset, button: HTMLButtonElement): Promise<void> {
    if (!window.confirm(`Forget dataset ${d.name}? Its files stay where they are.`)) return;
    button.disabled = true;
    const source = `Delete dataset ${d.name}`;
    try {
      await api.deleteDataset(d.name);
      ctx.report(source, null);
    } catch (e) {
      ctx.report(source, e);
      button.disabled = false;
    }
    poller.now();
  }

  function render(list: Dataset[]): void {
    if (list.length === 0) {
      fill(tbody, h('tr', null, h('td', { colspan: 7, class: 'empty', testid: 'datasets-empty' }, 'No datasets registered.')));
      return;
    }
    const now = Date.now();
    const sorted = [...list].sort((a, b) => a.tenant.localeCompare(b.tenant) || a.name.localeCompare(b.name));
    fill(tbody, sorted.map((d) => row(d, now)));
  }

  function row(d: Dataset, now: number): HTMLElement {
    const copies = d.copies.length
      ? d.copies.map((c, i) => [i ? ', ' : '', h('span', { testid: 'dataset-copy', 'data-center': c.center, title: `staged ${fmtTime(c.staged_ms)}` }, c.center)])
      : h('span', { class: 'muted' }, 'none');
    // DELETE names the caller's own dataset: no button on other tenants'.
    const del =
      d.tenant === ctx.who.tenant
        ? h('button', {
            class: 'btn btn-small btn-danger',
            testid: 'dataset-delete',
            onclick: (ev: Event) => void remove(d, ev.currentTarget as HTMLButtonElement),
          }, 'Delete')
        : null;
    return h(
      'tr',
      { testid: 'dataset-row', 'data-name': d.name, 'data-tenant': d.tenant },
      h('td', { testid: 'dataset-tenant' }, d.tenant),
      h('td', { testid: 'dataset-name' }, d.name),
      h('td', { testid: 'dataset-center' }, d.center),
      h('td', { class: 'num', testid: 'dataset-size', title: `${fmtNum(d.size_bytes)} bytes` }, fmtBytes(d.size_bytes)),
      h('td', { testid: 'dataset-copies' }, copies),
      h('td', { title: fmtTime(d.created_ms) }, fmtRelative(d.created_ms, now)),
      h('td', { class: 'actions' }, del),
    );
  }

  const poller = new Poller(async () => {
    try {
      const list = await api.datasets();
      ctx.report('Datasets', null);
      render(list);
      touch(updated);
    } catch (e) {
      ctx.report('Datasets', e);
    }
  }, REFRESH_MS);

  async function loadCenters(): Promise<void> {
    try {
      const names = (await api.centers()).map((c) => c.name);
      const keep = center.value;
      fill(center, names.map((n) => h('option', { value: n }, n)));
      if (names.includes(keep)) center.value = keep;
      ctx.report('Centers', null);
    } catch (e) {
      ctx.report('Centers', e);
    }
  }

  poller.start();
  void loadCenters();
  return { el, dispose: () => poller.stop() };
}
