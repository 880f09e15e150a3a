// The dashboard's end-to-end test (e2e.mjs): the checks of the served
// dashboard, signing in, the network view (and draining a center), the
// datasets view, the usage view (and quotas), and the session (missing jobs,
// deep links, signing out, a tenant's view).

import {
  T, network, base, token, ok, assert, apiCall,
  tid, waitText, visible, shot, goTo, datasetRow, attached, gone,
} from './e2e-harness.mjs';

// The dashboard is compiled in: "/" is its page, any other non-API path too.
export async function servingChecks() {
  const res = await fetch(`${base}/`);
  const html = await res.text();
  assert(res.ok && /<script[^>]+src="\/assets\/[^"]+\.js"/.test(html), `GET / is not the built dashboard (status ${res.status}): ${html.slice(0, 300)}`);
  const deep = await fetch(`${base}/jobs/some/deep/path`);
  assert(deep.ok && (await deep.text()) === html, 'GET of a non-API path does not fall back to index.html');
  const asset = html.match(/src="(\/assets\/[^"]+\.js)"/)[1];
  const js = await fetch(base + asset);
  assert(js.ok && (js.headers.get('content-type') ?? '').includes('javascript'), `${asset}: status ${js.status}, content-type ${js.headers.get('content-type')}`);
  const api404 = await apiCall('GET', '/api/v1/no-such-route');
  assert(api404.status === 404 && api404.body?.error, `an unknown API route answers ${api404.status} ${api404.text.slice(0, 200)}, not a JSON 404`);
  ok('the server serves the built dashboard at /, falls back to index.html for other paths, serves its script, and keeps /api/v1 JSON');
}

// Signs in through the form: a wrong token first, then the admin's.
export async function loginChecks(page) {
  await page.goto(`${base}/`);
  await visible(page, tid('login-form'), 'the sign-in form');
  await page.locator(tid('login-token')).fill('not-the-token');
  await page.locator(tid('login-submit')).click();
  await waitText(page.locator(tid('login-error')), (t) => t.includes('HTTP 401'), 'a wrong token is refused with a readable message');
  ok('a wrong token is refused with a readable message (HTTP 401)');
  await shot(page, 'login');

  await page.locator(tid('login-token')).fill(token);
  await page.locator(tid('login-submit')).click();
  await waitText(page.locator(tid('whoami')), (t) => t.includes('admin'), 'the header shows who is signed in');
  const stored = await page.evaluate(() => localStorage.getItem('suanli.token'));
  assert(stored === token, 'the token is kept in localStorage after signing in');
  ok('signed in with the admin token through the form; the header shows "admin"; the token is in localStorage');
}

// The network view; returns the path of its screenshot.
export async function networkChecks(page) {
  await visible(page, tid('view-network'), 'the network view after signing in');
  if (network) {
    // Some simulated load, so that the screenshots show busy centers.
    for (let i = 0; i < 40; i++) {
      const r = await apiCall('POST', '/api/v1/jobs', { command: ['train'], name: `sim-${i + 1}`, gpus: [8, 4, 8, 2, 8, 1][i % 6], time_limit_s: 4 * 3600 });
      assert(r.status === 201, `POST /api/v1/jobs (simulated load) answered ${r.status}: ${r.text.slice(0, 300)}`);
    }
    await waitText(page.locator(`${tid('total-running')} .stat-value`), (t) => Number(t.replace(/,/g, '')) > 0, 'the simulated load runs', T.refresh);
    ok(`40 simulated jobs run on the network ${network}`);
  }
  const local = page.locator(`${tid('center-card')}[data-center="local"]`);
  await visible(page, `${tid('center-card')}[data-center="local"]`, 'the card of center "local"');
  await waitText(local.locator(tid('center-backend')), (t) => t.trim() === 'local', 'center "local" shows backend "local"');
  await waitText(local.locator(tid('center-state')), (t) => t.trim() === 'up', 'center "local" is up');
  const cards = await page.locator(tid('center-card')).count();
  await waitText(page.locator(`${tid('total-centers')} .stat-value`), (t) => new RegExp(`\\d+\\s*/\\s*${cards}$`).test(t.trim()), `the network totals count the ${cards} center(s)`);
  for (const id of ['center-util', 'center-running', 'center-pending', 'center-power', 'center-pue', 'center-price', 'center-carbon']) {
    assert((await local.locator(tid(id)).count()) === 1, `the "local" card has no ${id}`);
  }
  const hist = await apiCall('GET', '/api/v1/centers/history');
  const localHist = hist.status === 200 ? hist.body.history.find((x) => x.center === 'local') : undefined;
  assert(localHist && localHist.samples.length >= 1 && localHist.samples[0].devices >= 0, `GET /api/v1/centers/history: ${hist.status} ${hist.text.slice(0, 300)}`);
  await visible(page, `${tid('center-card')}[data-center="local"] ${tid('center-history-chart')}`, 'the history chart of center "local"');
  const points = Number(await local.locator(tid('center-history-chart')).getAttribute('data-points'));
  assert(points >= 1, `the history chart of "local" has ${points} points`);
  ok('the network view shows center "local" (backend local, up) with utilisation, counts, power, PUE, price and carbon, its history chart (utilisation and pending jobs), and the network totals');
  await page.locator(tid('updated')).waitFor();
  const networkShot = await shot(page, 'network');
  return networkShot;
}

