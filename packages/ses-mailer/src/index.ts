export { buildMime, encodeHeader, assertAddresses, InvalidAddressError, type OutgoingEmail } from './mime';
export { sendEmail, createSesClient, EmailSendError } from './send';
