#!/usr/bin/env node
// End-to-end test of the dashboard against the real server, in headless
// Chromium driven by Playwright (playwright-core, with the system's Chromium).
//
// It starts `$SUANLI_BINARY serve` on a free port with a fresh data directory
// and a random admin token, signs in through the dashboard, checks the
// network view, submits a job through the form and follows it to `succeeded`
// and its log, submits one through the API and watches it appear, cancels
// one from the table, registers two datasets through the datasets view,
// submits a job naming one through the form, deletes the other (deleting the
// one in use is refused), submits an inference service of 2 replicas through
// the form, sees both on its page and in the services view, scales it to 1 on
// its page, checks the usage view, and saves a screenshot of every view. The
// server is stopped (SIGTERM) and the data directory removed in every case.
// Exits non-zero on the first failed check.
//
// Environment and flags:
//   SUANLI_BINARY (or --binary PATH)   the suanli binary (required)
//   SUANLI_CHROMIUM                    Chromium (default /usr/bin/chromium)
//   SUANLI_E2E_OUT (or --out DIR)      screenshots and the server's log
//                                      (default ./dashboard-e2e)
//   SUANLI_E2E_DOCS=1 (or --docs)      also write docs/img/dashboard-network.png
//                                      and docs/img/dashboard-job.png
//   SUANLI_E2E_TIMEOUT_S               the whole run (default 270)
//   SUANLI_E2E_NETWORK=SPEC            serve this network's centers (simulated)
//                                      beside `local`, with some simulated load:
//                                      livelier screenshots (e.g. china-aicc:1/100)
//   SUANLI_E2E_HEADED=1                show the browser (debugging)

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

// --- options ---------------------------------------------------------------

const argv = process.argv.slice(2);
function flag(name) {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}
const binary = flag('--binary') ?? process.env.SUANLI_BINARY;
const chromiumPath = process.env.SUANLI_CHROMIUM || '/usr/bin/chromium';
const outDir = path.resolve(flag('--out') ?? process.env.SUANLI_E2E_OUT ?? 'dashboard-e2e');
const writeDocs = argv.includes('--docs') || process.env.SUANLI_E2E_DOCS === '1';
const totalTimeoutMs = Number(process.env.SUANLI_E2E_TIMEOUT_S || 270) * 1000;
const headed = process.env.SUANLI_E2E_HEADED === '1';
const network = process.env.SUANLI_E2E_NETWORK ?? '';

// Generous: under AddressSanitizer the server is several times slower, and
// the test shares the machine with the rest of the suite.
const T = {
  health: 120_000,
  ui: 30_000,
  jobDone: 150_000,
  refresh: 20_000,
};

// --- reporting -------------------------------------------------------------

let checks = 0;
function ok(what) {
  checks++;
  console.log(`ok ${checks} - ${what}`);
}
class CheckFailed extends Error {}
function fail(what) {
  throw new CheckFailed(what);
}
function assert(cond, what) {
  if (!cond) fail(what);
}

// --- state that cleanup undoes ----------------------------------------------

let server = null; // ChildProcess
let serverExit = null; // {code, signal} once it exited
let serverLogPath = '';
let browser = null;
let tmpRoot = ''; // the server's data directory and config, removed at the end
let dataDir = '';
let base = '';
let token = '';
let cleanedUp = false;

