export { renderLeadEmail } from './render';
export {
  leadEmailContent,
  buildSubject,
  subjectPrefix,
  callbackLine,
  leadKind,
  oneLine,
  SUBJECT_MAX,
  type LeadEmailContent,
  type Section,
  type LeadEmailInput,
  type LeadFlags,
  type RenderedEmail,
} from './content';
export { esc, renderHtml } from './html';
export { renderRequestUpdate, requestUpdateContent, requestKind, type RequestUpdateInput } from './update';
export { renderText } from './text';
export { sampleLead } from './sample';
