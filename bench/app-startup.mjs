// App start to an interactive library: spawn `viv serve`, wait for its URL, load the page in
// Chromium (already running, as a person's browser would be) and wait until the library shows
// and its "New VM" button is clickable. Runs 5 times; medians in bench/results/app-startup.json.
import { browser, median, record, serve } from './app-common.mjs';

const runs = Number(process.argv[2] ?? 5);
const { page, close } = await browser();
await page.goto('about:blank');
const samples = [];
for (let i = 0; i < runs; i++) {
  const s = await serve({ fake: true });
  await page.goto(s.url);
  await page.getByText('No virtual machines yet').waitFor();
  await page.locator('[data-test="new-vm"]').click({ trial: true });
  const interactiveMs = performance.now() - s.t0;
  samples.push({ urlMs: s.urlMs, interactiveMs });
  await s.stop();
}
await close();
record('app-startup', {
  what: 'viv serve spawn -> URL printed, and -> library interactive in Chromium (ms)',
  runs,
  medianUrlMs: Math.round(median(samples.map((s) => s.urlMs))),
  medianInteractiveMs: Math.round(median(samples.map((s) => s.interactiveMs))),
  samples: samples.map((s) => ({ urlMs: Math.round(s.urlMs), interactiveMs: Math.round(s.interactiveMs) })),
});
