import { z } from 'zod';

/** The summary the model must return (strict Structured Outputs: every key present, nothing else). */
export const LeadSummarySchema = z.object({
  handoff_ready: z.boolean().describe('True only when the customer gave a phone number or email AND the project is explicit.'),
  handoff_reason: z.string().describe('Why handoff_ready is true or false, in one sentence.'),
  customer_name: z.string().nullable().describe('The name the customer gave, or null.'),
  customer_language: z.string().describe('The language the customer wrote in, as an English name, e.g. English, Spanish.'),
  vehicle: z
    .object({
      year: z.number().int().nullable(),
      make: z.string().nullable(),
      model: z.string().nullable(),
    })
    .nullable()
    .describe('The vehicle, only as stated; null when no vehicle was mentioned.'),
  project_summary: z.string().describe('The job in a few words, e.g. "Front brake pads squealing".'),
  summary: z.string().describe('Two to four sentences in English for the shop.'),
  key_details: z.array(z.string()).describe('Facts the customer stated, in English.'),
  missing_info: z.array(z.string()).describe('What the shop still needs to ask, in English.'),
  next_steps: z.array(z.string()).describe('What the shop should do next, in English.'),
  call_script_prompts: z.array(z.string()).length(3).describe('Exactly three things to say or ask on the call, in English.'),
  outreach_message: z.string().describe("A short first message to the customer, in the customer's language."),
  sms_draft: z.string().describe("An SMS to the customer (at most 320 characters), in the customer's language."),
  email_subject: z.string().describe("An email subject to the customer, in the customer's language."),
  email_body: z.string().describe("An email body to the customer, in the customer's language."),
  urgency: z
    .enum(['normal', 'urgent'])
    .describe('urgent only when the customer said the car is unsafe or will not start or drive, they are stranded, or they need a tow.'),
  lead_kind: z
    .enum(['customer', 'spam', 'test', 'vendor', 'job_seeker'])
    .describe('From explicit facts only: spam, a test of the chat, a vendor selling to the shop, a job seeker; else customer.'),
});

export type LeadSummary = z.infer<typeof LeadSummarySchema>;
