import type { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { ChannelError } from './errors';

/** The SDK, loaded on first use: a lead without SMS never pays for it. */
const sdk = () => import('@aws-sdk/client-pinpoint-sms-voice-v2');

/** A client (AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2 is honoured by the SDK: the local stack's stand-in). */
export async function createSmsClient(): Promise<PinpointSMSVoiceV2Client> {
  const { PinpointSMSVoiceV2Client: Client } = await sdk();
  return new Client({ maxAttempts: 2 });
}

/** One text to one owner phone, from the stage's origination identity; answers the MessageId. */
export async function sendSms(
  client: PinpointSMSVoiceV2Client,
  m: { originationIdentity: string; to: string; text: string; timeoutMs: number },
): Promise<string> {
  const { SendTextMessageCommand } = await sdk();
  try {
    const out = await client.send(
      new SendTextMessageCommand({
        OriginationIdentity: m.originationIdentity,
        DestinationPhoneNumber: m.to,
        MessageBody: m.text,
        MessageType: 'TRANSACTIONAL',
      }),
      { abortSignal: AbortSignal.timeout(m.timeoutMs) },
    );
    if (!out.MessageId) throw new ChannelError('sms', 'NoMessageId');
    return out.MessageId;
  } catch (e) {
    if (e instanceof ChannelError) throw e;
    const name = (e as Error)?.name ?? 'Error';
    throw new ChannelError('sms', name === 'AbortError' || name === 'TimeoutError' ? 'timeout' : name.slice(0, 60), { cause: e });
  }
}
