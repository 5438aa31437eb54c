// Drives the web console in Debian's headless chromium, as a person would.
// usage: node console-check.mjs BASE_URL ADMIN_TOKEN ACTIONS_JSON SCREENSHOT_PATH
// ACTIONS_JSON: [{"tool":"…","do":"approve"} | {"tool":"…","do":"deny","comment":"…"}], applied in order,
// each to the first pending card for that tool. Prints {"pendingBefore":[…], "messages":[…], "recent":[…], "pageText":…, "markupRan":bool}.
import { chromium } from "playwright-core";

const [base, token, actionsJson, screenshot] = process.argv.slice(2);
const actions = JSON.parse(actionsJson);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const report = { pendingBefore: [], messages: [], recent: [] };
try {
  const page = await browser.newPage();
  await page.goto(`${base}/approvals#token=${encodeURIComponent(token)}`);
  await page.waitForSelector(".card.pending", { timeout: 20000 });
  report.pendingBefore = await page.$$eval(".card.pending .title strong:first-child", els => els.map(e => e.textContent));
  report.urlAfterLoad = page.url();
  // Approval text (arguments, reasons) must arrive as text: nothing of it may become an element or run.
  report.markupRan = await page.evaluate(() => !!document.querySelector("#injected") || window.__pwned === true);
  for (const action of actions) {
    const card = page.locator(".card.pending", { hasText: action.tool }).first();
    await card.waitFor({ timeout: 20000 });
    if (action.comment) await card.locator("textarea.comment").fill(action.comment);
    await card.locator(action.do === "approve" ? "button.approve" : "button.deny").click();
    await page.waitForFunction(() => document.getElementById("message").textContent.length > 0, null, { timeout: 20000 });
    report.messages.push(await page.textContent("#message"));
    await page.evaluate(() => { document.getElementById("message").textContent = ""; });
  }
  await page.waitForSelector(".card.decided", { timeout: 20000 });
  report.recent = await page.$$eval(".card.decided", els => els.map(e => e.textContent));
  report.pageText = await page.textContent("body");
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
} catch (e) {
  report.error = String(e.message ?? e);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(report));
