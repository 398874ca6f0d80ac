export { renderLeadEmail, buildSubject, esc, oneLine, safeHttpUrl, SUBJECT_MAX, type LeadEmailInput, type RenderedEmail } from './render';
export { sampleLead } from './sample';
