// The page in a real browser: loading, stepping, step back, actions, share links, bad input,
// and the trace hash against the CLI. Screenshots of the main views go to target/screenshots/.
const { test, expect } = require('@playwright/test');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const ROOT = path.join(__dirname, '..', '..');
const SHOTS = path.join(ROOT, 'target', 'screenshots');
fs.mkdirSync(SHOTS, { recursive: true });

/** Opens the page and records console errors and any request that leaves 127.0.0.1. */
async function open(page, hash = '') {
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (!['127.0.0.1', ''].includes(url.hostname) && url.protocol !== 'data:' && url.protocol !== 'blob:') problems.push(`request: ${r.url()}`);
  });
  await page.goto('/' + hash);
  await expect(page.getByTestId('title')).toBeVisible();
  return problems;
}

async function position(page) {
  return Number(await page.getByTestId('position').getAttribute('data-position'));
}

/** The state a person sees: the cluster picture, the narration and the ledger badges. */
async function visibleState(page) {
  // The ledger catches up with the picture a moment after the position changes.
  await expect(page.locator('.ledger')).toHaveAttribute('data-stale', 'false');
  return page.evaluate(() => ['.cluster', '.narration', '[data-testid=badges]'].map((s) => document.querySelector(s).outerHTML).join('\n'));
}

async function pick(page, name) {
  await page.getByTestId('picker').selectOption(name);
  // The lesson's text is fetched: the run changes once it is here.
  await expect(page.locator('.app')).toHaveAttribute('data-scenario', name);
  await expect(page.getByTestId('position')).toHaveAttribute('data-position', '0');
}

test('the page loads with no console errors and no request outside 127.0.0.1', async ({ page }) => {
  const problems = await open(page);
  // A first visit opens the course's first lesson.
  await expect(page.getByTestId('title')).toHaveText('Keys pick partitions: per-key order, and a hot partition');
  await expect(page.getByTestId('picker')).toHaveValue('keys-and-partitions');
  await expect(page.getByTestId('footer')).not.toHaveAttribute('data-trace-hash', '');
  await page.screenshot({ path: path.join(SHOTS, 'start-1280x720.png') });
  expect(problems).toEqual([]);
});

test('a lesson\'s text is fetched when it is opened, and a failed fetch keeps the run', async ({ page }) => {
  const fetched = [];
  page.on('request', (r) => { if (r.url().includes('/static/scenarios/')) fetched.push(r.url().split('/').pop()); });
  await page.route('**/static/scenarios/acks1-acknowledged-loss.toml', (route) => route.abort());
  const problems = await open(page);
  // The page's download holds the course's catalogue, not every lesson's text.
  expect(fetched).toEqual(['keys-and-partitions.toml']);
  await page.getByTestId('picker').selectOption('acks1-acknowledged-loss');
  await expect(page.getByTestId('notice')).toContainText('The lesson acks1-acknowledged-loss could not be fetched from the site');
  await expect(page.getByTestId('title')).toHaveText('Keys pick partitions: per-key order, and a hot partition');
  await expect(page.getByTestId('picker')).toHaveValue('keys-and-partitions');
  await pick(page, 'retry-duplicate');
  await expect(page.getByTestId('title')).toHaveText('Retries without idempotence write a duplicate when an ack is lost');
  // A lesson fetched once opens again from memory.
  await pick(page, 'keys-and-partitions');
  expect(fetched).toEqual(['keys-and-partitions.toml', 'acks1-acknowledged-loss.toml', 'retry-duplicate.toml']);
  // The aborted request is the one console error the page may show.
  expect(problems.filter((p) => !p.includes('ERR_FAILED'))).toEqual([]);
});

test('stepping changes the view as the model says, and step back returns the exact earlier state', async ({ page }) => {
  const problems = await open(page);
  await pick(page, 'acks1-acknowledged-loss');
  const leader = page.locator('[data-node="broker-1"] .replica[data-partition="orders-0"]');
  await expect(leader).toHaveAttribute('data-leo', '0');
  // The first narrated steps: the lecturer's text, the sender waking after linger.ms (5 ms since
  // Kafka 4.0), the send, the leader's append.
  for (let i = 0; i < 4; i++) await page.getByTestId('forward').click();
  await expect(page.getByTestId('headline')).toContainText('Produce orders-0');
  await expect(page.getByTestId('effects')).toContainText('appends order=v1, order=v2, order=v3');
  await expect(leader).toHaveAttribute('data-leo', '3');
  await expect(leader).toHaveAttribute('data-hw', '0');
  // A small cluster draws every record as a cell.
  await expect(leader.locator('.cell')).toHaveCount(3);
  await expect(page.getByTestId('compact-note')).toHaveCount(0);
  await expect(page.getByTestId('caption')).toContainText('Three records go to orders-0');

  const at = await position(page);
  const before = await visibleState(page);
  for (let i = 0; i < 4; i++) await page.getByTestId('forward').click();
  expect(await position(page)).toBeGreaterThan(at);
  expect(await visibleState(page)).not.toEqual(before);
  for (let i = 0; i < 4; i++) await page.getByTestId('back').click();
  expect(await position(page)).toBe(at);
  expect(await visibleState(page)).toEqual(before);

  // Scrubbing the timeline lands on a step; the keyboard steps too.
  await page.getByTestId('scrub').fill('40');
  await expect(page.getByTestId('position')).toHaveAttribute('data-position', '40');
  await page.keyboard.press('ArrowRight');
  expect(await position(page)).toBeGreaterThan(40);
  expect(problems).toEqual([]);
});

