// Visits the Dagster UI for one rendered partition and reports what a person would see, as JSON on stdout.
// Usage: node dagster_ui.js <base url> <run id> <partition key> <screenshot dir>
// Environment: NODE_PATH (where playwright-core is), CHROMIUM (the browser), CHROMIUM_FLAGS (a JSON list).
const { chromium } = require("playwright-core");

const STAGES = ["source_video", "tts_audio", "avatar_video", "composite", "public_url", "nocodb_sync"];
const CHECKS = ["duration_matches_speech", "under_size_cap", "loudness_on_target", "faststart", "subtitles_present"];
const WAIT_MS = 60000;

// The first visit asks to "Join the Dagster community" (a second after the UI asks the server
// whether to): Skip it before anything is looked at. Skipping tells the server, so it stays away.
function welcome(page) {
  return page.getByRole("dialog").filter({ hasText: "Join the Dagster community" });
}

async function dismissWelcome(page, waitMs) {
  const dialog = welcome(page);
  try {
    await dialog.waitFor({ state: "visible", timeout: waitMs });
  } catch (e) {
    return; // not shown
  }
  await dialog.getByRole("button", { name: "Skip" }).click();
  await dialog.waitFor({ state: "hidden", timeout: 10000 });
}

async function visible(page, text) {
  return page.getByText(text, { exact: false }).first().isVisible().catch(() => false);
}

async function main() {
  const [base, runId, partition, shots] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    args: JSON.parse(process.env.CHROMIUM_FLAGS),
    headless: true,
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  // Should it come later than expected, it is skipped before the next click or wait.
  await page.addLocatorHandler(welcome(page), async (dialog) => {
    await dialog.getByRole("button", { name: "Skip" }).click();
  });
  const report = {};
  try {
    // 1. composite's page for the partition: the thumbnail inline, the figures with their units.
    await page.goto(`${base}/assets/composite?view=partitions&partition=${partition}`);
    await dismissWelcome(page, 20000);
    const thumbnail = page.locator('img[src^="data:image/"]').first();
    await thumbnail.waitFor({ state: "visible", timeout: WAIT_MS });
    await page.waitForTimeout(500);
    report.thumbnail = await thumbnail.evaluate((img) => ({
      loaded: img.complete && img.naturalWidth > 0,
      natural: [img.naturalWidth, img.naturalHeight],
      shown: [Math.round(img.getBoundingClientRect().width), Math.round(img.getBoundingClientRect().height)],
    }));
    report.show_markdown_buttons = await page.getByText("Show Markdown").count();
    report.composite_text = (await page.locator("body").innerText()).slice(0, 4000);
    await page.screenshot({ path: `${shots}/ui_composite.png`, fullPage: true });

    // 2. The run: six steps, and the row's tags.
    await page.goto(`${base}/runs/${runId}`);
    await dismissWelcome(page, 1500);
    await page.getByText("Succeeded (").first().waitFor({ state: "visible", timeout: WAIT_MS });
    await page.waitForTimeout(1500);
    report.run_status = await page.getByText(/^(Succeeded|Errored) \(\d+\)$/).allInnerTexts();
    report.step_names_shown = [];
    for (const stage of STAGES) {
      if (await visible(page, stage)) report.step_names_shown.push(stage);
    }
    await dismissWelcome(page, 500);
    await page.screenshot({ path: `${shots}/ui_run.png` });
    await page.getByRole("button", { name: "View tags and config" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("talking_head/title").first().waitFor({ state: "visible", timeout: WAIT_MS });
    report.run_tags_text = await dialog.innerText();
    await page.screenshot({ path: `${shots}/ui_run_tags.png` });
    await page.keyboard.press("Escape");

    // 3. composite's checks and their results.
    await page.goto(`${base}/assets/composite?view=checks`);
    await dismissWelcome(page, 1500);
    await page.getByText(CHECKS[0]).first().waitFor({ state: "visible", timeout: WAIT_MS });
    await page.waitForTimeout(1500);
    report.checks_shown = [];
    for (const name of CHECKS) {
      if (await visible(page, name)) report.checks_shown.push(name);
    }
    report.checks_succeeded = await page.getByText("Succeeded", { exact: true }).count();
    report.check_result = await page.getByText("Passed", { exact: true }).first().isVisible();
    report.checks_text = (await page.locator("body").innerText()).slice(0, 4000);
    await dismissWelcome(page, 500);
    await page.screenshot({ path: `${shots}/ui_checks.png` });

    // 4. public_url's page: the preview linking to the video.
    await page.goto(`${base}/assets/public_url?view=partitions&partition=${partition}`);
    await dismissWelcome(page, 1500);
    await page.getByText("preview").first().waitFor({ state: "visible", timeout: WAIT_MS });
    await page.waitForTimeout(500);
    report.preview_links = await page
      .locator('a:has(img[src^="data:image/"])')
      .evaluateAll((links) => links.map((a) => a.href));
    await page.screenshot({ path: `${shots}/ui_public_url.png`, fullPage: true });
  } finally {
    await page.screenshot({ path: `${shots}/ui_last.png` }).catch(() => {});
    await browser.close();
  }
  process.stdout.write(JSON.stringify(report));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
