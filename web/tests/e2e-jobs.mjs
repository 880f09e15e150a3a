// The dashboard's end-to-end test (e2e.mjs): the checks of the jobs view
// (the submit form, the table, cancelling, filters), a job's page, and
// inference services (the form, a service's page, the services view,
// scaling).

import {
  T, base, ok, fail, assert, apiCall, sleep,
  tid, waitText, visible, shot, goTo, jobRow, serviceRow, attached, gone,
} from './e2e-harness.mjs';

// Returns the id of the job submitted through the form (it succeeded) and the
// path of its page's screenshot.
export async function jobChecks(page) {
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
  return { id1, jobShot };
}

// An inference service: submit through the form, list, scale.
export async function serviceChecks(page) {
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
}
