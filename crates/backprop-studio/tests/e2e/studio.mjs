// End-to-end test of `backprop studio` in a real browser: Debian's Chromium, headless, driven
// by playwright-core. It starts the studio (BACKPROP_BIN, default target/debug/backprop) on a
// free port, then: loads a spirals run from its URL, starts it from the keyboard, sees the
// validation loss fall below 0.1 within 20 s and the heatmap change, pauses it, reproduces
// the run from the page's URL in a second page and gets the same loss curve (bit for bit),
// sees a bad setting's message on the page, and checks the page at 390 px wide. Screenshots
// of each state go to SCREENSHOTS (default target/studio-screenshots).
//
//   cd crates/backprop-studio/tests/e2e && npm ci && node studio.mjs
import { chromium } from "playwright-core";
import { spawn, execSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";

const root = resolve(new URL(".", import.meta.url).pathname, "../../../..");
const bin = process.env.BACKPROP_BIN || resolve(root, "target/debug/backprop");
const shots = process.env.SCREENSHOTS || resolve(root, "target/studio-screenshots");
mkdirSync(shots, { recursive: true });
const chromiumPath = process.env.CHROMIUM || execSync("command -v chromium || command -v chromium-browser",
  { shell: "/bin/bash" }).toString().trim();

const RUN = "dataset=spirals&points=400&noise=0.1&train=0.5&features=x,y" +
  "&layers=8,8&activation=tanh&optimizer=adam&lr=0.003&batch=10&l2=0&dropout=0&seed=3" +
  "&epochs=5000&speed=30";

function fail(message) {
  throw new Error(message);
}

async function startStudio() {
  const child = spawn(bin, ["studio", "--port", "0"], { stdio: ["ignore", "ignore", "pipe"] });
  const url = await new Promise((ok, no) => {
    let text = "";
    const timer = setTimeout(() => no(new Error("the studio did not start: " + text)), 20000);
    child.stderr.on("data", (chunk) => {
      text += chunk;
      const m = text.match(/on (http:\/\/\S+\/)/);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    child.on("exit", (code) => no(new Error("the studio exited with " + code + ": " + text)));
  });
  return { child, url };
}

async function waitFor(page, what, predicate, arg, seconds) {
  try {
    await page.waitForFunction(predicate, arg, { timeout: seconds * 1000, polling: 50 });
  } catch (e) {
    const state = await page.evaluate(() => JSON.stringify({
      state: window.studio.state, epochs: window.studio.curve.length,
      last: window.studio.curve[window.studio.curve.length - 1], error: window.studio.error }));
    fail(what + " within " + seconds + " s: " + state);
  }
}

const lastValLoss = () => {
  const c = window.studio.curve;
  return c.length ? c[c.length - 1][2] : null;
};

async function main() {
  const { child, url } = await startStudio();
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url + "?" + RUN);
    if (await page.inputValue("select[name=dataset]") !== "spirals") fail("the URL's dataset is not shown");
    if (await page.isChecked("input[name=feature][value=sinx]")) fail("the URL's features are not shown");
    await page.screenshot({ path: shots + "/1-loaded.png" });

    // Start from the keyboard.
    await page.focus("#start");
    await page.keyboard.press("Enter");
    await waitFor(page, "no heatmap", () => window.studio.gridUpdates >= 1, null, 10);
    const firstHash = await page.evaluate(() => window.studio.gridHash);
    const started = Date.now();
    await waitFor(page, "the validation loss did not fall below 0.1",
      (f) => { const v = eval(f)(); return v !== null && v < 0.1; }, "(" + lastValLoss + ")", 20);
    console.log("validation loss below 0.1 after " + (Date.now() - started) + " ms");
    if (await page.evaluate(() => window.studio.gridHash) === firstHash) fail("the heatmap did not change");
    const neurons = await page.evaluate(() => [window.studio.neuronCanvases, window.studio.neuronUpdates]);
    if (neurons[0] !== 16 || neurons[1] < 2) fail("per-neuron thumbnails: " + JSON.stringify(neurons));
    await page.screenshot({ path: shots + "/2-training.png" });

    await page.click("#pause");
    await waitFor(page, "no pause", () => window.studio.state === "paused", null, 10);
    const curve = await page.evaluate(() => window.studio.curve);
    const link = page.url();
    await page.screenshot({ path: shots + "/3-paused.png" });
    console.log("paused at epoch " + curve.length + "; link " + link);

    // The same run from its link, in another page.
    const again = await context.newPage();
    await again.goto(link);
    await again.click("#start");
    await waitFor(again, "the reproduced run did not get as far",
      (n) => window.studio.curve.length >= n, curve.length, 60);
    await again.click("#pause");
    const replay = await again.evaluate(() => window.studio.curve);
    for (let i = 0; i < curve.length; i++) {
      if (JSON.stringify(replay[i]) !== JSON.stringify(curve[i])) {
        fail("epoch " + (i + 1) + " differs: " + JSON.stringify(curve[i]) + " then " + JSON.stringify(replay[i]));
      }
    }
    console.log("the link reproduced " + curve.length + " epochs bit for bit");
    await again.screenshot({ path: shots + "/4-reproduced.png" });
    await again.close();

    // A bad setting: its message on the page.
    await page.goto(url + "?" + RUN.replace("layers=8,8", "layers=8,0"));
    await page.click("#start");
    await waitFor(page, "no error message", () => !document.getElementById("error").hidden, null, 10);
    const message = await page.textContent("#error");
    if (!message.includes('layers="8,0"')) fail("unexpected message: " + message);
    await page.screenshot({ path: shots + "/5-error.png" });

    // A narrow window: no sideways scrolling, the controls still there.
    const narrow = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await narrow.goto(url + "?" + RUN);
    const width = await narrow.evaluate(() => document.documentElement.scrollWidth);
    if (width > 392) fail("the page is " + width + " px wide in a 390 px window");
    if (!(await narrow.isVisible("#start"))) fail("no Start button at 390 px");
    await narrow.screenshot({ path: shots + "/6-narrow.png", fullPage: true });
    if (errors.length) fail("script errors: " + errors.join("; "));
    console.log("studio end-to-end: all checks passed; screenshots in " + shots);
  } finally {
    await browser.close();
    child.kill("SIGTERM");
  }
}

main().catch((e) => {
  console.error("studio end-to-end FAILED: " + e.message);
  process.exit(1);
});
