export { buildMime, encodeHeader, assertAddresses, InvalidAddressError, MAX_HEADER_LINE, type OutgoingEmail } from './mime';
export { sendEmail, createSesClient, EmailSendError } from './send';
