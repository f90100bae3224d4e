// The stage (issue 23): on a laptop, a projector, a tablet and a phone, every built-in lesson at
// its pause points (and, on the laptop, at its markers) shows every node inside the picture's box,
// never under a bar; no two words of the picture overlap; and no text is smaller than 12 CSS px.
// Then the keys that always mean the same, the action popover, the share link's Copy button on an
// origin without a clipboard and with a refused one. Screenshots go to target/screenshots/stage/.
const { test, expect } = require('@playwright/test');
const path = require('node:path');
const fs = require('node:fs');

const ROOT = path.join(__dirname, '..', '..');
const SHOTS = path.join(ROOT, 'target', 'screenshots', 'stage');
fs.mkdirSync(SHOTS, { recursive: true });

const VIEWPORTS = [
  { name: 'laptop', width: 1366, height: 768 },
  { name: 'projector', width: 1920, height: 1080 },
  { name: 'tablet', width: 820, height: 1180 },
  { name: 'phone', width: 390, height: 844 },
];
// The scale scenarios are outside the curriculum: large-cluster's picture is taller than any stage,
// and the load runs draw more clients than a lesson does.
const LESSONS = fs.readdirSync(path.join(ROOT, 'scenarios'))
  .filter((f) => f.endsWith('.toml'))
  .map((f) => f.slice(0, -5))
  .filter((n) => !['large-cluster', 'heavy-load-100k', 'pipeline-load-20k'].includes(n));
const MIN_TEXT_PX = 12;

/** Opens the page and records page errors and console errors. */
async function open(page, hash = '') {
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto('/' + hash);
  await expect(page.getByTestId('title')).toBeVisible();
  return problems;
}

/** Opens a lesson in the open page and waits until its whole run is known. */
async function lesson(page, name) {
  await page.evaluate((n) => { location.hash = `#scenario=${n}&seed=1&step=0`; }, name);
  // The lesson's text is fetched: the run changes once it is here.
  await expect(page.locator('.app')).toHaveAttribute('data-scenario', name);
  await expect(page.getByTestId('position')).toHaveAttribute('data-position', '0');
  await expect(page.getByTestId('position')).not.toHaveAttribute('data-total', '', { timeout: 60_000 });
}

async function seek(page, at) {
  await page.getByTestId('scrub').fill(String(at));
  await expect(page.getByTestId('position')).toHaveAttribute('data-position', String(at));
  // The picture is laid out for its box after the resize observer has measured it.
  await page.waitForFunction(() => [...document.querySelectorAll('svg.cluster')].every((s) => s.dataset.scale !== '1.000' || s.style.width.endsWith('px')));
}

/**
 * What is wrong with the stage as drawn: nodes outside their picture's box or the window, bars
 * over a picture, words of a picture that overlap, text under 12 CSS px. Returns the smallest text
 * size found too, and whether a picture scrolls: one too tall for its box at a readable size
 * fills the box's width and scrolls down in it, which `mayScroll` allows (the nodes must then lie
 * within the box's width).
 */
