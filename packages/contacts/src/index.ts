export { isSendableAddress, isE164, E164, EMAIL_CANDIDATE, mayHoldContact, withoutInvisible } from './address';
export { extractContacts, phoneFromField, countryOf, type Contacts, type ContactOptions, type ContactSourceLine } from './extract';
export { formatPhone } from './format';
