// The page's performance in headless Chromium, timed inside the page with performance.now() and
// requestAnimationFrame. `cargo xtask bench` builds dist/, serves it on PORT and runs this; it
// prints one `name value` line per figure.
//
//   node benches/browser.js PORT
//
// - wasm throughput: bench_run('heavy-load-100k') and bench_run('pipeline-load-20k') from the page's
//   own module, median of 5 each.
// - seek: on large-cluster (about 90,000 steps), once the look-ahead knows the whole run, a jump
//   to a random step through the timeline slider, timed until Yew has rendered and the browser
//   has laid the page out; then one step back and one step forward from there, the same way.
// - playback: large-cluster at the fastest speed (one step per animation frame), with Chromium's
//   frame-rate cap off, so the gap between animation frames is what a frame really costs.
// - memory: the wasm memory after heavy-load-100k (100,002 records) has run to its end in the
//   page and the page shows its last step.
// - time to interactive: with DIST given, the page is also served from DIST with gzip (as a static
//   host serves it; Python's server does not compress) and loaded with an empty cache over a link
//   throttled like 4G (9 Mbit/s each way, 170 ms latency), three times; the time from the start of
//   navigation to the first lesson's title on screen, when its controls answer.
//
//   node benches/browser.js PORT [DIST]
const { chromium } = require('@playwright/test');
const fs = require('fs');
const http = require('http');
const path = require('path');
const zlib = require('zlib');

const PORT = process.argv[2] || '8766';
const DIST = process.argv[3];
const BASE = `http://127.0.0.1:${PORT}/`;
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--disable-frame-rate-limit', '--disable-gpu-vsync'];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function open(browser, scenario) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  page.on('pageerror', (e) => { throw e; });
  await page.goto(BASE);
  await page.getByTestId('title').waitFor();
  await page.getByTestId('picker').selectOption(scenario);
  // A page that fetches lessons names the run on `.app` once it has opened (a build from before
  // opened it at once, without the attribute).
  await page.waitForFunction((s) => { const app = document.querySelector('.app'); return !app.hasAttribute('data-scenario') || app.dataset.scenario === s; }, scenario);
  // The look-ahead has finished once the position shows the run's total.
  await page.waitForFunction(() => document.querySelector('[data-testid=position]').dataset.total !== '', null, { timeout: 300_000 });
  return page;
}

/** Times `count` jumps in the page: each moves the slider, and ends when the page is laid out. */
async function seeks(page, count) {
  return page.evaluate(async (count) => {
    const slider = document.querySelector('[data-testid=scrub]');
    const total = Number(document.querySelector('[data-testid=position]').dataset.total);
    const settle = () => new Promise((resolve) => {
      // Yew renders in a microtask after the event; a message posted now runs after it.
      const channel = new MessageChannel();
      channel.port1.onmessage = () => { void document.body.offsetHeight; resolve(); };
      channel.port2.postMessage(0);
    });
    const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
    const jump = async (to) => {
      const start = performance.now();
      slider.value = String(to);
      slider.dispatchEvent(new Event('input', { bubbles: true }));
      await settle();
      return performance.now() - start;
    };
    const key = async (name) => {
      const start = performance.now();
      document.dispatchEvent(new KeyboardEvent('keydown', { key: name, bubbles: true }));
      await settle();
      return performance.now() - start;
    };
    let seed = 12345;
    const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
    const out = { seek: [], back: [], forward: [], total };
    for (let i = 0; i < count; i++) {
      await frame();
      out.seek.push(await jump(Math.floor(random() * total)));
      await frame();
      out.back.push(await key('ArrowLeft'));
      await frame();
      out.forward.push(await key('ArrowRight'));
    }
    return out;
  }, count);
}

