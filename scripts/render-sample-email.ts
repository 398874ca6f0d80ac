/**
 * Refreshes the sample lead kept in docs/: the email's HTML and text parts as rendered by
 * renderLeadEmail, PNGs of the HTML in headless Chromium (light and dark color schemes), and the
 * same lead's owner text and webhook body (fixed times: the same bytes on every run).
 * Run: npm run email:sample
 */
import { failure, helpIfAsked } from './cli';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderLeadEmail, sampleLead } from '@lead-intake/lead-message';
import { smsLength } from '@lead-intake/alerts';
import { sampleAlerts } from '@lead-intake/alerts/sample';
import { launchChromium } from '@lead-intake/testkit';

async function main() {
  const docs = join(__dirname, '..', 'docs');
  const email = renderLeadEmail(sampleLead(6, { callback: true }));
  writeFileSync(join(docs, 'sample-lead-email.html'), email.html);
  writeFileSync(join(docs, 'sample-lead-email.txt'), `Subject: ${email.subject}\n\n${email.text}\n`);
  const alerts = sampleAlerts();
  const length = smsLength(alerts.sms.trimEnd());
  writeFileSync(join(docs, 'sample-lead-sms.txt'), alerts.sms);
  writeFileSync(join(docs, 'sample-lead-webhook.json'), alerts.webhook);
  console.log(`wrote docs/sample-lead-sms.txt (${length.segments} segment(s), ${length.encoding}) and docs/sample-lead-webhook.json`);
  const browser = await launchChromium();
  try {
    for (const scheme of ['light', 'dark'] as const) {
      const page = await browser.newPage({ viewport: { width: 720, height: 900 }, colorScheme: scheme });
      // Offline: the email must render with nothing fetched from the network, except the sample
      // photo's thumbnail, which is drawn here (a placeholder where the customer's photo goes).
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('data:')) return route.continue();
        if (url === 'https://files.example.com/wheel.jpg')
          return route.fulfill({
            contentType: 'image/svg+xml',
            body:
              '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200"><rect width="320" height="200" fill="#9aa3ad"/>' +
              '<circle cx="160" cy="100" r="70" fill="#3b4149"/><circle cx="160" cy="100" r="30" fill="#c9ced4"/></svg>',
          });
        return route.abort();
      });
      await page.setContent(email.html, { waitUntil: 'load' });
      await page.screenshot({
        path: join(docs, scheme === 'light' ? 'sample-lead-email.png' : 'sample-lead-email-dark.png'),
        fullPage: true,
      });
      await page.close();
    }
  } finally {
    await browser.close();
  }
  console.log(`wrote docs/sample-lead-email.{html,txt,png} and docs/sample-lead-email-dark.png (${email.subject})`);
}

helpIfAsked(__filename);
main().catch((e) => failure('email:sample', e));