async function stageProblems(page, mayScroll = false) {
  return page.evaluate(([minText, mayScroll]) => {
    const problems = [];
    let scrolls = false;
    const inside = (r, box, slack = 1) => r.left >= box.left - slack && r.right <= box.right + slack && r.top >= box.top - slack && r.bottom <= box.bottom + slack;
    const win = { left: 0, top: 0, right: innerWidth, bottom: innerHeight };
    const bars = [...document.querySelectorAll('.topbar, .controls')].map((b) => b.getBoundingClientRect());
    let smallest = Infinity;
    for (const picture of document.querySelectorAll('.picture')) {
      const box = picture.getBoundingClientRect();
      const pane = picture.closest('[data-testid]')?.dataset.testid;
      if (!inside(box, win)) problems.push(`${pane}: the picture's box is outside the window`);
      for (const bar of bars) if (bar.bottom > box.top + 0.5 && bar.top < box.bottom - 0.5) problems.push(`${pane}: a bar covers the picture`);
      const tall = picture.scrollHeight > picture.clientHeight + 1;
      scrolls ||= tall;
      if (picture.scrollWidth > picture.clientWidth + 1) problems.push(`${pane}: the picture is wider than its box`);
      const within = tall && mayScroll ? { ...box.toJSON(), top: -Infinity, bottom: Infinity } : box;
      for (const node of picture.querySelectorAll('.node > .box')) {
        const r = node.getBoundingClientRect();
        if (!inside(r, within)) problems.push(`${pane}: ${node.parentElement.dataset.node} is outside the visible picture (${Math.round(r.left)},${Math.round(r.top)})-(${Math.round(r.right)},${Math.round(r.bottom)}) of (${Math.round(box.left)},${Math.round(box.top)})-(${Math.round(box.right)},${Math.round(box.bottom)})`);
      }
      const texts = [...picture.querySelectorAll('svg.cluster text')].filter((t) => t.getClientRects().length > 0 && t.textContent.trim() !== '');
      const rects = texts.map((t) => {
        // A text's box without its tooltip: the <title> child is not drawn.
        const r = t.getBoundingClientRect();
        const size = parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a;
        smallest = Math.min(smallest, size);
        if (size < minText - 0.05) problems.push(`${pane}: "${t.firstChild?.textContent ?? t.textContent}" is ${size.toFixed(1)} px`);
        return { r, label: (t.firstChild?.textContent ?? '').trim() || t.textContent.trim().slice(0, 20) };
      });
      for (let i = 0; i < rects.length; i++) {
        for (let j = i + 1; j < rects.length; j++) {
          const [a, b] = [rects[i].r, rects[j].r];
          const overlapX = Math.min(a.right, b.right) - Math.max(a.left, b.left);
          const overlapY = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
          // Line boxes of neighbouring rows may touch; words that cover each other overlap by more.
          if (overlapX > 1 && overlapY > 3) problems.push(`${pane}: "${rects[i].label}" overlaps "${rects[j].label}"`);
        }
      }
    }
    // The page's own text (bars, narration, panels) on the screen.
    for (const el of document.querySelectorAll('.screen *')) {
      if (el.closest('svg')) continue;
      const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
      if (!own || el.getClientRects().length === 0) continue;
      const size = parseFloat(getComputedStyle(el).fontSize);
      smallest = Math.min(smallest, size);
      if (size < minText - 0.05) problems.push(`"${el.textContent.trim().slice(0, 30)}" (${el.tagName.toLowerCase()}.${el.className}) is ${size.toFixed(1)} px`);
    }
    return { problems, smallest, scrolls };
  }, [MIN_TEXT_PX, mayScroll]);
}

/** The steps of a lesson's pause points and of its other markers. */
async function markers(page) {
  return page.locator('.marker').evaluateAll((els) => els.map((el) => ({ at: Number(el.dataset.at), kind: el.dataset.kind })));
}

for (const vp of VIEWPORTS) {
  test(`every lesson is on screen, readable and clear of overlaps: ${vp.name} ${vp.width}x${vp.height}`, async ({ page }) => {
    test.setTimeout(600_000);
    await page.setViewportSize({ width: vp.width, height: vp.height });
    // Messages glide to their places between steps; the check is of where they come to rest.
    await page.emulateMedia({ reducedMotion: 'reduce' });
    const problems = await open(page);
    const found = [];
    const scrolling = new Set();
    let smallest = Infinity;
    let checked = 0;
    // On a laptop and a projector every lesson fits its stage. A tablet upright and a phone are
    // narrower than the side-by-side picture, and a lesson with many replicas or consumers is then
    // taller than the stage at 12 px: it scrolls down in its box (and is listed in the log).
    const mayScroll = ['tablet', 'phone'].includes(vp.name);
    for (const name of LESSONS) {
      await lesson(page, name);
      const all = await markers(page);
      // Every pause point; on the laptop, the markers of every other kind too.
      const steps = [...new Set(all.filter((m) => m.kind === 'pause' || vp.name === 'laptop').map((m) => m.at))];
      for (const at of [0, ...steps]) {
        await seek(page, at);
        const result = await stageProblems(page, mayScroll);
        smallest = Math.min(smallest, result.smallest);
        checked++;
        if (result.scrolls) scrolling.add(name);
        for (const p of result.problems) found.push(`${name} at step ${at}: ${p}`);
      }
      const first = all.find((m) => m.kind === 'pause');
      if (first) await seek(page, first.at);
      await page.screenshot({ path: path.join(SHOTS, `${vp.name}-${name}.png`) });
    }
    fs.writeFileSync(path.join(SHOTS, `${vp.name}-problems.txt`), found.join('\n') + '\n');
    console.log(`${vp.name}: ${checked} positions of ${LESSONS.length} lessons checked; smallest text ${smallest.toFixed(1)} px; ${found.length} problem(s); ${scrolling.size} lesson(s) scroll in the stage: ${[...scrolling].join(' ') || 'none'}`);
    if (!mayScroll) expect([...scrolling]).toEqual([]);
    expect(found).toEqual([]);
    expect(smallest).toBeGreaterThanOrEqual(MIN_TEXT_PX);
    expect(problems).toEqual([]);
  });
}

