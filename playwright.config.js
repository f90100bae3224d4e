// Browser tests: Playwright drives Debian's Chromium against the built dist/ on 127.0.0.1.
// `cargo xtask test` builds dist/ and the CLI first.
const { defineConfig } = require('@playwright/test');

// Another port lets a second checkout's browser tests run beside these.
const PORT = Number(process.env.KAFKASIM_TEST_PORT || 8765);

module.exports = defineConfig({
  testDir: 'tests/browser',
  outputDir: 'target/playwright',
  timeout: 60_000,
  workers: 2,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}/`,
    viewport: { width: 1280, height: 720 },
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    },
  },
  webServer: {
    command: `python3 -m http.server ${PORT} --bind 127.0.0.1 --directory dist`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'ignore',
    timeout: 30_000,
  },
});