async function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  if (browser) {
    await Promise.race([browser.close().catch(() => {}), sleep(10_000)]);
    browser = null;
  }
  if (server && !serverExit && base && token) {
    // Jobs run by the local backend outlive the server: end ours first.
    try {
      const active = await apiCall('GET', '/api/v1/jobs?state=pending,running&limit=1000', undefined, 5_000);
      for (const j of active.body?.jobs ?? []) await apiCall('POST', `/api/v1/jobs/${j.id}/cancel`, undefined, 5_000).catch(() => {});
      // A running job's cancel is carried out by a later pass: wait for it,
      // or its processes outlive the server.
      const until = Date.now() + 15_000;
      while (Date.now() < until) {
        const left = await apiCall('GET', '/api/v1/jobs?state=running&limit=1', undefined, 5_000);
        if (!(left.body?.jobs?.length > 0)) break;
        await sleep(200);
      }
    } catch {
      // the server may be gone already
    }
  }
  if (server && !serverExit) {
    server.kill('SIGTERM');
    const exited = await Promise.race([serverExited(), sleep(30_000).then(() => false)]);
    if (!exited) {
      console.log('# the server did not stop within 30 s of SIGTERM: killing it');
      server.kill('SIGKILL');
      await Promise.race([serverExited(), sleep(5_000)]);
    }
  }
  if (tmpRoot) {
    fs.rmSync(tmpRoot, { recursive: true, force: true, maxRetries: 3 });
    tmpRoot = '';
  }
}

let exitWaiters = [];
function serverExited() {
  if (serverExit) return Promise.resolve(true);
  return new Promise((resolve) => exitWaiters.push(() => resolve(true)));
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// --- server ----------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function apiCall(method, p, body, timeoutMs = 10_000) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(base + p, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, text };
}

function serverLogTail(lines = 40) {
  try {
    const all = fs.readFileSync(serverLogPath, 'utf8').trimEnd().split('\n');
    return all.slice(-lines).join('\n');
  } catch {
    return '(no server log)';
  }
}

