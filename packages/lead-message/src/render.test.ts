import {
  leadEmailContent,
  renderLeadEmail,
  renderRequestUpdate,
  sampleLead,
  SUBJECT_MAX,
  type LeadEmailInput,
  type RequestUpdateInput,
} from './index';

const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&';

function hostile(): LeadEmailInput {
  const lead = sampleLead(6);
  lead.summary = {
    ...lead.summary!,
    customer_name: `Eve${evil}\r\nBcc: victim@example.com`,
    project_summary: `Brakes\nSubject: injected ${evil}`,
    summary: evil,
    key_details: [evil],
    call_script_prompts: [evil, 'b', 'c'],
    sms_draft: evil,
    email_body: evil,
  };
  lead.lines[0]!.text = `${evil} <a href="javascript:alert(3)">click</a>`;
  lead.lines[0]!.quote = evil;
  lead.lines[4]!.attachments = [
    { id: null, name: `x${evil}.jpg`, mimeType: 'image/jpeg', previewUrl: 'javascript:alert(4)' },
    { id: null, name: 'ok.jpg', mimeType: 'image/jpeg', previewUrl: 'https://files.example.com/ok.jpg?a=1&b=<2>' },
  ];
  lead.pageUrl = 'javascript:alert(5)';
  return lead;
}