async function playback(page, millis) {
  await page.getByLabel('Playback speed').selectOption({ label: 'fastest' });
  await page.keyboard.press('Home');
  return page.evaluate(async (millis) => {
    const frames = [];
    let last = null;
    const play = document.querySelector('[data-testid=play]');
    play.click();
    const start = performance.now();
    await new Promise((resolve) => {
      const tick = (t) => {
        if (last !== null) frames.push(t - last);
        last = t;
        // Playback stops at each pause point, as in class; the bench plays on.
        if (play.getAttribute('aria-label') === 'Play') play.click();
        if (performance.now() - start < millis) requestAnimationFrame(tick); else resolve();
      };
      requestAnimationFrame(tick);
    });
    const position = Number(document.querySelector('[data-testid=position]').dataset.position);
    if (play.getAttribute('aria-label') === 'Pause') play.click();
    return { frames, position };
  }, millis);
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.toml': 'text/plain' };

/** Serves `dir` on 127.0.0.1:`port`, each file gzipped (level 9) when the browser accepts it. */
function gzipServer(dir, port) {
  const root = path.resolve(dir);
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.join(root, name.endsWith('/') ? name + 'index.html' : name);
    if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404);
      res.end();
      return;
    }
    const body = fs.readFileSync(file);
    const headers = { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' };
    if ((req.headers['accept-encoding'] || '').includes('gzip')) {
      res.writeHead(200, { ...headers, 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync(body, { level: 9 }));
    } else {
      res.writeHead(200, headers);
      res.end(body);
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

/** Milliseconds from navigation to the first lesson's title, over a throttled 4G link, cache empty. */
async function timeToInteractive(browser, base) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.querySelector('[data-testid=title]')) {
        window.__interactive = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 170, downloadThroughput: 9e6 / 8, uploadThroughput: 9e6 / 8 });
  await page.goto(base);
  await page.getByTestId('title').waitFor({ timeout: 60_000 });
  const ms = await page.evaluate(() => window.__interactive);
  await context.close();
  return ms;
}

async function main() {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ARGS });
  const result = {};
  try {
    if (DIST) {
      const port = Number(PORT) + 100;
      const server = await gzipServer(DIST, port);
      const loads = [];
      for (let i = 0; i < 3; i++) loads.push(await timeToInteractive(browser, `http://127.0.0.1:${port}/`));
      server.close();
      result.tti_ms = median(loads);
    }
    // Throughput in wasm, on the same scenario as benches/throughput.rs.
    const page = await browser.newPage();
    await page.goto(BASE);
    await page.getByTestId('title').waitFor();
    const runs = await page.evaluate(async () => {
      const module = await import('./static/kafkasim.js');
      const out = [];
      for (const name of ['heavy-load-100k', 'pipeline-load-20k']) {
        const text = await (await fetch(`static/scenarios/${name}.toml`)).text();
        const rates = [];
        for (let i = 0; i < 5; i++) {
          const start = performance.now();
          const steps = module.bench_run(name, text);
          rates.push(steps / ((performance.now() - start) / 1000));
        }
        out.push(rates);
      }
      return out;
    });
    result.wasm_events_per_second = median(runs[0]);
    result.wasm_pipeline_events_per_second = median(runs[1]);
    await page.close();

    const large = await open(browser, 'large-cluster');
    const s = await seeks(large, 40);
    result.seek_steps = s.total;
    result.seek_ms = median(s.seek);
    result.seek_p95_ms = percentile(s.seek, 0.95);
    result.step_back_ms = median(s.back);
    result.step_forward_ms = median(s.forward);
    const p = await playback(large, 5000);
    result.frame_ms = median(p.frames);
    result.frame_p95_ms = percentile(p.frames, 0.95);
    result.frames = p.frames.length;
    result.playback_position = p.position;
    await large.screenshot({ path: 'target/screenshots/bench-large-cluster.png' });
    await large.close();

    const heavy = await open(browser, 'heavy-load-100k');
    await heavy.getByTestId('end').click();
    await heavy.waitForFunction(() => {
      const p = document.querySelector('[data-testid=position]').dataset;
      return p.position === p.total;
    }, null, { timeout: 120_000 });
    result.memory_bytes = await heavy.evaluate(async () => {
      const module = await import('./static/kafkasim.js');
      const wasm = await module.default();
      return wasm.memory.buffer.byteLength;
    });
    await heavy.screenshot({ path: 'target/screenshots/bench-heavy-load.png' });
    await heavy.close();
  } finally {
    await browser.close();
  }
  for (const [name, value] of Object.entries(result)) console.log(`${name} ${value}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
