/** 4. The email's render time for a 200-message transcript (a pure function, in this process). */
import { renderLeadEmail, sampleLead } from '@lead-intake/lead-message';
import { log, median, quantile, round } from '../lib/measure';

export function render() {
  log('render...');
  const lead200 = sampleLead(200);
  for (let i = 0; i < 50; i++) renderLeadEmail(lead200);
  const rt: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t0 = performance.now();
    renderLeadEmail(lead200);
    rt.push(performance.now() - t0);
  }
  return {
    medianMs: round(median(rt), 3),
    p99Ms: round(quantile(rt, 0.99), 3),
    htmlBytes: renderLeadEmail(lead200).html.length,
    target: '<= 5 ms median',
    met: median(rt) <= 5,
  };
}
