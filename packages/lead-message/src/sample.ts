import type { LeadEmailInput } from './content';

/**
 * A realistic lead, for the sample email in docs/ and for tests and benchmarks; with `callback`,
 * the customer also asked for a call back through the chat's form (its line ends the transcript),
 * as the docs' sample shows.
 */
export function sampleLead(messages = 8, opts: { callback?: boolean } = {}): LeadEmailInput {
  const callback = opts.callback ?? false;
  const base = Date.UTC(2026, 10, 24, 17, 5) / 1000;
  const script: Array<[string, string]> = [
    ['customer', 'Hola, my 2014 Honda Civic makes a grinding noise when I brake.'],
    [
      'assistant',
      'I am sorry to hear that! Grinding often means the pads are worn. Can you tell me your name and the best way to reach you?',
    ],
    ['customer', 'Soy Ana Lopez. Mi celular es (650) 555-0123 y mi correo ana.lopez@example.com'],
    ['assistant', 'Gracias, Ana. ¿Desde cuándo escucha el ruido?'],
    ['customer', 'Desde hace una semana. Here is a photo of the wheel.'],
    ['assistant', 'Thank you. Our team will call you to set up an inspection.'],
  ];
  const lines = Array.from({ length: messages }, (_, n) => {
    const [role, text] = script[n % script.length]!;
    const customer = role === 'customer';
    return {
      itemId: `cthi_${n}`,
      createdAt: base + n * 40,
      role: customer ? ('customer' as const) : ('assistant' as const),
      speaker: customer ? 'Customer' : 'Roxana',
      text,
      quote: null,
      attachments:
        n % script.length === 4
          ? [{ id: 'atc_sample', name: 'wheel.jpg', mimeType: 'image/jpeg', previewUrl: 'https://files.example.com/wheel.jpg' }]
          : [],
    };
  });
  if (callback)
    lines.push({
      itemId: 'cthi_callback',
      createdAt: base + messages * 40,
      role: 'customer' as const,
      speaker: 'Customer',
      text: 'Callback requested (form): name Ana Lopez, phone +16505550123, best time Tomorrow morning, OK to text',
      quote: null,
      attachments: [],
    });
  return {
    ...(callback ? { flags: { callback: { phone: '+16505550123', name: 'Ana Lopez', bestTime: 'Tomorrow morning', textOk: true } } } : {}),
    shop: { name: "Craig's Autos", phone: '+14083793820', assistantName: 'Roxana', timezone: 'America/Los_Angeles' },
    threadId: 'cthr_sample0001',
    reason: 'pagehide',
    pageUrl: 'https://craigs.autos/services/brakes',
    contacts: { emails: ['ana.lopez@example.com'], phones: ['+16505550123'] },
    summary: {
      handoff_ready: true,
      handoff_reason: 'The customer gave a phone number and an email and described the brake problem.',
      customer_name: 'Ana Lopez',
      customer_language: 'Spanish',
      vehicle: { year: 2014, make: 'Honda', model: 'Civic' },
      project_summary: 'Grinding noise when braking',
      summary:
        'Ana Lopez reports a grinding noise when braking on her 2014 Honda ' +
        'Civic, for about a week. She sent a photo of the wheel and wants a call.',
      key_details: ['2014 Honda Civic', 'Grinding noise when braking', 'Started about a week ago', 'Photo of the wheel attached'],
      missing_info: ['Mileage', 'Preferred appointment time'],
      next_steps: ['Call Ana to book a brake inspection', 'Review the wheel photo before the call'],
      call_script_prompts: [
        'Confirm the grinding happens every time she brakes.',
        'Ask for the mileage and when the brakes were last serviced.',
        'Offer the next inspection slot that suits her.',
      ],
      outreach_message:
        "Hola Ana, le escribimos de Craig's Autos sobre el ruido de frenos de su Civic. ¿Cuándo le conviene que la llamemos?",
      sms_draft: "Hola Ana, somos Craig's Autos. Recibimos su mensaje sobre los frenos de su Civic. ¿Le llamamos hoy?",
      email_subject: 'Su consulta sobre los frenos de su Honda Civic',
      email_body:
        "Hola Ana,\n\nGracias por escribirnos. Nos gustaría revisar los frenos de su Civic. ¿Qué día le conviene?\n\nCraig's Autos",
      urgency: 'normal',
      lead_kind: 'customer',
    },
    lines,
  };
}