// Datasets: register through the form, name one in a job, delete.
export async function datasetChecks(page) {
  await goTo(page, 'datasets', 'datasets');
  await attached(page, `${tid('register-center')} option[value="local"]`, 'center "local" among the choices of the register form');
  await page.locator(tid('register-name')).fill('e2e-data');
  await page.locator(tid('register-center')).selectOption('local');
  await page.locator(tid('register-button')).click();
  const sizeErr = await waitText(page.locator(tid('register-error')), (x) => x.includes('HTTP 400'), 'a dataset without a size at a center without a data root is refused by the API');
  assert(/size_gb/.test(sizeErr), `the API error names size_gb: ${sizeErr}`);
  assert(await page.locator(tid('register-size')).evaluate((e) => e.classList.contains('invalid')), 'the size field is marked invalid');
  await page.locator(tid('register-size')).fill('2');
  await page.locator(tid('register-button')).click();
  await visible(page, `${tid('register-result')}[data-name="e2e-data"]`, 'the result of registering e2e-data');
  const dsRow = page.locator(datasetRow('e2e-data'));
  await visible(page, datasetRow('e2e-data'), 'dataset e2e-data in the table');
  await waitText(dsRow.locator(tid('dataset-center')), (x) => x.trim() === 'local', 'dataset e2e-data is held by center local');
  await waitText(dsRow.locator(tid('dataset-size')), (x) => /^2(\.0+)? GB$/.test(x.trim()), 'dataset e2e-data is 2 GB');
  await waitText(dsRow.locator(tid('dataset-copies')), (x) => x.trim() === 'none', 'dataset e2e-data has no copies yet');
  const ds = await apiCall('GET', '/api/v1/datasets/e2e-data');
  assert(ds.status === 200 && ds.body.size_bytes === 2e9 && ds.body.center === 'local' && ds.body.tenant === 'admin', `GET /api/v1/datasets/e2e-data: ${ds.status} ${ds.text.slice(0, 300)}`);
  await page.locator(tid('register-name')).fill('e2e-spare');
  await page.locator(tid('register-size')).fill('0.5');
  await page.locator(tid('register-button')).click();
  await visible(page, datasetRow('e2e-spare'), 'dataset e2e-spare in the table');
  ok(`registered datasets e2e-data (2 GB) and e2e-spare at center local through the form, after the API refused one without a size: "${sizeErr.trim()}"`);
  await shot(page, 'datasets');

  await goTo(page, 'jobs', 'jobs');
  await attached(page, `${tid('submit-dataset')} option[value="e2e-data"]`, 'dataset e2e-data among the choices of the submit form');
  await page.locator(tid('submit-command')).fill('sleep 300');
  await page.locator(tid('submit-name')).fill('e2e-dataset');
  await page.locator(tid('submit-center')).selectOption('local');
  await page.locator(tid('submit-dataset')).selectOption('e2e-data');
  await page.locator(tid('submit-button')).click();
  await visible(page, tid('submit-result'), 'the id of the job naming a dataset');
  const id4 = Number(await page.locator(tid('submit-result')).getAttribute('data-job-id'));
  const job4 = await apiCall('GET', `/api/v1/jobs/${id4}`);
  assert(job4.status === 200 && job4.body.dataset === 'e2e-data', `job #${id4} does not name dataset e2e-data: ${job4.status} ${job4.text.slice(0, 300)}`);
  await page.locator(tid('submit-result-link')).click();
  await visible(page, `${tid('view-job')}[data-job-id="${id4}"]`, `the page of job #${id4}`);
  await waitText(page.locator(tid('field-dataset')), (x) => x.trim() === 'e2e-data', `job #${id4}'s page shows its dataset`);
  ok(`job #${id4} (sleep 300), submitted through the form with dataset e2e-data, names it in the API and on its page`);

  await goTo(page, 'datasets', 'datasets');
  await visible(page, `${datasetRow('e2e-data')} ${tid('dataset-delete')}`, 'the delete button of e2e-data');
  await page.locator(`${datasetRow('e2e-data')} ${tid('dataset-delete')}`).click();
  const inUse = await waitText(page.locator(tid('error-banner')), (x) => x.includes('e2e-data') && x.includes('HTTP 409'), 'deleting a dataset an active job uses is refused');
  assert((await apiCall('GET', '/api/v1/datasets/e2e-data')).status === 200, 'dataset e2e-data is gone although job uses it');
  await page.locator(`${datasetRow('e2e-spare')} ${tid('dataset-delete')}`).click();
  await gone(page, datasetRow('e2e-spare'), 'dataset e2e-spare leaves the table when deleted');
  assert((await apiCall('GET', '/api/v1/datasets/e2e-spare')).status === 404, 'the API still has dataset e2e-spare after deleting it');
  // Done with the job (the cleanup would cancel it too).
  const c4 = await apiCall('POST', `/api/v1/jobs/${id4}/cancel`);
  assert(c4.status === 200, `POST /api/v1/jobs/${id4}/cancel answered ${c4.status}: ${c4.text.slice(0, 300)}`);
  ok(`deleting e2e-data while job #${id4} is active is refused ("${inUse.trim()}") and keeps it; deleting e2e-spare removes it from the table and the API`);
}