test('a pause point stops playback and reveals its answer', async ({ page }) => {
  await open(page);
  await pick(page, 'acks1-acknowledged-loss');
  await page.getByRole('combobox', { name: 'Playback speed' }).selectOption({ label: 'fastest' });
  await page.getByTestId('play').click();
  await expect(page.getByTestId('pause')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('play')).toHaveText(/Play/);
  await expect(page.getByTestId('pause')).toContainText('Is v4 safe now?');
  // Predict first: the answer is nowhere on the page until it is revealed.
  await expect(page.locator('.narration')).not.toContainText('only broker-1 has it');
  await page.getByRole('button', { name: 'Reveal the answer' }).click();
  await expect(page.getByTestId('answer')).toContainText('only broker-1 has it');
  await page.screenshot({ path: path.join(SHOTS, 'pause-point.png') });
});

test('crashing a broker by click shows the election', async ({ page }) => {
  const problems = await open(page);
  await pick(page, 'acks-all-survives-crash');
  await page.getByTestId('scrub').fill('20');
  await page.locator('[data-node="broker-1"] .box').click();
  await expect(page.getByTestId('action-menu')).toBeVisible();
  await page.getByTestId('crash').click();
  await expect(page.locator('[data-node="broker-1"]')).toHaveAttribute('data-up', 'false');
  await expect(page.locator('[data-node="broker-1"] .down-label')).toContainText('CRASHED');
  // Jump to the election marker the fork produced.
  const election = page.locator('.marker.m-election').first();
  await expect(election).toBeAttached({ timeout: 20_000 });
  await election.click();
  await expect(page.getByTestId('effects')).toContainText('leader');
  const leaders = page.locator('.replica[data-partition="payments-0"][data-role="leader"]');
  await expect(leaders).toHaveCount(1);
  const leaderBroker = await leaders.evaluate((el) => el.closest('[data-node]').getAttribute('data-node'));
  expect(leaderBroker).not.toBe('broker-1');
  await page.screenshot({ path: path.join(SHOTS, 'after-crash-election.png') });
  expect(problems).toEqual([]);
});