test('compare mode shows both pictures side by side at a readable size, the outcomes collapsible', async ({ page }) => {
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.emulateMedia({ reducedMotion: 'reduce' });
  const problems = await open(page, '#scenario=acks1-acknowledged-loss&seed=1&step=0');
  await page.getByTestId('compare').click();
  await expect(page.getByTestId('right-pane')).toBeVisible();
  for (const at of [0, 21, 60, 120]) {
    await seek(page, at);
    const result = await stageProblems(page);
    expect(result.problems).toEqual([]);
    expect(result.smallest).toBeGreaterThanOrEqual(MIN_TEXT_PX);
  }
  const [left, right] = await Promise.all(['left-pane', 'right-pane'].map((id) => page.getByTestId(id).locator('svg.cluster').boundingBox()));
  // Side by side: one beside the other, each a good part of the stage.
  expect(right.x).toBeGreaterThanOrEqual(left.x + left.width - 1);
  expect(Math.abs(left.y - right.y)).toBeLessThan(5);
  await page.screenshot({ path: path.join(SHOTS, 'compare-laptop.png') });
  const table = page.getByTestId('compare-panel');
  expect(await table.evaluate((el) => el.open)).toBe(true);
  await table.locator('summary').click();
  expect(await table.evaluate((el) => el.open)).toBe(false);
  expect(problems).toEqual([]);
});

test('after picking a lesson or a speed, the clicker and the arrow keys step instead of changing the menu', async ({ page }) => {
  const problems = await open(page);
  const picker = page.getByTestId('picker');
  await picker.selectOption('acks1-acknowledged-loss');
  await expect(page.getByTestId('title')).toHaveText('acks=1 loses an acknowledged record');
  await expect(page.getByTestId('position')).not.toHaveAttribute('data-total', '', { timeout: 30_000 });
  await page.screenshot({ path: path.join(SHOTS, 'keys-after-pick.png') });
  // Picking gives the focus back; and even a menu that has it leaves these keys to the page.
  expect(await picker.evaluate((el) => el === document.activeElement)).toBe(false);
  await page.keyboard.press('PageDown');
  await expect(page.getByTestId('position')).not.toHaveAttribute('data-position', '0');
  await picker.focus();
  const before = Number(await page.getByTestId('position').getAttribute('data-position'));
  for (const key of ['PageDown', 'ArrowRight', 'PageDown']) await page.keyboard.press(key);
  await expect.poll(async () => Number(await page.getByTestId('position').getAttribute('data-position'))).toBeGreaterThan(before);
  await expect(page.getByTestId('title')).toHaveText('acks=1 loses an acknowledged record');
  expect(await picker.inputValue()).toBe('acks1-acknowledged-loss');
  const at = Number(await page.getByTestId('position').getAttribute('data-position'));
  await page.keyboard.press('PageUp');
  await expect.poll(async () => Number(await page.getByTestId('position').getAttribute('data-position'))).toBeLessThan(at);
  // The speed menu: the arrows step, the speed stays.
  const speed = page.getByRole('combobox', { name: 'Playback speed' });
  await speed.selectOption({ label: 'slow' });
  await speed.focus();
  const here = Number(await page.getByTestId('position').getAttribute('data-position'));
  await page.keyboard.press('ArrowRight');
  await expect.poll(async () => Number(await page.getByTestId('position').getAttribute('data-position'))).toBeGreaterThan(here);
  await expect(speed.locator('option:checked')).toHaveText('slow');
  expect(problems).toEqual([]);
});