// Drain and resume a center (admin).
export async function drainChecks(page) {
  const local = page.locator(`${tid('center-card')}[data-center="local"]`);
  await goTo(page, 'network', 'network');
  await page.locator(`${tid('center-card')}[data-center="local"] ${tid('center-drain')}`).click();
  await waitText(local.locator(tid('center-state')), (t) => t.trim() === 'drained', 'center "local" shows drained after Drain', T.refresh);
  let c = await apiCall('GET', '/api/v1/centers');
  assert(c.body?.centers?.find((x) => x.name === 'local')?.drained === true, `the API does not say local is drained: ${c.text.slice(0, 300)}`);
  await page.locator(`${tid('center-card')}[data-center="local"] ${tid('center-resume')}`).click();
  await waitText(local.locator(tid('center-state')), (t) => t.trim() === 'up', 'center "local" is up again after Resume', T.refresh);
  c = await apiCall('GET', '/api/v1/centers');
  assert(c.body?.centers?.find((x) => x.name === 'local')?.drained === false, `the API still says local is drained: ${c.text.slice(0, 300)}`);
  ok('the admin drains center "local" from its card and resumes it; the API agrees each time');
}

// The usage view, and quotas: set by the admin through the API, shown on it.
export async function usageChecks(page) {
  await goTo(page, 'usage', 'usage');
  const adminRow = page.locator(`${tid('usage-tenant-row')}[data-tenant="admin"]`);
  await visible(page, `${tid('usage-tenant-row')}[data-tenant="admin"]`, 'the usage row of tenant admin');
  await waitText(adminRow.locator(tid('usage-jobs')), (t) => Number(t.replace(/,/g, '')) >= 2, 'tenant admin has at least the two succeeded jobs in its usage');
  await visible(page, `${tid('usage-center-row')}[data-center="local"]`, 'the usage row of center local');
  ok(`the usage view lists tenant admin (${(await adminRow.locator(tid('usage-jobs')).textContent()).trim()} jobs) and center local`);
  await shot(page, 'usage');

  // --- quotas: set by the admin through the API, shown on the usage view ---
  const qs = await apiCall('PUT', '/api/v1/quotas', { cohort: 'e2e', tenants: [{ name: 'admin', nominal: 2, borrowing_limit: 'unlimited' }] });
  assert(qs.status === 200 && qs.body?.quotas?.cohort === 'e2e', `PUT /api/v1/quotas answered ${qs.status}: ${qs.text.slice(0, 300)}`);
  await goTo(page, 'network', 'network');
  await goTo(page, 'usage', 'usage');
  const quotaRow = `${tid('usage-quota-row')}[data-tenant="admin"][data-center="local"]`;
  await visible(page, quotaRow, 'the quota row of tenant admin at center local');
  await waitText(page.locator(`${quotaRow} ${tid('quota-nominal')}`), (x) => x.trim() === '2', 'tenant admin is guaranteed 2 accelerators at center local');
  await waitText(page.locator(`${quotaRow} ${tid('quota-limit')}`), (x) => x.trim() === 'unlimited', 'tenant admin may borrow without limit');
  ok('the usage view shows the quotas the admin set: guaranteed, used, borrowed and the borrowing limit per center');
  await shot(page, 'usage-quotas');
  const qd = await apiCall('DELETE', '/api/v1/quotas');
  assert(qd.status === 200 && qd.body?.quotas === null, `DELETE /api/v1/quotas answered ${qd.status}: ${qd.text.slice(0, 300)}`);
  await goTo(page, 'network', 'network');
  await goTo(page, 'usage', 'usage');
  await page.locator(tid('usage-quotas')).waitFor({ state: 'hidden', timeout: T.ui });
  ok('without quotas the usage view shows no quota card');
}

