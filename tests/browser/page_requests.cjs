// Opens a local page in headless Chromium (Debian's, driven by
// playwright-core) with the network off, and prints as JSON every request
// the page made and its rendered text. Used by tests/it/report.rs.
//   node page_requests.cjs file:///path/page.html
const { chromium } = require('playwright-core');

(async () => {
  const url = process.argv[2];
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  try {
    const context = await browser.newContext({ offline: true });
    const page = await context.newPage();
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(url, { waitUntil: 'load' });
    // Anything the page would fetch late (fonts, lazy images) asks by now.
    await page.waitForTimeout(500);
    const text = await page.innerText('body');
    console.log(JSON.stringify({ requests, text }));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
