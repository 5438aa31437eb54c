// Drives the console's History view in Debian's headless chromium, as a person would.
// usage: node history-check.mjs BASE_URL ADMIN_TOKEN DECISION SCREENSHOT_PATH
// Opens History, lists everything, filters on DECISION, opens the first row's timeline.
// Prints {"all":[decisions…], "filtered":[decisions…], "title":…, "events":[{kind, text}…], "pageText":…}.
import { chromium } from "playwright-core";

const [base, token, decision, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const report = { all: [], filtered: [], events: [], errors: [] };
try {
  const page = await browser.newPage();
  page.on("pageerror", e => report.errors.push(String(e.message ?? e)));
  await page.goto(`${base}/approvals#token=${encodeURIComponent(token)}`);
  await page.click("#show-history");
  await page.waitForSelector("#history tr.audit-row", { timeout: 20000 });
  report.all = await page.$$eval("#history tr.audit-row td.decision", els => els.map(e => e.textContent));
  await page.selectOption("#history-filters select[name=decision]", decision);
  await page.click("#history-filters button[type=submit]");
  await page.waitForFunction(d => {
    const cells = [...document.querySelectorAll("#history tr.audit-row td.decision")];
    return cells.length > 0 && cells.every(c => c.textContent === d);
  }, decision, { timeout: 20000 });
  report.filtered = await page.$$eval("#history tr.audit-row td.decision", els => els.map(e => e.textContent));
  await page.click("#history tr.audit-row a.timeline-link");
  await page.waitForSelector("#timeline li.timeline-event", { timeout: 20000 });
  report.title = await page.textContent("#timeline h2");
  report.events = await page.$$eval("#timeline li.timeline-event", els => els.map(e => ({ kind: e.querySelector("strong").textContent, text: e.textContent })));
  report.pageText = await page.textContent("body");
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
} catch (e) {
  report.error = String(e.message ?? e);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(report));
