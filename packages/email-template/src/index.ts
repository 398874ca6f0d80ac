export { renderLeadEmail, buildSubject, esc, oneLine, SUBJECT_MAX, type LeadEmailInput, type RenderedEmail } from './render';
export { sampleLead } from './sample';