// Errors, deep links, sign out; a tenant sees its own jobs only and no admin
// controls. id1 is a job of the admin's that succeeded.
export async function sessionChecks(page, id1) {
  await page.goto(`${base}/#/jobs/987654`);
  await waitText(page.locator(tid('job-not-found')), (t) => t.includes('987654'), 'a job that does not exist gets a message');
  ok('a missing job gets a readable message, not a blank page');
  await page.goto(`${base}/some/deep/link#/jobs/${id1}`);
  await waitText(page.locator(`${tid('view-job')} ${tid('job-state')}`), (t) => t.trim() === 'succeeded', 'a deep link under another path opens the job page (token kept)');
  ok('a reload on a deep link keeps the session and opens the job page');
  await page.locator(tid('logout')).click();
  await visible(page, tid('login-form'), 'the sign-in form after signing out');
  assert((await page.evaluate(() => localStorage.getItem('suanli.token'))) === null, 'the token is removed on sign out');
  ok('signing out forgets the token and shows the sign-in form');

  // --- a tenant sees its own jobs only and no admin controls ---
  const t = await apiCall('POST', '/api/v1/tenants', { name: 'e2e-tenant' });
  assert(t.status === 201 && t.body?.token, `POST /api/v1/tenants answered ${t.status}: ${t.text.slice(0, 300)}`);
  await page.locator(tid('login-token')).fill(t.body.token);
  await page.locator(tid('login-submit')).click();
  await waitText(page.locator(tid('whoami')), (x) => x.trim() === 'e2e-tenant', 'the header shows the tenant, without the admin badge');
  await visible(page, `${tid('center-card')}[data-center="local"]`, 'the network view for the tenant');
  assert((await page.locator(tid('center-drain')).count()) === 0, 'a tenant is offered Drain');
  await goTo(page, 'jobs', 'jobs');
  await visible(page, tid('jobs-empty'), "the tenant's (empty) jobs table");
  assert((await page.locator(tid('job-row')).count()) === 0, "a tenant sees the admin's jobs");
  assert(!(await page.locator(tid('filter-tenant')).isVisible()), 'a tenant is offered the tenant filter');
  await page.goto(`${base}/#/jobs/${id1}`);
  await visible(page, tid('job-not-found'), "the admin's job is not found for the tenant");
  await page.locator(tid('logout')).click();
  await visible(page, tid('login-form'), 'the sign-in form after the tenant signs out');
  ok('a tenant signs in with its own token, sees no jobs of the admin (not even by address), and no Drain or tenant filter');
}
