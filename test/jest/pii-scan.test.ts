import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectTestPii, phoneForms, scanText } from './pii-scan';

const business = new Set(['victor@craigs.autos', '4083793820']);

describe('the end-of-run scan for customer data in logs', () => {
  const pii = { phones: new Set(['4155557777']), names: new Set(['Dana Whitfield']) };

  it('finds a phone in every form the code writes or a customer types, an email, and a test customer’s name', () => {
    for (const form of phoneForms('4155557777'))
      expect(scanText('x.log', `{"level":"INFO","message":"sent","to":"${form}"}`, pii, business).length).toBeGreaterThan(0);
    // The display format the lead email and texts use, the one the old check missed.
    expect(scanText('x.log', 'lead for (415) 555-7777', pii, business)[0]).toMatchObject({ line: 1, what: 'phone (415) 555-7777' });
    // A number no test wrote literally (a template in the storm) is still found by its format.
    expect(scanText('x.log', 'call 415-555-1042', pii, business)).toHaveLength(1);
    expect(scanText('x.log', 'a\nwrite to customer7@example.com', pii, business)[0]).toMatchObject({
      line: 2,
      what: 'email customer7@example.com',
    });
    expect(scanText('x.log', '{"customer":"Dana Whitfield"}', pii, business)).toHaveLength(1);
  });

  it('passes ids, times, hashes and the business’s own contacts', () => {
    const clean = [
      '{"level":"INFO","threadId":"cthr_0mx5rq7y00000d7aa432b","userHash":"fmXZpu0N1u15V_5KrNBg9U","timestamp":"2026-12-02T07:44:01.123Z"}',
      '{"xray_trace_id":"1-5759e988-bd862e3fe1be46a994272793","sent_at":1796194585,"durationMs":1234567890}',
      '[lead] POST / 200 12ms; from victor@craigs.autos; shop +14083793820',
    ].join('\n');
    expect(scanText('x.log', clean, pii, business)).toEqual([]);
  });

  it('reads the tests’ sources for the literal numbers and names they use', () => {
    const root = mkdtempSync(join(tmpdir(), 'pii-'));
    mkdirSync(join(root, 'a'));
    writeFileSync(
      join(root, 'a/x.test.ts'),
      `say('call me at 408 555 0142'); summary({ customer_name: 'Ana Lopez' }); const n = { name: 'x' };`,
    );
    const got = collectTestPii(root, ['a/x.test.ts']);
    expect([...got.phones]).toEqual(['4085550142']);
    expect([...got.names]).toEqual(['Ana Lopez']);
  });
});