test('Space activates a focused button and does not toggle playback; the focus shows', async ({ page }) => {
  const problems = await open(page, '#scenario=acks1-acknowledged-loss&seed=1&step=0');
  await expect(page.getByTestId('position')).not.toHaveAttribute('data-total', '', { timeout: 30_000 });
  const pause = await page.locator('.marker[data-kind=pause]').first().getAttribute('data-at');
  await seek(page, Number(pause));
  const choice = page.getByTestId('choice').nth(1);
  await choice.focus();
  await page.keyboard.press(' ');
  await expect(choice).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('play')).toHaveText(/Play/);
  await expect(page.getByTestId('position')).toHaveAttribute('data-position', pause);
  // The focus ring is drawn.
  const outline = await page.getByTestId('reveal').evaluate((el) => { el.focus(); return getComputedStyle(el).outlineStyle; });
  await page.keyboard.press('Tab');
  expect(['solid', 'auto']).toContain(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle));
  expect(outline).not.toBe('');
  // Away from a control, Space plays and pauses.
  await page.locator('h1').click();
  await page.keyboard.press(' ');
  await expect(page.getByTestId('play')).toHaveText(/Pause/);
  await page.keyboard.press(' ');
  await expect(page.getByTestId('play')).toHaveText(/Play/);
  expect(problems).toEqual([]);
});

test('a broker\'s actions open beside it, by click or by Enter on the focused node; Esc closes them; the result stays in view', async ({ page }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  const problems = await open(page, '#scenario=acks-all-survives-crash&seed=1&step=20');
  await expect(page.getByTestId('position')).toHaveAttribute('data-position', '20', { timeout: 30_000 });
  const broker = page.locator('[data-testid=left-pane] [data-node="broker-2"]');
  await broker.locator('.box').focus();
  await page.keyboard.press('Enter');
  const menu = page.getByTestId('action-menu');
  await expect(menu).toBeVisible();
  const [node, card, stage] = await Promise.all([broker.locator('.box').boundingBox(), menu.boundingBox(), page.getByTestId('stage').boundingBox()]);
  // Beside the node, in the stage, in the window.
  expect(card.x >= node.x + node.width - 1 || card.x + card.width <= node.x + 1).toBe(true);
  expect(card.y).toBeLessThan(node.y + node.height);
  expect(card.y + card.height).toBeGreaterThan(node.y);
  expect(card.x).toBeGreaterThanOrEqual(stage.x - 1);
  expect(card.y + card.height).toBeLessThanOrEqual(1080);
  // The popover has the focus: Tab reaches its actions.
  expect(await menu.evaluate((el) => el.contains(document.activeElement))).toBe(true);
  await page.screenshot({ path: path.join(SHOTS, 'action-popover-1920.png') });
  await page.keyboard.press('Escape');
  await expect(menu).toHaveCount(0);
  expect(await broker.locator('.box').evaluate((el) => el === document.activeElement)).toBe(true);
  // By click: crash it, and the crashed broker is on screen.
  await broker.locator('.box').click();
  await page.getByTestId('crash').click();
  await expect(broker).toHaveAttribute('data-up', 'false');
  const crashed = await broker.locator('.box').boundingBox();
  expect(crashed.y + crashed.height).toBeLessThanOrEqual(1080);
  expect(crashed.y).toBeGreaterThan(0);
  await page.screenshot({ path: path.join(SHOTS, 'after-crash-1920.png') });
  expect(problems).toEqual([]);
});

test('a challenge met by an action says so where the class is looking', async ({ page }) => {
  await page.setViewportSize({ width: 1366, height: 768 });
  const problems = await open(page, '#scenario=challenge-lose-an-ack&seed=1&step=0');
  await page.getByRole('combobox', { name: 'Playback speed' }).selectOption({ label: 'fastest' });
  await page.getByTestId('play').click();
  await expect(page.getByTestId('pause')).toHaveAttribute('data-waiting', 'true', { timeout: 20_000 });
  for (let i = 0; i < 20; i++) {
    await page.getByTestId('forward').click();
    if ((await page.getByTestId('headline').textContent()).includes('ProduceResponse')) break;
  }
  await page.locator('[data-node="broker-1"] .box').click();
  await page.getByTestId('crash').click();
  const met = page.getByTestId('challenge-met');
  await expect(met).toBeVisible({ timeout: 20_000 });
  const box = await met.boundingBox();
  expect(box.y).toBeGreaterThanOrEqual(0);
  expect(box.y + box.height).toBeLessThanOrEqual(768);
  await page.screenshot({ path: path.join(SHOTS, 'challenge-met-laptop.png') });
  expect(problems).toEqual([]);
});