test('a share link restores the same step, state and actions', async ({ page, browser }) => {
  await open(page);
  await pick(page, 'acks1-acknowledged-loss');
  await page.getByTestId('scrub').fill('30');
  await page.locator('[data-node="broker-2"] .box').click();
  await page.getByTestId('crash').click();
  for (let i = 0; i < 3; i++) await page.getByTestId('forward').click();
  const at = await position(page);
  const state = await visibleState(page);
  const hash = await page.getByTestId('footer').getAttribute('data-trace-hash');
  await page.getByTestId('share').click();
  const url = await page.getByTestId('share-url').locator('input').inputValue();
  expect(url).toMatch(/#v2\./);

  const other = await browser.newPage();
  const problems = await open(other, url.slice(url.indexOf('#')));
  await expect(other.getByTestId('position')).toHaveAttribute('data-position', String(at));
  expect(await visibleState(other)).toEqual(state);
  await expect(other.getByTestId('footer')).toHaveAttribute('data-trace-hash', hash);
  expect(problems).toEqual([]);
});

test('a link pasted into the address bar of the open page opens its run there', async ({ page }) => {
  const problems = await open(page);
  await expect(page.getByTestId('title')).toHaveText('Keys pick partitions: per-key order, and a hot partition');
  // Only the fragment changes, so the browser does not load the page again.
  await page.evaluate(() => { location.hash = '#scenario=retry-duplicate&seed=3&step=12'; });
  await expect(page.getByTestId('title')).toHaveText('Retries without idempotence write a duplicate when an ack is lost');
  await expect(page.getByTestId('position')).toHaveAttribute('data-position', '12');
  await expect(page.getByLabel('seed', { exact: true })).toHaveValue('3');
  // A broken link keeps the run and says what is wrong with the link.
  await page.evaluate(() => { location.hash = '#v2.!!!'; });
  await expect(page.getByTestId('notice')).toBeVisible();
  await expect(page.getByTestId('title')).toHaveText('Retries without idempotence write a duplicate when an ack is lost');
  expect(problems).toEqual([]);
});

test('a broken scenario shows its line:column error and the page keeps working', async ({ page }) => {
  await open(page);
  const editor = page.getByTestId('editor');
  const original = await editor.inputValue();
  await editor.fill(original.replace('brokers = 3', 'brokers = "three"'));
  await expect(page.getByTestId('errors')).toContainText(/line \d+, column \d+/);
  await expect(page.getByTestId('run-editor')).toBeDisabled();
  // The previous run is still usable, and the typed text is kept.
  await page.getByTestId('forward').click();
  expect(await position(page)).toBeGreaterThan(0);
  await expect(editor).toHaveValue(/brokers = "three"/);
  await page.screenshot({ path: path.join(SHOTS, 'editor-error.png'), fullPage: true });
});

test('a file beyond the page\'s budget is refused before it runs, with the setting that drives its cost', async ({ page }) => {
  await open(page);
  const editor = page.getByTestId('editor');
  const original = await editor.inputValue();
  // Valid for the format's limits, but 64 brokers replicating 64 x 64 partitions for a day would
  // take about two billion steps: a dead tab if it ran.
  const heavy = original
    .replace(/brokers = \d+/, 'brokers = 64')
    .replace(/partitions = \d+/, 'partitions = 64')
    .replace(/"replication.factor" = \d+/, '"replication.factor" = 64')
    .replace(/duration_ms = \d+/, 'duration_ms = 86400000');
  await editor.fill(heavy);
  await expect(page.getByTestId('errors')).toContainText(/line \d+, column \d+/);
  await expect(page.getByTestId('errors')).toContainText('more than the 2,000,000 a run may take in the page');
  await expect(page.getByTestId('run-editor')).toBeDisabled();
  // The run before it still plays, and the typed text is kept.
  await page.getByTestId('forward').click();
  expect(await position(page)).toBeGreaterThan(0);
  await expect(editor).toHaveValue(/brokers = 64/);
  await page.screenshot({ path: path.join(SHOTS, 'editor-over-budget.png'), fullPage: true });
});

test('adding a consumer by click puts a new member in the group, and the link keeps it', async ({ page, browser }) => {
  const problems = await open(page);
  await pick(page, 'more-consumers-than-partitions');
  await page.getByTestId('scrub').fill('300');
  await page.locator('[data-node="agent-3"] .box').click();
  await page.getByTestId('add-consumer').click();
  await expect(page.locator('[data-node="agent-4"]')).toBeVisible();
  await expect(page.locator('.narration')).toContainText('agent-4');
  await page.getByTestId('share').click();
  const url = await page.getByTestId('share-url').locator('input').inputValue();
  const other = await browser.newPage();
  const otherProblems = await open(other, url.slice(url.indexOf('#')));
  await expect(other.locator('[data-node="agent-4"]')).toBeVisible();
  await page.screenshot({ path: path.join(SHOTS, 'added-consumer.png') });
  expect(problems).toEqual([]);
  expect(otherProblems).toEqual([]);
});

test('hostile and damaged links get a clear message, and text is never markup', async ({ page }) => {
  const problems = await open(page, '#v2.AAAA%%%');
  await expect(page.getByTestId('notice')).toContainText('This link could not be opened');
  await expect(page.getByTestId('title')).toHaveText('Keys pick partitions: per-key order, and a hot partition');
  problems.length = 0;

  // A scenario whose narration carries markup: it must show as text.
  const text = fs.readFileSync(path.join(ROOT, 'scenarios', 'acks1-acknowledged-loss.toml'), 'utf8')
    .replace('say = "Three records go to orders-0.', 'say = "<img src=x onerror=window.pwned=1><b>bold</b> Three records go to orders-0.');
  const editor = page.getByTestId('editor');
  await editor.fill(text);
  await page.getByTestId('run-editor').click();
  await page.getByTestId('forward').click();
  await expect(page.getByTestId('caption')).toContainText('<img src=x onerror=window.pwned=1><b>bold</b>');
  expect(await page.locator('.caption img, .caption b').count()).toBe(0);
  expect(await page.evaluate(() => window.pwned)).toBeUndefined();

  // The same narration arriving by a share link is text too.
  await page.getByTestId('share').click();
  const url = await page.getByTestId('share-url').locator('input').inputValue();
  await page.goto('about:blank');
  await page.goto(url);
  await expect(page.getByTestId('position')).toHaveAttribute('data-position', '1');
  await expect(page.getByTestId('caption')).toContainText('<img src=x onerror=window.pwned=1><b>bold</b>');
  expect(await page.locator('.caption img, .caption b').count()).toBe(0);
  expect(await page.evaluate(() => window.pwned)).toBeUndefined();
  expect(problems).toEqual([]);
});

test('Explore searches seeds in the background and opens the first counterexample', async ({ page }) => {
  const problems = await open(page);
  await pick(page, 'explore-acks1-unclean');
  await page.getByTestId('explore').click();
  await expect(page.getByTestId('notice')).toContainText('breaks a guarantee: no acknowledged record is lost', { timeout: 60_000 });
  await expect(page.getByTestId('editor')).toHaveValue(/# Found by `the page's Explore button` \(seed \d+\)/);
  await expect(page.getByTestId('title')).toHaveText('Explore: acks=1 and unclean election, under random faults');
  await expect(page.getByTestId('editor')).toHaveValue(/pause = \{ question = "Which guarantee just broke/);
  // At the end of the loaded run, the scenario's own promise (nothing acknowledged is lost) fails.
  await page.getByTestId('end').click();
  await expect(page.getByTestId('position')).not.toHaveAttribute('data-total', '');
  const expectations = page.getByTestId('expectations');
  expect(Number(await expectations.getAttribute('data-held'))).toBeLessThan(Number(await expectations.getAttribute('data-count')));
  await page.screenshot({ path: path.join(SHOTS, 'explore-counterexample.png') });

  // A search under safe settings keeps the page responsive: it reports progress and stops on a click.
  await pick(page, 'explore-acks-all-safe');
  await page.getByTestId('explore').click();
  await expect(page.getByTestId('exploring')).toContainText(/[1-9]\d* seed\(s\) done/, { timeout: 30_000 });
  await page.getByTestId('stop-explore').click();
  await expect(page.getByTestId('notice')).toContainText(/Exploring stopped after [1-9]\d* seeds; no guarantee broken/);
  await expect(page.getByTestId('exploring')).toHaveCount(0);
  expect(problems).toEqual([]);
});

test('the same scenario and seed give the same trace in the browser as in the CLI', async ({ page }) => {
  await open(page);
  for (const name of ['acks1-acknowledged-loss', 'rebalance-eager-vs-cooperative']) {
    await pick(page, name);
    await page.getByTestId('end').click();
    const shown = await page.getByTestId('footer').getAttribute('data-trace-hash');
    const total = await page.getByTestId('position').getAttribute('data-total');
    const cli = execFileSync(path.join(ROOT, 'target', 'debug', 'kafkasim'), ['run', path.join(ROOT, 'scenarios', `${name}.toml`), '--format', 'hash']).toString().trim();
    expect(`${shown} ${total}`).toBe(cli);
  }
});

test('views for the lecturer: presenter mode, dark theme, a projector and a phone', async ({ page }) => {
  await open(page);
  await pick(page, 'rebalance-eager-vs-cooperative');
  await page.getByTestId('scrub').fill('900');
  await page.screenshot({ path: path.join(SHOTS, 'groups-1280x720.png') });
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.keyboard.press('p');
  await expect(page.locator('html')).toHaveClass(/presenter/);
  await page.screenshot({ path: path.join(SHOTS, 'presenter-1920x1080.png') });
  await page.keyboard.press('t');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.screenshot({ path: path.join(SHOTS, 'presenter-dark-1920x1080.png') });
  await page.keyboard.press('p');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(SHOTS, 'phone-390x844.png') });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test('records that retention deleted are shown as deleted, not as acknowledged writes that were lost', async ({ page }) => {
  const problems = await open(page);
  await pick(page, 'retention-deletes-unread');
  await page.getByTestId('end').click();
  await expect(page.locator('.ledger')).toHaveAttribute('data-stale', 'false');
  const badges = page.getByTestId('badges');
  await expect(badges.locator('[data-badge=acked-lost]')).toHaveAttribute('data-value', '0');
  await expect(badges.locator('[data-badge=lost]')).toHaveAttribute('data-value', '0');
  await expect(badges.locator('[data-badge=deleted-by-retention]')).toHaveAttribute('data-value', '20');
  await expect(page.locator('.ledger tbody tr.acked-lost')).toHaveCount(0);
  await expect(page.locator('.ledger tbody')).toContainText('deleted by retention');
  expect(problems).toEqual([]);
});

test('a large run lists at most 200 ledger rows and says how many it holds back', async ({ page }) => {
  const problems = await open(page);
  await pick(page, 'large-cluster');
  await expect(page.getByTestId('position')).not.toHaveAttribute('data-total', '', { timeout: 60_000 });
  await page.getByTestId('end').click();
  await expect(page.getByTestId('badges').locator('[data-badge=sent]')).toHaveAttribute('data-value', '6000');
  await expect(page.locator('.ledger tbody tr')).toHaveCount(200);
  await expect(page.getByTestId('ledger-omitted')).toContainText('The table shows 200 of 6000 records');
  // At this scale each replica's log is a bar, not cells: solid to the HW, faint to the LEO, drawn
  // on one canvas per broker whose label lists the rows.
  await expect(page.getByTestId('compact-note')).toBeVisible();
  await expect(page.locator('.cell')).toHaveCount(0);
  const holders = page.locator('.compact-rows');
  await expect(holders).toHaveCount(9);
  const rowCounts = await holders.evaluateAll((els) => els.map((el) => Number(el.dataset.rows)));
  expect(rowCounts.reduce((a, b) => a + b, 0)).toBeGreaterThan(60);
  const broker = page.locator('[data-node=broker-1]');
  const described = [...(await broker.locator('.compact-rows').getAttribute('aria-label'))
    .matchAll(/([\w-]+): (leader|follower|offline); leader epoch (\d+); ([^;]+); HW (\d+) LEO (\d+)/g)];
  expect(described.length).toBe(rowCounts[0]);
  for (const [, , , , , hw, leo] of described) expect(Number(hw)).toBeLessThanOrEqual(Number(leo));
  // The committed part of a row's bar is drawn in the log colour where the row is in the ISR.
  const n = described.findIndex(([, , , , isr, hw]) => isr === 'in the ISR' && Number(hw) > 0);
  expect(n).toBeGreaterThanOrEqual(0);
  const bars = broker.locator('.compact-rows canvas.bars');
  const pixel = await bars.evaluate((canvas, n) => {
    // Canvas pixels per unit of the picture: the logs canvas is the right 284 units of a broker's
    // 414, its bars start 2 units in, and a row is 30 units high with its bar from 6 to 16.
    const scale = canvas.width / 284;
    const [x, y] = [Math.round(2 * scale), Math.round((n * 30 + 11) * scale)];
    return Array.from(canvas.getContext('2d').getImageData(x, y, 1, 1).data);
  }, n);
  const up = (await broker.getAttribute('data-up')) === 'true';
  expect(pixel[3]).toBe(up ? 255 : Math.round(0.55 * 255));
  if (up) expect(pixel.slice(0, 3)).toEqual([0x8a, 0xb4, 0xf8]);
  // The labels canvas has ink in each row's name.
  const inked = await broker.locator('.compact-rows canvas.labels').evaluate((canvas, rows) => {
    const scale = canvas.width / 130;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let r = 0; r < rows; r++) {
      const y = Math.round((r * 30 + 12) * scale);
      let ink = false;
      for (let x = 0; x < Math.round(90 * scale); x++) if (data[(y * canvas.width + x) * 4 + 3] > 0) ink = true;
      if (ink) count++;
    }
    return count;
  }, rowCounts[0]);
  expect(inked).toBe(rowCounts[0]);
  // Hovering a row names it.
  const box = await bars.boundingBox();
  await bars.hover({ position: { x: 40, y: (n * 30 + 11) * (box.height / (rowCounts[0] * 30)) } });
  await expect(bars).toHaveAttribute('title', `${described[n][1]}: ${described[n][2]}; leader epoch ${described[n][3]}; ${described[n][4]}; HW ${described[n][5]} LEO ${described[n][6]}`);
  // The canvases are drawn at the size they are shown, again when that changes (a projector).
  const sharp = () => bars.evaluate((c) => Math.abs(c.width - c.getBoundingClientRect().width * devicePixelRatio) <= 1);
  expect(await sharp()).toBe(true);
  const before = await bars.evaluate((c) => c.width);
  await page.setViewportSize({ width: 1920, height: 1080 });
  await expect.poll(() => bars.evaluate((c) => c.width)).not.toBe(before);
  expect(await sharp()).toBe(true);
  await page.setViewportSize({ width: 1280, height: 720 });
  // The exported picture carries each broker's canvases as one image.
  const menu = page.getByTestId('export');
  await menu.locator('summary').click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-svg').click()]);
  const svg = fs.readFileSync(await download.path()).toString('utf8');
  expect(svg).not.toContain('foreignObject');
  expect(svg.match(/<image [^>]*href="data:image\/png;base64,/g)).toHaveLength(9);
  await page.screenshot({ path: path.join(SHOTS, 'large-cluster-end.png') });
  expect(problems).toEqual([]);
});

/** Opens large-cluster, waits until the look-ahead knows the whole run, and seeks to `step`. */
async function openLargeClusterAt(page, step) {
  await page.goto('/');
  await pick(page, 'large-cluster');
  await expect(page.getByTestId('position')).not.toHaveAttribute('data-total', '', { timeout: 60_000 });
  await page.getByTestId('scrub').fill(String(step));
}

test('at the fastest speed the dots are unnumbered and the list waits for a pause', async ({ page }) => {
  await openLargeClusterAt(page, 30000);
  const picture = page.getByTestId('picture');
  await expect(picture.locator('.msg-num').first()).toBeVisible();
  const stepping = await picture.locator('.msg-num').count();
  expect(stepping).toBeGreaterThan(0);
  expect(await picture.locator('.msg-path').count()).toBe(stepping);
  await page.getByRole('combobox', { name: 'Playback speed' }).selectOption({ label: 'fastest' });
  await page.getByTestId('play').click();
  await expect(page.getByTestId('in-flight-fastest')).toBeVisible();
  await expect(picture.locator('.msg-num')).toHaveCount(0);
  await expect(picture.locator('.msg-path')).toHaveCount(0);
  expect(await picture.locator('.msg').count()).toBeGreaterThan(0);
  await expect(page.locator('.flight-list')).toHaveCount(0);
  // Paused, the numbers, their paths and the list are back.
  await page.getByTestId('play').click();
  await expect(page.getByTestId('in-flight-fastest')).toHaveCount(0);
  await expect(picture.locator('.msg-num').first()).toBeVisible();
  expect(await picture.locator('.msg-path').count()).toBe(await picture.locator('.msg-num').count());
  await expect(page.locator('.flight-list li').first()).toBeVisible();
});

test('a broker scrolled into view in a large cluster shows its rows on screen', async ({ page }) => {
  // Its canvases skip painting while out of view; this checks the screen, not the canvas's bitmap,
  // so that a canvas drawn but never painted again fails.
  await openLargeClusterAt(page, 30000);
  const labels = page.locator('[data-node=broker-7] .compact-rows canvas.labels');
  // Scrolled as a person scrolls the picture, and the screen shot as it is (an element's own
  // screenshot would have it painted).
  await labels.evaluate((el) => el.scrollIntoView({ block: 'center' }));
  await page.waitForTimeout(600);
  const shot = (await page.screenshot({ clip: await labels.boundingBox() })).toString('base64');
  const ink = await page.evaluate(async (png) => {
    const image = new Image();
    image.src = `data:image/png;base64,${png}`;
    await image.decode();
    const canvas = document.createElement('canvas');
    [canvas.width, canvas.height] = [image.width, image.height];
    const ctx = canvas.getContext('2d');
    ctx.drawImage(image, 0, 0);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let dark = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] + data[i + 1] + data[i + 2] < 300) dark++;
    return dark;
  }, shot);
  // The rows' names are dark text on the broker's pale box: about 140 dark pixels a row when
  // painted (a canvas left unpainted after its broker scrolled into view showed about a fifth).
  const rows = Number(await page.locator('[data-node=broker-7] .compact-rows').getAttribute('data-rows'));
  expect(ink).toBeGreaterThan(60 * rows);
});

test('predict-then-reveal: the class picks a choice, the reveal marks the right one, and the answer shows on continue', async ({ page }) => {
  const problems = await open(page);
  await pick(page, 'acks1-acknowledged-loss');
  await page.getByRole('combobox', { name: 'Playback speed' }).selectOption({ label: 'fastest' });
  await page.getByTestId('play').click();
  const pause = page.getByTestId('pause');
  await expect(pause).toHaveAttribute('data-waiting', 'true', { timeout: 20_000 });
  const choices = page.getByTestId('choice');
  await expect(choices).toHaveCount(3);
  // The class predicts A, which is wrong; nothing says so until the reveal.
  await choices.nth(0).click();
  await expect(choices.nth(0)).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('pick-verdict')).toHaveText('The class picked A. Reveal, or go on, to see what happens.');
  await expect(page.locator('.choice.right')).toHaveCount(0);
  await expect(page.getByTestId('answer')).toHaveCount(0);
  await page.getByTestId('reveal').click();
  await expect(page.locator('.choice.right')).toHaveAttribute('data-choice', '1');
  await expect(page.locator('.choice.wrong')).toHaveAttribute('data-choice', '0');
  await expect(page.getByTestId('pick-verdict')).toHaveText('The class picked A; the answer is B.');
  await expect(page.getByTestId('answer')).toContainText('only broker-1 has it');
  await page.screenshot({ path: path.join(SHOTS, 'predict-then-reveal.png') });
  // Going on reveals the answer too, and keeps the class's pick.
  await page.getByTestId('back').click();
  await page.getByTestId('forward').click();
  await page.getByTestId('forward').click();
  await expect(pause).toHaveAttribute('data-waiting', 'false');
  await expect(page.getByTestId('answer')).toContainText('only broker-1 has it');
  await expect(page.getByTestId('pick-verdict')).toHaveText('The class picked A; the answer is B.');
  expect(problems).toEqual([]);
});

test('compare mode runs acks=1 and acks=all side by side in lockstep and highlights the lost record', async ({ page }) => {
  const problems = await open(page);
  await pick(page, 'acks1-acknowledged-loss');
  await page.getByTestId('compare').click();
  const left = page.getByTestId('left-pane');
  const right = page.getByTestId('right-pane');
  await expect(right).toBeVisible();
  await expect(right.locator('.pane-label')).toHaveText('acks=all');
  await expect(left.locator('.pane-label')).toHaveText('acks=1');
  // Both sides advance together: the right run is always at the latest step at or before the left's time.
  for (let i = 0; i < 8; i++) {
    await page.getByTestId('forward').click();
    const now = Number(await left.getAttribute('data-now'));
    const rightNow = Number(await right.getAttribute('data-now'));
    expect(rightNow).toBeLessThanOrEqual(now);
    expect(now - rightNow).toBeLessThan(1000);
  }
  await page.getByTestId('end').click();
  await expect(page.getByTestId('position')).toHaveAttribute('data-position', /^[1-9]/);
  await expect(page.getByTestId('left-1')).toHaveText('1', { timeout: 20_000 });
  await expect(page.getByTestId('right-1')).toHaveText('0');
  await expect(page.getByTestId('left-1')).toHaveClass(/diff/);
  await expect(page.getByTestId('compare-summary')).toContainText('acked-lost');
  expect(Number(await right.getAttribute('data-now'))).toBeLessThanOrEqual(Number(await left.getAttribute('data-now')));
  await page.screenshot({ path: path.join(SHOTS, 'compare-acks1-vs-all.png'), fullPage: true });
  // The share link carries compare mode.
  await page.getByTestId('share').click();
  const url = await page.getByTestId('share-url').locator('input').inputValue();
  const other = await page.context().newPage();
  await open(other, url.slice(url.indexOf('#')));
  await expect(other.getByTestId('right-pane')).toBeVisible();
  expect(problems).toEqual([]);
});

test('a challenge is checked live and says when the class meets it', async ({ page }) => {
  const problems = await open(page);
  await pick(page, 'challenge-lose-an-ack');
  const challenge = page.getByTestId('challenge');
  await expect(challenge).toHaveAttribute('data-met', 'false');
  await expect(challenge).toContainText('Allowed actions: crash, restart');
  // Play to the pause point, then step until broker-1 has acknowledged v3.
  await page.getByRole('combobox', { name: 'Playback speed' }).selectOption({ label: 'fastest' });
  await page.getByTestId('play').click();
  await expect(page.getByTestId('pause')).toHaveAttribute('data-waiting', 'true', { timeout: 20_000 });
  for (let i = 0; i < 20; i++) {
    await page.getByTestId('forward').click();
    if ((await page.getByTestId('headline').textContent()).includes('ProduceResponse')) break;
  }
  await expect(page.getByTestId('headline')).toContainText('ProduceResponse');
  await page.locator('[data-node="broker-1"] .box').click();
  // Only the allowed actions are offered.
  await expect(page.getByTestId('action-menu')).toBeVisible();
  await expect(page.getByTestId('action-menu').getByRole('button', { name: 'Cut' })).toHaveCount(0);
  await page.getByTestId('crash').click();
  await expect(page.getByTestId('challenge-met')).toHaveText('Challenge met ✓', { timeout: 20_000 });
  await expect(challenge).toHaveAttribute('data-met', 'true');
  await page.getByTestId('end').click();
  await expect(page.locator('[data-badge="acked-lost"]')).toHaveAttribute('data-value', /^[1-9]/);
  await page.screenshot({ path: path.join(SHOTS, 'challenge-met.png') });
  expect(problems).toEqual([]);
});

test('the Persian interface renders right to left, and the share link carries the language', async ({ page }) => {
  const problems = await open(page);
  await page.getByTestId('lang').click();
  await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
  await expect(page.locator('html')).toHaveAttribute('lang', 'fa');
  await expect(page.getByTestId('play')).toHaveText('▶ پخش');
  await expect(page.getByTestId('share')).toHaveText('پیوند اشتراک');
  expect(await page.locator('.topbar').evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
  // Mirrored: the brand, first in the top bar, sits at its right edge.
  const brand = await page.locator('.brand').boundingBox();
  expect(brand.x + brand.width).toBeGreaterThan(page.viewportSize().width - 60);
  // The diagram, the timeline and the core's English narration stay left to right.
  expect(await page.locator('svg.cluster').evaluate((el) => getComputedStyle(el).direction)).toBe('ltr');
  await page.getByTestId('forward').click();
  expect(await page.getByTestId('headline').evaluate((el) => getComputedStyle(el).direction)).toBe('ltr');
  // The diagram's own words and the glossary's tooltips come from the Persian table too.
  await expect(page.locator('g.producer .node-meta').nth(1)).toContainText('چشم‌به‌راه ack');
  expect(await page.locator('g.controller > title').textContent()).toContain('کوئورم controller');
  for (let i = 0; i < 20 && (await page.locator('abbr.term').count()) === 0; i++) await page.getByTestId('forward').click();
  expect(await page.locator('abbr.term').first().getAttribute('title')).toMatch(/[\u0600-\u06FF]/);
  await page.screenshot({ path: path.join(SHOTS, 'persian-rtl.png') });
  await page.getByTestId('share').click();
  const url = await page.getByTestId('share-url').locator('input').inputValue();
  const other = await page.context().newPage();
  await open(other, url.slice(url.indexOf('#')));
  await expect(other.locator('html')).toHaveAttribute('dir', 'rtl');
  await expect(other.getByTestId('play')).toHaveText('▶ پخش');
  // Back to English.
  await page.getByTestId('lang').click();
  await expect(page.locator('html')).toHaveAttribute('dir', 'ltr');
  await expect(page.getByTestId('play')).toHaveText('▶ Play');
  expect(problems).toEqual([]);
});

test('narration in any script shows in its own direction', async ({ page }) => {
  const problems = await open(page);
  const text = fs.readFileSync(path.join(ROOT, 'scenarios', 'acks1-acknowledged-loss.toml'), 'utf8')
    .replace('say = "Three records go to orders-0.', 'say = "سه رکورد به orders-0 می‌روند. Three records go to orders-0.');
  await page.getByTestId('editor').fill(text);
  await page.getByTestId('run-editor').click();
  await page.getByTestId('forward').click();
  const caption = page.getByTestId('caption');
  await expect(caption).toContainText('سه رکورد به orders-0 می‌روند.');
  expect(await caption.locator('.caption-text').evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
  expect(problems).toEqual([]);
});

test('export: the picture as SVG and PNG, the trace as text and JSON', async ({ page }) => {
  const problems = await open(page);
  await pick(page, 'acks1-acknowledged-loss');
  for (let i = 0; i < 4; i++) await page.getByTestId('forward').click();
  const at = await position(page);
  const save = async (id) => {
    const menu = page.getByTestId('export');
    if (!(await menu.evaluate((el) => el.open))) await menu.locator('summary').click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(id).click()]);
    const file = path.join(SHOTS, download.suggestedFilename());
    await download.saveAs(file);
    return { name: download.suggestedFilename(), body: fs.readFileSync(file) };
  };
  const text = await save('export-text');
  expect(text.name).toBe(`acks1-acknowledged-loss-step${at}.txt`);
  const lines = text.body.toString('utf8');
  expect(lines).toContain('# acks=1 loses an acknowledged record');
  expect(lines).toContain('appends order=v1, order=v2, order=v3');
  const json = JSON.parse((await save('export-json')).body.toString('utf8'));
  expect(json.position).toBe(at);
  expect(json.steps.length).toBe(at);
  expect(json.ledger.totals.sent).toBe(3);
  const svg = await save('export-svg');
  expect(svg.body.toString('utf8')).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  expect(svg.body.toString('utf8')).toContain('data-node="broker-1"');
  // The page's stylesheet travels with the picture, themes and all.
  const style = svg.body.toString('utf8').match(/<style>([^<]*)<\/style>/)[1];
  expect(style).toContain('--e0: #8ab4f8');
  expect(style).toContain('[data-theme="dark"]');
  // A well-formed SVG file, as image viewers and slide tools read it.
  const parsed = await page.evaluate((text) => new DOMParser().parseFromString(text, 'image/svg+xml').getElementsByTagName('parsererror').length, svg.body.toString('utf8'));
  expect(parsed).toBe(0);
  const png = await save('export-png');
  expect(png.name).toBe(`acks1-acknowledged-loss-step${at}.png`);
  expect(png.body.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect(png.body.length).toBeGreaterThan(5000);
  expect(problems).toEqual([]);
});

test('a schema lesson shows the registry: its level, each subject\'s versions, and when it is down', async ({ page }) => {
  await page.setViewportSize({ width: 1366, height: 768 });
  const problems = await open(page);
  await pick(page, 'schemas-registry-refuses');
  const registry = page.getByTestId('registry');
  // Before the run, the two versions registered at the start, under the default global level.
  await expect(registry.locator('[data-registry-up]')).toHaveAttribute('data-registry-up', 'true');
  await expect(registry.locator('[data-subject="orders-value"]')).toHaveText('orders-value (BACKWARD): v1 order-v1 (id 1) · v2 order-v2 (id 2)');
  // At the end the subject is FULL_TRANSITIVE, order-v3 was refused (still two versions), and the
  // registry is back up after its crash.
  await page.getByTestId('end').click();
  await expect(page.getByTestId('position')).not.toHaveAttribute('data-total', '');
  await expect(page.locator('.ledger')).toHaveAttribute('data-stale', 'false');
  await expect(registry.locator('[data-subject="orders-value"]')).toHaveText('orders-value (FULL_TRANSITIVE): v1 order-v1 (id 1) · v2 order-v2 (id 2)');
  await expect(registry.locator('[data-registry-up]')).toHaveAttribute('data-registry-up', 'true');
  await registry.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'schemas-registry-1366x768.png') });
  expect(problems).toEqual([]);
});
