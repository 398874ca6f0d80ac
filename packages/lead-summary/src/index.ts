export { LeadSummarySchema, type LeadSummary } from './schema';
export { leadSummaryInstructions, LEAD_SUMMARY_PROMPT_VERSION } from './instructions';
export { summarizeLead, summaryInput, SUMMARY_FORMAT, type SummarizeInput, type SummaryOutcome, type SummaryFailure } from './summarize';