/** Clicks Share link, then Copy, and returns what the page says and the link. */
async function share(page) {
  await page.getByTestId('share').click();
  const field = page.getByTestId('share-field');
  await expect(field).toBeVisible();
  const url = await field.inputValue();
  await page.getByTestId('copy').click();
  await expect(page.getByTestId('copy-status')).not.toHaveText('');
  return { status: await page.getByTestId('copy-status').textContent(), url };
}

/** The page keeps working: it steps, and no error reached the console. */
async function stillWorks(page, problems) {
  const before = Number(await page.getByTestId('position').getAttribute('data-position'));
  await page.getByTestId('forward').click();
  await expect.poll(async () => Number(await page.getByTestId('position').getAttribute('data-position'))).toBeGreaterThan(before);
  await expect(page.locator('#fatal')).toBeHidden();
  expect(problems).toEqual([]);
}

test('Share link without navigator.clipboard (plain http off localhost): the copy command is tried and its outcome told', async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined, configurable: true });
    // Records what the page asks of the copy command, and refuses it as a locked-down browser would.
    window.copyCalls = 0;
    document.execCommand = () => { window.copyCalls++; return false; };
  });
  const problems = await open(page, '#scenario=acks1-acknowledged-loss&seed=1&step=5');
  expect(await page.evaluate(() => navigator.clipboard)).toBeUndefined();
  const { status, url } = await share(page);
  expect(url).toMatch(/#v2\./);
  expect(status).toContain('did not let the page copy');
  expect(await page.evaluate(() => window.copyCalls)).toBe(1);
  // The link is selected, to copy by hand.
  expect(await page.evaluate(() => { const f = document.activeElement; return f.value.slice(f.selectionStart, f.selectionEnd); })).toBe(url);
  await page.screenshot({ path: path.join(SHOTS, 'share-no-clipboard.png') });
  await stillWorks(page, problems);
});

test('Share link without navigator.clipboard, where the copy command works: it says copied', async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined, configurable: true });
    document.execCommand = (name) => { window.copied = name === 'copy' ? getSelection().toString() || document.activeElement.value.slice(document.activeElement.selectionStart, document.activeElement.selectionEnd) : null; return name === 'copy'; };
  });
  const problems = await open(page, '#scenario=acks1-acknowledged-loss&seed=1&step=5');
  const { status, url } = await share(page);
  expect(status).toBe('Copied ✓');
  expect(await page.evaluate(() => window.copied)).toBe(url);
  await stillWorks(page, problems);
});

test('Share link where the clipboard refuses: the page says so and keeps working', async ({ page }) => {
  await page.addInitScript(() => {
    const refuse = () => Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError'));
    Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => ({ writeText: refuse }), configurable: true });
    document.execCommand = () => false;
  });
  const problems = await open(page, '#scenario=acks1-acknowledged-loss&seed=1&step=5');
  const { status } = await share(page);
  expect(status).toContain('did not let the page copy');
  expect(status).not.toContain('Copied');
  await stillWorks(page, problems);
  // Once more, after the page moved on: a fresh link, the same honest answer.
  const again = await share(page);
  expect(again.status).toContain('did not let the page copy');
  await stillWorks(page, problems);
});

test('Share link where the clipboard works: copied, and the clipboard holds the link', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: 'http://127.0.0.1:8765' });
  const problems = await open(page, '#scenario=acks1-acknowledged-loss&seed=1&step=5');
  const { status, url } = await share(page);
  expect(status).toBe('Copied ✓');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
  // Esc closes the popover.
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('share-url')).toHaveCount(0);
  await stillWorks(page, problems);
});

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core (from node_modules) in the page and returns its violations, briefly. It is
 * evaluated rather than added as a script tag, which the page's Content-Security-Policy refuses.
 */
