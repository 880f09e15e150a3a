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
//
// The harness (server, browser, cleanup, helpers) is in e2e-harness.mjs, the
// checks in e2e-views.mjs and e2e-jobs.mjs.

import fs from 'node:fs';
import path from 'node:path';
import {
  repo, outDir, writeDocs, totalTimeoutMs, checks, ok, CheckFailed, assert,
  server, serverExit, serverLogPath, serverLogTail, cleanup, prepare, startServer, launchBrowser,
} from './e2e-harness.mjs';
import {
  servingChecks, loginChecks, networkChecks, datasetChecks, drainChecks, usageChecks, sessionChecks,
} from './e2e-views.mjs';
import { jobChecks, serviceChecks } from './e2e-jobs.mjs';

// --- the test --------------------------------------------------------------

async function run() {
  const chromium = await prepare();
  await startServer();
  await servingChecks();
  const { page, pageErrors } = await launchBrowser(chromium);
  await loginChecks(page);
  const networkShot = await networkChecks(page);
  const { id1, jobShot } = await jobChecks(page);
  await datasetChecks(page);
  await serviceChecks(page);
  await drainChecks(page);
  await usageChecks(page);
  await sessionChecks(page, id1);

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