describe('renderLeadEmail', () => {
  it('puts everything in both parts, in the same order', () => {
    const { subject, html, text } = renderLeadEmail(sampleLead());
    expect(subject).toBe('New lead: Ana Lopez - Grinding noise when braking');
    const order = [
      'Ana Lopez',
      '(650) 555-0123',
      'ana.lopez@example.com',
      'Call',
      'Text',
      'Email',
      'Open chat page',
      'OpenAI logs',
      'grinding noise when braking on her',
      'Photo of the wheel attached',
      'Mileage',
      'Call Ana to book',
      'Confirm the grinding',
      'Recibimos su mensaje',
      'Su consulta sobre los frenos',
      'Gracias por escribirnos',
      'Hola Ana, le escribimos',
      'Transcript',
      'makes a grinding noise',
      'wheel.jpg',
    ];
    for (const part of [html, text.replace('TRANSCRIPT', 'Transcript')]) {
      let at = -1;
      for (const needle of order) {
        const next =
          part.indexOf(needle.replace(/'/g, '&#39;'), at + 1) >= 0
            ? part.indexOf(needle.replace(/'/g, '&#39;'), at + 1)
            : part.indexOf(needle, at + 1);
        expect({ needle, found: next > at }).toEqual({ needle, found: true });
        at = next;
      }
    }
    expect(html).toContain('href="tel:+16505550123"');
    expect(html).toContain('href="sms:+16505550123');
    expect(html).toContain('href="mailto:ana.lopez@example.com?subject=');
    expect(html).toContain('href="https://platform.openai.com/logs/cthr_sample0001"');
    expect(html).toContain('href="https://craigs.autos/services/brakes"');
    expect(html).toContain('href="https://files.example.com/wheel.jpg"');
    expect(text).toContain('tel:+16505550123');
    expect(text).toContain('https://platform.openai.com/logs/cthr_sample0001');
    expect(text).toContain('[attachment] wheel.jpg (image/jpeg) https://files.example.com/wheel.jpg');
    expect(html).toContain('<meta name="color-scheme" content="light dark">');
    expect(html).toContain('role="presentation"');
  });

  it('neutralizes script, onerror and javascript: links anywhere customer or model text goes', () => {
    const { html, text } = renderLeadEmail(hostile());
    expect(html).not.toMatch(/<script/i);
    // The only image is our thumbnail of the http(s) attachment; the hostile one is text.
    const imgs = [...html.matchAll(/<img[^>]*>/gi)].map((m) => m[0]);
    expect(imgs).toHaveLength(1);
    expect(imgs[0]).toMatch(/^<img src="https:\/\/files\.example\.com\/ok\.jpg\?a=1&amp;b=%3C2%3E" alt="Photo from the customer" /);
    expect(html).not.toMatch(/<a href="javascript:/i);
    expect(html).not.toMatch(/href="javascript:/i);
    expect(html).not.toMatch(/<[a-z][^>]*\son[a-z]+=/i); // no real tag carries an event handler
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;&amp;');
    expect(html).not.toContain('Open chat page'); // a javascript: page URL is not a link
    expect(html).toContain('href="https://files.example.com/ok.jpg?a=1&amp;b=%3C2%3E"');
    // Every href is one of the schemes we build, never something the customer wrote.
    for (const [, href] of html.matchAll(/href="([^"]*)"/g)) expect(href).toMatch(/^(https:|tel:\+|sms:\+|mailto:)/);
    expect(text).not.toContain('javascript:alert(4)');
  });

  it('keeps the subject on one line, without header injection, at most 150 characters', () => {
    const { subject } = renderLeadEmail(hostile());
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject.startsWith('New lead: Eve')).toBe(true);
    expect(subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
    const long = sampleLead();
    long.summary!.project_summary = 'x'.repeat(500);
    const s = renderLeadEmail(long).subject;
    expect(s.length).toBe(SUBJECT_MAX);
    expect(s.endsWith('…')).toBe(true);
    const sep = sampleLead();
    sep.summary!.customer_name = 'A\u2028B\u0085C\u0000D';
    expect(renderLeadEmail(sep).subject).toBe('New lead: A B C D - Grinding noise when braking');
    // Direction overrides and lone surrogates too: the subject cannot read as another number.
    const bidi = sampleLead();
    bidi.summary!.customer_name = 'Eve\u202e9910-555 )009( llaC\ud800';
    expect(renderLeadEmail(bidi).subject).toBe('New lead: Eve 9910-555 )009( llaC - Grinding noise when braking');
  });

  it('falls back to the phone, then the email, then "website visitor" in the subject', () => {
    const l = sampleLead();
    l.summary!.customer_name = null;
    expect(renderLeadEmail(l).subject).toBe('New lead: +16505550123 - Grinding noise when braking');
    l.contacts.phones = [];
    expect(renderLeadEmail(l).subject).toBe('New lead: ana.lopez@example.com - Grinding noise when braking');
    l.contacts.emails = [];
    expect(renderLeadEmail(l).subject).toBe('New lead: website visitor - Grinding noise when braking');
  });

  it('marks an email without a summary "AI summary unavailable", contacts and transcript intact', () => {
    const l = sampleLead();
    l.summary = null;
    const { subject, html, text } = renderLeadEmail(l);
    expect(subject).toBe('New lead: +16505550123 - AI summary unavailable');
    for (const part of [html, text]) {
      expect(part).toContain('AI summary unavailable');
      expect(part).toContain('ana.lopez@example.com');
      expect(part).toContain('makes a grinding noise when I brake');
      expect(part).not.toContain('Call script');
    }
    expect(html).toContain('href="tel:+16505550123"');
  });
});

describe('one content, two renderings', () => {
  it('every section of the content shows in both the HTML and the text part, in the same order', () => {
    const lead = sampleLead(6);
    lead.flags = { urgent: true, followUp: { threadId: 'cthr_earlier', sentAt: 1796000000 } };
    const content = leadEmailContent(lead);
    const { html, text } = renderLeadEmail(lead);
    const marks: Record<string, [string, string]> = {
      notes: ['Urgent: the customer', '!! Urgent: the customer'],
      header: ['New lead for', 'New lead for'],
      contacts: ['>Contact</h2>', 'CONTACT'],
      actions: ['>Quick actions</h2>', 'QUICK ACTIONS'],
      summary: ['>Summary</h2>', 'SUMMARY'],
      script: ['>Call script</h2>', 'CALL SCRIPT'],
      drafts: ['>Drafts to copy</h2>', 'DRAFTS TO COPY'],
      transcript: ['>Transcript (6 messages)</h2>', 'TRANSCRIPT'],
      footer: ['Thread cthr_sample0001 ·', 'Thread cthr_sample0001'],
    };
    const kinds = content.sections.map((s) => (s.kind === 'list' ? s.title : s.kind));
    expect(kinds).toEqual([...Object.keys(marks).slice(0, 5), 'Key details', 'Missing info', 'Next steps', ...Object.keys(marks).slice(5)]);
    const order = (doc: string, i: 0 | 1) => Object.values(marks).map((m) => doc.indexOf(m[i]));
    for (const [doc, i] of [
      [html, 0],
      [text, 1],
    ] as const) {
      const at = order(doc, i);
      expect(at.every((x) => x >= 0)).toBe(true);
      expect([...at].sort((a, b) => a - b)).toEqual(at);
    }
    for (const title of ['Key details', 'Missing info', 'Next steps']) {
      expect(html).toContain(`>${title}</h2>`);
      expect(text).toContain(title.toUpperCase());
    }
  });
});

describe('a lead the customer asked to be called back about (the chat’s form)', () => {
  it('says so first: in the subject, in the notes, with the form’s phone marked in both parts', () => {
    const lead = sampleLead(6, { callback: true });
    const { subject, html, text } = renderLeadEmail(lead);
    expect(subject).toBe('Callback requested: Tomorrow morning: Ana Lopez - Grinding noise when braking');
    expect(text).toContain(
      "Callback requested: Tomorrow morning. The customer asked for a call back at (650) 555-0123 through the chat's form",
    );
    expect(text).toContain('Phone: (650) 555-0123  tel:+16505550123  sms:+16505550123  (callback form)');
    expect(html).toContain('(callback form)');
    expect(text.indexOf('Callback requested')).toBeLessThan(text.indexOf('CONTACT'));
  });

  it('without a best time asks for the call as soon as possible; a picked drop-off time is the lead’s kind; names are escaped', () => {
    const lead = sampleLead(6);
    lead.flags = { callback: { phone: '+16505550123', name: `Eve${evil}\r\nBcc: x@example.com`, bestTime: null, textOk: false } };
    const { subject, html, text } = renderLeadEmail(lead);
    expect(subject.startsWith('Callback requested: as soon as possible: ')).toBe(true);
    expect(text).toContain('no texts');
    expect(html).not.toContain('<script>');
    expect(text).not.toMatch(/\r|\nBcc:/);
    lead.flags = { dropOff: { label: 'Tomorrow, Dec 3, 8 am', time: '2026-12-03T08:00:00-08:00' } };
    expect(renderLeadEmail(lead).subject).toBe('Preferred drop-off: Tomorrow, Dec 3, 8 am: Ana Lopez - Grinding noise when braking');
  });
});

describe('an update to a lead already sent (a callback requested afterwards)', () => {
  const update = (over: Partial<RequestUpdateInput> = {}): RequestUpdateInput => {
    const lead = sampleLead(4);
    return {
      shop: lead.shop,
      threadId: lead.threadId,
      pageUrl: lead.pageUrl,
      leadSentAt: Date.parse('2030-03-17T17:46:40Z') / 1000,
      request: { callback: { phone: '+14085550142', name: `Ana${evil}`, bestTime: 'Tomorrow morning', textOk: false } },
      contacts: { phones: ['+14085550142', '+14085550143'], emails: [] },
      lines: lead.lines.slice(-1),
      ...over,
    };
  };

  it('says what was asked and which lead it updates, not a new lead: no summary, only what came after', () => {
    const { subject, html, text } = renderRequestUpdate(update());
    expect(subject).toBe(`Callback requested: Tomorrow morning: Ana${evil} - update to the lead of Mar 17, 10:46 AM`);
    expect(text).toContain("!! Update to this conversation's lead, which went out Mar 17, 10:46 AM: not a new lead.");
    expect(text).toContain('Phone: (408) 555-0142  tel:+14085550142  sms:+14085550142  (callback form)');
    expect(text).toContain('SINCE THE LEAD');
    expect(text).not.toContain('SUMMARY');
    expect(html).toContain('Since the lead (1 messages)');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('sent once per request');
  });

  it('a drop-off time picked afterwards is an update too', () => {
    const { subject } = renderRequestUpdate(update({ request: { dropOff: { label: 'Thu 8:00 AM', time: '2030-03-21T08:00:00-07:00' } } }));
    expect(subject).toMatch(/^Preferred drop-off: Thu 8:00 AM: \(?\+?1?408/);
  });
});