async function axe(page) {
  // Once the ledger has caught up with the picture (see playback.rs).
  await expect(page.locator('.ledger')).toHaveAttribute('data-stale', 'false');
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  return page.evaluate(async () => {
    // The whole page, with the rules axe runs by default and the experimental ones the issue names.
    const result = await window.axe.run(document, { rules: { 'label-content-name-mismatch': { enabled: true } } });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}${v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : ''}`);
  });
}

test('axe-core finds no violation in the views of a lesson', async ({ page }) => {
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1366, height: 768 });
  const problems = await open(page, '#scenario=acks1-acknowledged-loss&seed=1&step=0');
  await expect(page.getByTestId('position')).not.toHaveAttribute('data-total', '', { timeout: 30_000 });
  const views = {};
  views.start = await axe(page);
  const pause = Number(await page.locator('.marker[data-kind=pause]').first().getAttribute('data-at'));
  await seek(page, pause);
  views.pause = await axe(page);
  await page.locator('[data-testid=left-pane] [data-node="broker-1"] .box').click();
  await expect(page.getByTestId('action-menu')).toBeVisible();
  views['action popover'] = await axe(page);
  await page.keyboard.press('Escape');
  await page.getByTestId('share').click();
  views['share popover'] = await axe(page);
  await page.keyboard.press('Escape');
  await page.getByTestId('compare').click();
  await expect(page.getByTestId('right-pane')).toBeVisible();
  views.compare = await axe(page);
  await page.getByTestId('compare').click();
  await page.keyboard.press('p');
  views.presenter = await axe(page);
  await page.keyboard.press('t');
  views['presenter, dark'] = await axe(page);
  await page.keyboard.press('p');
  await page.getByTestId('lang').click();
  views.persian = await axe(page);
  await page.getByTestId('lang').click();
  await page.evaluate(() => { location.hash = '#scenario=rebalance-eager-vs-cooperative&seed=1&step=900'; });
  await expect(page.getByTestId('position')).toHaveAttribute('data-position', '900', { timeout: 30_000 });
  views.groups = await axe(page);
  await page.setViewportSize({ width: 390, height: 844 });
  views.phone = await axe(page);
  for (const [view, found] of Object.entries(views)) console.log(`axe, ${view}: ${found.length} violation(s)${found.length ? '\n  ' + found.join('\n  ') : ''}`);
  expect(views).toEqual(Object.fromEntries(Object.keys(views).map((k) => [k, []])));
  expect(problems).toEqual([]);
});

test('edits are never lost silently: the page asks before replacing them, and keeps the last one', async ({ page }) => {
  const problems = await open(page);
  const editor = page.getByTestId('editor');
  const edited = (await editor.inputValue()).replace('title = "', 'title = "My ');
  await editor.fill(edited);
  // Picking another lesson asks first; refusing keeps the edit and the run.
  const asked = [];
  page.once('dialog', (d) => { asked.push(d.message()); d.dismiss(); });
  await page.getByTestId('picker').selectOption('retry-duplicate');
  await expect.poll(() => asked.length).toBe(1);
  expect(asked[0]).toContain('have not run');
  await expect(editor).toHaveValue(edited);
  await expect(page.getByTestId('title')).toHaveText('Keys pick partitions: per-key order, and a hot partition');
  // The edit survives a reload: the browser kept it.
  await page.reload();
  await expect(page.getByTestId('title')).toBeVisible();
  await expect(editor).toHaveValue(edited);
  await expect(page.getByTestId('notice')).toContainText('Your last edit is back in the editor');
  // Agreeing replaces it.
  page.once('dialog', (d) => d.accept());
  await page.getByTestId('picker').selectOption('retry-duplicate');
  await expect(page.getByTestId('title')).toHaveText('Retries without idempotence write a duplicate when an ack is lost');
  await expect(editor).not.toHaveValue(edited);
  expect(problems).toEqual([]);
});

test('a cut link is drawn broken between its two nodes while it is cut, and not once it heals', async ({ page }) => {
  await page.setViewportSize({ width: 1366, height: 768 });
  const problems = await open(page, '#scenario=zombie-leader&seed=1&step=100');
  await expect(page.getByTestId('position')).toHaveAttribute('data-position', '100', { timeout: 30_000 });
  const cuts = page.locator('[data-testid=left-pane] .cut-link');
  await expect(cuts).toHaveCount(3);
  const ends = await cuts.evaluateAll((els) => els.map((e) => `${e.dataset.from}-${e.dataset.to}-${e.dataset.both}`).sort());
  expect(ends).toEqual(['broker-1-broker-2-true', 'broker-1-broker-3-true', 'controller-broker-1-true']);
  // The cross sits on the link, inside the picture.
  const [mark, picture] = await Promise.all([cuts.first().locator('.cut-mark').boundingBox(), page.locator('[data-testid=left-pane] [data-testid=picture]').boundingBox()]);
  expect(mark.width).toBeGreaterThan(4);
  expect(mark.x).toBeGreaterThanOrEqual(picture.x);
  expect(mark.x + mark.width).toBeLessThanOrEqual(picture.x + picture.width);
  await page.screenshot({ path: path.join(SHOTS, 'cut-links-1366.png') });
  await seek(page, 225);
  await expect(cuts).toHaveCount(0);
  expect(problems).toEqual([]);
});

test('Back and Forward move between the lessons picked in the page, and Back from the first returns to the opening lesson', async ({ page }) => {
  const problems = await open(page);
  const opening = await page.getByTestId('title').textContent();
  await page.getByTestId('picker').selectOption('zombie-leader');
  await expect(page.getByTestId('title')).toContainText('zombie leader');
  await page.getByTestId('picker').selectOption('acks0-leader-crash');
  await expect(page.getByTestId('title')).toContainText('acks=0');
  expect(page.url()).toContain('scenario=acks0-leader-crash');
  await page.goBack();
  await expect(page.getByTestId('title')).toContainText('zombie leader');
  await page.goBack();
  await expect(page.getByTestId('title')).toHaveText(opening);
  await page.goForward();
  await expect(page.getByTestId('title')).toContainText('zombie leader');
  // The picker follows the run shown, so the next pick is a change again.
  await expect(page.getByTestId('picker')).toHaveValue('zombie-leader');
  expect(problems).toEqual([]);
});

test('large-cluster scrolls the broker its question names into view, and its overview shows the whole cluster', async ({ page }) => {
  await page.setViewportSize({ width: 1366, height: 768 });
  const problems = await open(page);
  await lesson(page, 'large-cluster');
  const pause = (await markers(page)).find((m) => m.kind === 'pause');
  await seek(page, pause.at);
  await expect(page.locator('.question').first()).toContainText('broker-4');
  const picture = page.locator('[data-testid=left-pane] [data-testid=picture]');
  await expect.poll(async () => {
    const [box, node] = await Promise.all([picture.boundingBox(), picture.locator('[data-node="broker-4"] .box').first().boundingBox()]);
    return node.y >= box.y - 1 && node.y + Math.min(node.height, box.height) <= box.y + box.height + 1;
  }).toBe(true);
  expect(await picture.evaluate((el) => el.scrollTop)).toBeGreaterThan(0);
  await page.screenshot({ path: path.join(SHOTS, 'large-cluster-focus-1366.png') });
  // The overview shows the whole cluster in the stage, brokers side by side; the readable size
  // comes back on demand.
  await page.getByTestId('overview').click();
  await expect(page.getByTestId('overview')).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(() => picture.evaluate((el) => el.scrollHeight <= el.clientHeight + 1 && el.scrollWidth <= el.clientWidth + 1)).toBe(true);
  await expect(picture.locator('svg.cluster')).toHaveAttribute('data-arrangement', 'grid');
  const box = await picture.boundingBox();
  const columns = new Set();
  for (let b = 1; b <= 9; b++) {
    const node = await picture.locator(`[data-node="broker-${b}"] .box`).first().boundingBox();
    expect(node.y).toBeGreaterThanOrEqual(box.y - 1);
    expect(node.y + node.height).toBeLessThanOrEqual(box.y + box.height + 1);
    columns.add(Math.round(node.x));
  }
  expect(columns.size).toBeGreaterThan(1);
  await page.screenshot({ path: path.join(SHOTS, 'large-cluster-overview-1366.png') });
  await page.getByTestId('overview').click();
  await expect.poll(() => picture.evaluate((el) => el.scrollHeight > el.clientHeight)).toBe(true);
  expect(problems).toEqual([]);
});