async function startServer() {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const log = fs.openSync(serverLogPath, 'a');
    serverExit = null;
    exitWaiters = [];
    const args = ['serve', '--listen', `127.0.0.1:${port}`, '--data', dataDir];
    if (network) args.push('--config', path.join(tmpRoot, 'server.yaml'));
    server = spawn(binary, args, {
      env: { ...process.env, SUANLI_ADMIN_TOKEN: token },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    server.on('exit', (code, signal) => {
      serverExit = { code, signal };
      for (const w of exitWaiters) w();
      exitWaiters = [];
    });
    server.on('error', (e) => {
      serverExit = { code: null, signal: null, error: e.message };
      for (const w of exitWaiters) w();
      exitWaiters = [];
    });
    const deadline = Date.now() + T.health;
    while (Date.now() < deadline) {
      if (serverExit) break;
      try {
        const res = await fetch(`${base}/api/v1/health`, { signal: AbortSignal.timeout(2_000) });
        if (res.ok) {
          const h = await res.json();
          assert(h.ok === true, `/api/v1/health answered ${JSON.stringify(h)}`);
          ok(`server started on ${base} (version ${h.version ?? '?'}) and answers /api/v1/health`);
          return;
        }
      } catch (e) {
        if (e instanceof CheckFailed) throw e;
      }
      await sleep(250);
    }
    if (serverExit) {
      const tail = serverLogTail();
      // Someone took the port between the probe and the bind: try another.
      if (/address already in use|bind/i.test(tail) && attempt < 3) {
        console.log(`# port ${port} was taken, trying another`);
        continue;
      }
      fail(`the server exited (${JSON.stringify(serverExit)}) before answering /api/v1/health; its log:\n${tail}`);
    }
    fail(`the server did not answer /api/v1/health within ${T.health / 1000} s; its log:\n${serverLogTail()}`);
  }
}

// --- browser helpers ---------------------------------------------------------

const tid = (id) => `[data-testid="${id}"]`;

// Waits until `locator`'s text satisfies `pred`; fails with what it saw.
async function waitText(locator, pred, what, timeout = T.ui) {
  const deadline = Date.now() + timeout;
  let seen = '(nothing)';
  while (Date.now() < deadline) {
    try {
      if ((await locator.count()) > 0) {
        seen = (await locator.first().textContent({ timeout: 2_000 })) ?? '';
        if (pred(seen)) return seen;
      }
    } catch {
      // detached while re-rendering: look again
    }
    await sleep(200);
  }
  fail(`${what}: waited ${timeout / 1000} s, last saw ${JSON.stringify(seen.slice(0, 500))}`);
}

async function visible(page, selector, what, timeout = T.ui) {
  try {
    await page.locator(selector).first().waitFor({ state: 'visible', timeout });
  } catch {
    const banner = await page.locator(tid('error-banner')).textContent().catch(() => '');
    fail(`${what}: ${selector} did not appear within ${timeout / 1000} s${banner ? `; the dashboard shows: ${banner}` : ''}`);
  }
}

async function shot(page, name) {
  const file = path.join(outDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

async function goTo(page, nav, view) {
  await page.locator(tid(`nav-${nav}`)).click();
  await visible(page, tid(`view-${view}`), `the ${view} view`);
}

const jobRow = (id) => `${tid('job-row')}[data-job-id="${id}"]`;
const datasetRow = (name) => `${tid('dataset-row')}[data-tenant="admin"][data-name="${name}"]`;
const serviceRow = (id) => `${tid('service-row')}[data-service="${id}"]`;

// Waits until `selector` is in the page (attached, visible or not: options).
async function attached(page, selector, what, timeout = T.ui) {
  try {
    await page.locator(selector).first().waitFor({ state: 'attached', timeout });
  } catch {
    fail(`${what}: ${selector} did not appear within ${timeout / 1000} s`);
  }
}

async function gone(page, selector, what, timeout = T.refresh) {
  try {
    await page.locator(selector).first().waitFor({ state: 'detached', timeout });
  } catch {
    const banner = await page.locator(tid('error-banner')).textContent().catch(() => '');
    fail(`${what}: ${selector} is still there after ${timeout / 1000} s${banner ? `; the dashboard shows: ${banner}` : ''}`);
  }
}

// --- the test --------------------------------------------------------------

async function run() {
  assert(binary, 'SUANLI_BINARY (or --binary) must name the suanli binary');
  assert(fs.existsSync(binary), `SUANLI_BINARY=${binary} does not exist`);
  assert(fs.existsSync(chromiumPath), `Chromium is not at ${chromiumPath} (scripts/install-deps.sh installs it; SUANLI_CHROMIUM names another)`);
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    fail(`playwright-core is not installed in web/node_modules (run scripts/build-web.sh): ${e.message}`);
  }

  fs.mkdirSync(outDir, { recursive: true });
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'suanli-e2e-'));
  dataDir = path.join(tmpRoot, 'data');
  if (network) {
    // The network's centers are simulated; `local` runs processes here.
    fs.writeFileSync(path.join(tmpRoot, 'server.yaml'), `network: ${JSON.stringify(network)}\ncenters:\n  - name: local\n    backend: local\n`);
  }
  serverLogPath = path.join(outDir, 'server.log');
  fs.writeFileSync(serverLogPath, '');
  token = `e2e-${crypto.randomBytes(18).toString('hex')}`;
  console.log(`# binary ${binary}\n# output ${outDir}`);

  await startServer();

  // The dashboard is compiled in: "/" is its page, any other non-API path too.
  {
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

  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: !headed,
    timeout: 60_000,
    args: [
      ...(headed ? [] : ['--headless']),
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 }, colorScheme: 'light', locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(T.ui);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (d) => void d.accept());
  ok(`Chromium ${browser.version()} started`);

  // --- login ---
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

  // --- network ---
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

  // --- jobs: the form's own checks and the API's errors ---
  await goTo(page, 'jobs', 'jobs');
  const before = await apiCall('GET', '/api/v1/jobs?limit=1000');
  await page.locator(tid('submit-command')).fill(`sh -c 'echo unterminated`);
  await page.locator(tid('submit-button')).click();
  await waitText(page.locator(tid('submit-error')), (t) => t.includes('unterminated single quote'), 'an unterminated quote is refused by the form');
  await page.locator(tid('submit-command')).fill('true');
  await page.locator(tid('submit-gpus')).fill('100000');
  await page.locator(tid('submit-button')).click();
  const apiErr = await waitText(page.locator(tid('submit-error')), (t) => t.includes('HTTP 400'), 'an out-of-range gpus count is refused by the API with its message');
  assert(/gpus/.test(apiErr), `the API error names the gpus field: ${apiErr}`);
  assert(await page.locator(tid('submit-gpus')).evaluate((el) => el.classList.contains('invalid')), 'the gpus field is marked invalid');
  await page.locator(tid('submit-gpus')).fill('1.5');
  await page.locator(tid('submit-button')).click();
  const shareErr = await waitText(page.locator(tid('submit-error')), (t) => t.includes('a share is of one device'), 'a share of more than one device is refused by the API');
  await page.locator(tid('submit-gpus')).fill('1');
  await page.locator(tid('submit-nodes')).fill('2');
  await page.locator(tid('submit-button')).click();
  const nodesErr = await waitText(page.locator(tid('submit-error')), (t) => t.includes('nodes'), 'one accelerator over 2 nodes is refused by the API, naming nodes');
  assert(await page.locator(tid('submit-nodes')).evaluate((el) => el.classList.contains('invalid')), 'the nodes field is marked invalid');
  await page.locator(tid('submit-nodes')).fill('1');
  const none = await apiCall('GET', '/api/v1/jobs?limit=1000');
  assert(none.status === 200 && none.body.jobs.length === before.body.jobs.length && !none.body.jobs.some((j) => j.command[0] === 'true'),
    `rejected submissions created jobs: ${none.text.slice(0, 300)}`);
  ok(`the form refuses an unterminated quote itself and shows the API's errors for gpus=100000: "${apiErr.trim()}" for gpus=1.5: "${shareErr.trim()}" and for 1 accelerator over 2 nodes: "${nodesErr.trim()}"`);

  // --- jobs: submit through the form ---
  const command = `sh -c 'echo hello-from-the-dashboard'`;
  await page.locator(tid('submit-command')).fill(command);
  await page.locator(tid('submit-name')).fill('e2e-dashboard');
  await page.locator(tid('submit-gpus')).fill('0');
  await page.locator(tid('submit-time-limit')).fill('5m');
  await page.locator(tid('submit-checkpoint')).fill('10m');
  await page.locator(tid('submit-deadline')).fill('12h');
  const submittedAt = Date.now();
  await page.locator(tid('submit-center')).selectOption('local');
  await page.locator(tid('submit-button')).click();
  await visible(page, tid('submit-result'), 'the id of the submitted job');
  const id1 = Number(await page.locator(tid('submit-result')).getAttribute('data-job-id'));
  assert(Number.isInteger(id1) && id1 > 0, `the submit result carries no job id (${id1})`);
  const job1 = await apiCall('GET', `/api/v1/jobs/${id1}`);
  assert(job1.status === 200, `GET /api/v1/jobs/${id1}: ${job1.status} ${job1.text.slice(0, 200)}`);
  assert(JSON.stringify(job1.body.command) === JSON.stringify(['sh', '-c', 'echo hello-from-the-dashboard']), `the command was split into ${JSON.stringify(job1.body.command)}`);
  assert(job1.body.name === 'e2e-dashboard' && job1.body.time_limit_s === 300 && job1.body.gpus === 0 && job1.body.tenant === 'admin' && job1.body.center === 'local' && job1.body.checkpoint_s === 600,
    `the job's fields differ from the form: ${job1.text.slice(0, 400)}`);
  const dl = Date.parse(job1.body.deadline ?? '');
  assert(Math.abs(dl - (submittedAt + 12 * 3600 * 1000)) < 60 * 1000, `the deadline 12h from now became ${job1.body.deadline}`);
  ok(`submitted job #${id1} through the form: argv ["sh","-c","echo hello-from-the-dashboard"], name, gpus 0, time limit 300 s, checkpoints every 600 s, deadline 12 h from now (${job1.body.deadline}), center local, tenant admin`);
  await visible(page, jobRow(id1), `job #${id1} in the jobs table`);
  ok(`job #${id1} is in the jobs table`);

  // --- the job's page ---
  await page.locator(`${jobRow(id1)} ${tid('job-link')}`).click();
  await visible(page, `${tid('view-job')}[data-job-id="${id1}"]`, `the page of job #${id1}`);
  assert(page.url().endsWith(`#/jobs/${id1}`), `the job page's address is ${page.url()}`);
  await waitText(page.locator(`${tid('view-job')} ${tid('job-state')}`), (t) => t.trim() === 'succeeded', `job #${id1} reaches state succeeded on its page`, T.jobDone);
  await waitText(page.locator(tid('log-output')), (t) => t.includes('hello-from-the-dashboard'), `job #${id1}'s stdout shows hello-from-the-dashboard`);
  await waitText(page.locator(tid('timing-exit')), (t) => t.includes('exit code 0'), `job #${id1}'s page shows exit code 0`);
  await waitText(page.locator(tid('field-command-line')), (t) => t.trim() === command, 'the job page shows the command line');
  await waitText(page.locator(tid('field-tenant')), (t) => t.trim() === 'admin', 'the job page shows the tenant');
  await waitText(page.locator(tid('field-center')), (t) => t.trim() === 'local', 'the job page shows the center');
  await waitText(page.locator(tid('field-checkpoint_s')), (t) => t.trim().startsWith('every 10m'), 'the job page shows its checkpoint interval');
  await waitText(page.locator(tid('field-deadline')), (t) => t.trim() === job1.body.deadline, 'the job page shows its deadline');
  await waitText(page.locator(tid('job-attempt')), (t) => t.startsWith('succeeded on local'), 'the job page lists its run');
  const kinds = await page.locator(tid('job-event')).evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')).join(' '));
  assert(kinds === 'submitted dispatched started ended', `the job page's history is "${kinds}"`);
  ok(`job #${id1}'s page shows state succeeded, exit code 0, its fields (checkpoints every 10m), its one run, its history (submitted, dispatched, started, ended) and hello-from-the-dashboard in its stdout`);
  await page.locator(tid('log-tab-stderr')).click();
  await waitText(page.locator(tid('log-output')), (t) => !t.includes('hello-from-the-dashboard'), 'the stderr tab shows the other stream');
  await page.locator(tid('log-tab-stdout')).click();
  await waitText(page.locator(tid('log-output')), (t) => t.includes('hello-from-the-dashboard'), 'the stdout tab again');
  ok('the stdout and stderr tabs switch streams');
  const jobShot = await shot(page, 'job');

  // --- a job submitted through the API appears by itself ---
  await goTo(page, 'jobs', 'jobs');
  await visible(page, jobRow(id1), `job #${id1} in the table`);
  const sub2 = await apiCall('POST', '/api/v1/jobs', { command: ['sh', '-c', 'echo from-the-api; echo to-stderr-from-the-api >&2'], name: 'e2e-api', center: 'local' });
  assert(sub2.status === 201, `POST /api/v1/jobs answered ${sub2.status}: ${sub2.text.slice(0, 300)}`);
  const id2 = sub2.body.id;
  await visible(page, jobRow(id2), `job #${id2} (submitted through the API) appearing in the table without a reload`, T.refresh);
  ok(`job #${id2}, submitted through the API, appears in the jobs table by auto-refresh`);
  await page.locator(`${jobRow(id2)} ${tid('job-link')}`).click();
  await waitText(page.locator(`${tid('view-job')} ${tid('job-state')}`), (t) => t.trim() === 'succeeded', `job #${id2} reaches state succeeded`, T.jobDone);
  await page.locator(tid('log-tab-stderr')).click();
  await waitText(page.locator(tid('log-output')), (t) => t.includes('to-stderr-from-the-api'), `job #${id2}'s stderr tab shows its stderr`);
  ok(`job #${id2}'s page shows state succeeded and its stderr`);

  // --- cancel from the table ---
  await goTo(page, 'jobs', 'jobs');
  const sub3 = await apiCall('POST', '/api/v1/jobs', { command: ['sleep', '300'], name: 'e2e-cancel', center: 'local' });
  assert(sub3.status === 201, `POST /api/v1/jobs answered ${sub3.status}: ${sub3.text.slice(0, 300)}`);
  const id3 = sub3.body.id;
  await visible(page, `${jobRow(id3)} ${tid('job-cancel')}`, `the cancel button of job #${id3}`, T.refresh);
  await page.locator(`${jobRow(id3)} ${tid('job-cancel')}`).click();
  await visible(page, `${jobRow(id3)}[data-state="cancelled"]`, `job #${id3} shown as cancelled`, T.refresh);
  const job3 = await apiCall('GET', `/api/v1/jobs/${id3}`);
  assert(job3.body?.state === 'cancelled', `job #${id3} is ${job3.body?.state} in the API after cancelling it`);
  ok(`job #${id3} (sleep 300) cancelled with its button in the table; the API agrees`);

  // --- filters ---
  await page.locator(tid('filter-state')).selectOption('succeeded');
  const deadline = Date.now() + T.refresh;
  let states = [];
  for (;;) {
    states = await page.locator(tid('job-row')).evaluateAll((rows) => rows.map((r) => [Number(r.dataset.jobId), r.dataset.state]));
    const ids = states.map(([i]) => i);
    if (states.length && states.every(([, st]) => st === 'succeeded') && ids.includes(id1) && ids.includes(id2) && !ids.includes(id3)) break;
    if (Date.now() > deadline) fail(`the state filter "succeeded" shows ${JSON.stringify(states)}`);
    await sleep(200);
  }
  assert(page.url().includes('state=succeeded'), `the filter is not in the address: ${page.url()}`);
  await page.locator(tid('filter-state')).selectOption('');
  await visible(page, jobRow(id3), `job #${id3} again with all states`);
  ok('the state filter narrows the table to succeeded jobs and back');
  await shot(page, 'jobs');

  // --- datasets: register through the form, name one in a job, delete ---
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

  // --- an inference service: submit through the form, list, scale ---
  await goTo(page, 'jobs', 'jobs');
  await attached(page, `${tid('submit-center')} option[value="local"]`, 'center "local" among the choices of the submit form');
  await page.locator(tid('submit-command')).fill('sleep 300');
  await page.locator(tid('submit-name')).fill('e2e-service');
  await page.locator(tid('submit-center')).selectOption('local');
  await page.locator(tid('submit-replicas')).fill('2');
  await page.locator(tid('submit-button')).click();
  await visible(page, tid('submit-result'), 'the id of the service submitted through the form');
  const svc = Number(await page.locator(tid('submit-result')).getAttribute('data-job-id'));
  const first = await apiCall('GET', `/api/v1/jobs/${svc}`);
  assert(first.status === 200 && first.body.service === svc && first.body.replicas === 2, `job #${svc} is not the first replica of a service of 2: ${first.status} ${first.text.slice(0, 300)}`);
  const svcJobs = await apiCall('GET', `/api/v1/jobs?service=${svc}`);
  assert(svcJobs.status === 200 && svcJobs.body.jobs.length === 2 && svcJobs.body.jobs.every((j) => j.service === svc), `GET /api/v1/jobs?service=${svc}: ${svcJobs.status} ${svcJobs.text.slice(0, 300)}`);
  const svcIds = svcJobs.body.jobs.map((j) => j.id).sort((a, b) => a - b);
  await waitText(page.locator(`${jobRow(svcIds[1])} ${tid('job-service')}`), (x) => x.trim() === `service #${svc}`, `the jobs table marks job #${svcIds[1]} as a replica of service #${svc}`, T.refresh);
  ok(`submitted service #${svc} (sleep 300, 2 replicas: jobs #${svcIds.join(', #')}) through the form; the API and the jobs table agree`);

  await page.locator(tid('submit-result-link')).click();
  await visible(page, `${tid('view-job')}[data-job-id="${svc}"]`, `the page of service #${svc}`);
  await visible(page, tid('job-service'), `the service card on job #${svc}'s page`);
  await waitText(page.locator(tid('job-service-of')), (x) => x.includes(`service #${svc}`), `job #${svc}'s page says it is a replica of service #${svc}`);
  const replicaIds = async () => page.locator(tid('replica-row')).evaluateAll((rows) => rows.map((r) => Number(r.dataset.jobId)));
  const waitReplicas = async (want, what) => {
    const until = Date.now() + T.refresh;
    let seen = [];
    while (Date.now() < until) {
      seen = await replicaIds();
      if (JSON.stringify(seen) === JSON.stringify(want)) return;
      await sleep(200);
    }
    fail(`${what}: the service card lists replicas ${JSON.stringify(seen)}, not ${JSON.stringify(want)}`);
  };
  await waitReplicas(svcIds, `service #${svc}'s page lists its 2 replicas`);
  await shot(page, 'service');

  // --- the services view lists it, and links to its page ---
  const listed = await apiCall('GET', '/api/v1/services');
  const listedSvc = listed.body?.services?.find((x) => x.service === svc);
  assert(listed.status === 200 && listedSvc?.replicas?.map((r) => r.id).join() === svcIds.join(), `GET /api/v1/services does not list service #${svc} with replicas #${svcIds.join(', #')}: ${listed.status} ${listed.text.slice(0, 300)}`);
  await goTo(page, 'services', 'services');
  const svcRow = page.locator(serviceRow(svc));
  await visible(page, serviceRow(svc), `service #${svc} in the services view`, T.refresh);
  await waitText(svcRow.locator(tid('service-replicas')), (x) => x.trim() === '2', `the services view counts service #${svc}'s 2 replicas`, T.refresh);
  await waitText(svcRow.locator(tid('service-tenant')), (x) => x.trim() === 'admin', `the services view shows service #${svc}'s tenant`);
  await waitText(svcRow.locator(tid('service-name')), (x) => x.trim() === 'e2e-service', `the services view shows service #${svc}'s name`);
  await shot(page, 'services');
  await svcRow.locator(tid('service-row-link')).click();
  await visible(page, `${tid('view-job')}[data-job-id="${svc}"]`, `the page of service #${svc} through its link in the services view`);
  await waitReplicas(svcIds, `service #${svc}'s page, opened from the services view, lists its 2 replicas`);
  ok(`GET /api/v1/services and the services view list service #${svc} (tenant admin, e2e-service, 2 replicas); its row links to its page`);

  await page.locator(tid('scale-replicas')).fill('1');
  await page.locator(tid('scale-button')).click();
  await visible(page, tid('scale-result'), 'the result of scaling to 1');
  await waitReplicas([svc], `after scaling to 1, service #${svc}'s page lists only its first replica`);
  const scaled = await apiCall('GET', `/api/v1/services/${svc}`);
  assert(scaled.status === 200 && scaled.body.replicas.length === 1 && scaled.body.replicas[0].id === svc, `GET /api/v1/services/${svc} after scaling to 1: ${scaled.status} ${scaled.text.slice(0, 300)}`);
  // The newest replica is cancelled (its process stopped by the next pass).
  for (const until = Date.now() + T.refresh; ; await sleep(200)) {
    const dropped = await apiCall('GET', `/api/v1/jobs/${svcIds[1]}`);
    if (dropped.body?.state === 'cancelled') break;
    if (Date.now() > until) fail(`the newest replica #${svcIds[1]} is ${dropped.body?.state} ${T.refresh / 1000} s after scaling to 1, not cancelled`);
  }
  ok(`service #${svc}'s page lists its 2 replicas; Scale to 1 cancels the newest (#${svcIds[1]}) and the page and the API agree`);

  await page.goto(`${base}/#/jobs/${svcIds[1]}`);
  await visible(page, `${tid('view-job')}[data-job-id="${svcIds[1]}"]`, `the page of replica #${svcIds[1]}`);
  await page.locator(tid('service-link')).click();
  await visible(page, `${tid('view-job')}[data-job-id="${svc}"]`, `the page of service #${svc} through the link on a replica's page`);
  const s0 = await apiCall('PUT', `/api/v1/services/${svc}`, { replicas: 0 });
  assert(s0.status === 200 && s0.body.replicas.length === 0, `PUT /api/v1/services/${svc} {"replicas": 0} answered ${s0.status}: ${s0.text.slice(0, 300)}`);
  await visible(page, tid('service-empty'), `service #${svc}'s page once scaled to none`, T.refresh);
  await goTo(page, 'services', 'services');
  await gone(page, serviceRow(svc), `service #${svc} leaves the services view once scaled to none`);
  await visible(page, tid('services-empty'), 'the empty services view');
  ok(`replica #${svcIds[1]}'s page links to service #${svc}; scaled to 0 through the API, the service's page lists no replicas and the services view none`);

  // --- drain and resume a center (admin) ---
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

  // --- usage ---
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

  // --- errors, deep links, sign out ---
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

  assert(pageErrors.length === 0, `uncaught errors in the page: ${pageErrors.join('; ')}`);
  ok('no uncaught errors in the page');

  if (writeDocs) {
    const img = path.join(repo, 'docs', 'img');
    fs.mkdirSync(img, { recursive: true });
    fs.copyFileSync(networkShot, path.join(img, 'dashboard-network.png'));
    fs.copyFileSync(jobShot, path.join(img, 'dashboard-job.png'));
    console.log('# wrote docs/img/dashboard-network.png and docs/img/dashboard-job.png');
  }
}

// --- main ------------------------------------------------------------------

let failed = false;
async function main() {
  const onSignal = (sig) => {
    console.log(`# ${sig}: stopping`);
    cleanup().finally(() => process.exit(1));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let timer;
  const watchdog = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailed(`the test did not finish within ${totalTimeoutMs / 1000} s`)), totalTimeoutMs);
  });
  try {
    await Promise.race([run(), watchdog]);
  } catch (e) {
    failed = true;
    console.log(`not ok ${checks + 1} - ${e instanceof CheckFailed ? e.message : e?.stack ?? e}`);
    if (serverLogPath) console.log(`# the server's log (last lines, all of it in ${serverLogPath}):\n${serverLogTail(30).replace(/^/gm, '#   ')}`);
  } finally {
    clearTimeout(timer);
  }
  const wasRunning = server && !serverExit;
  const forcedExit = setTimeout(() => {
    console.log('# cleanup hung: exiting');
    process.exit(1);
  }, 60_000);
  await cleanup();
  clearTimeout(forcedExit);
  if (wasRunning && serverExit) {
    const clean = serverExit.code === 0 || (serverExit.code === null && serverExit.signal === 'SIGTERM');
    if (clean) {
      ok(`the server stopped on SIGTERM (${serverExit.signal ?? `exit ${serverExit.code}`}) and the data directory is removed`);
    } else if (!failed) {
      failed = true;
      console.log(`not ok ${checks + 1} - the server ended with ${JSON.stringify(serverExit)} after SIGTERM:\n${serverLogTail(30)}`);
    }
  }
  console.log(failed ? `# FAILED after ${checks} checks` : `# all ${checks} checks passed; screenshots in ${outDir}`);
  process.exit(failed ? 1 : 0);
}

await main();
